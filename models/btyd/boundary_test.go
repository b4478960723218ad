package btyd

import (
	"strings"
	"testing"
)

func TestBoundaryMessages(t *testing.T) {
	tests := []struct {
		m    BGNBD
		want string // substring of one message; "" for an interior fit
	}{
		{BGNBD{R: 0.24, Alpha: 4.4, A: 0.79, B: 2.4}, ""},
		{BGNBD{R: 0.8, Alpha: 69, A: 0.0031, B: 7.2}, "a near 0"}, // Online Retail
		{BGNBD{R: 0.8, Alpha: 69, A: 1e-5, B: 7.2}, "a → 0"},
		{BGNBD{R: 0.8, Alpha: 69, A: 0.5, B: 5e3}, "b → ∞"},
		{BGNBD{R: 5e3, Alpha: 1e5, A: 0.5, B: 2}, "r → ∞"},
	}
	for _, tc := range tests {
		got := strings.Join(bgnbdBoundary(tc.m), "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.m, got, tc.want)
		}
	}
}
