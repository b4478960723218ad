package stats

import (
	"slices"
	"testing"
)

func TestMedianAndOrder(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{4, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}}
	for _, tc := range tests {
		if got := Median(slices.Clone(tc.in)); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := Order([]float64{0.5, 0.1, 0.5, 0.2}); !slices.Equal(got, []int{1, 3, 0, 2}) {
		t.Errorf("Order = %v", got)
	}
}
