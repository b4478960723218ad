package value

import (
	"math"
	"testing"
	"time"
)

func TestSeasonalityIndex(t *testing.T) {
	// Two years of a shop trading every day: 10 transactions a day, 20 a day in December.
	start := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	asOf := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Seasonality{Start: start}
	for d := start; d.Before(asOf); d = d.AddDate(0, 0, 1) {
		c := int32(10)
		if d.Month() == time.December {
			c = 20
		}
		s.Counts = append(s.Counts, c)
	}
	base := (334*10.0 + 31*20) / 365
	tests := []struct {
		name string
		from time.Time
		days int
		want float64
	}{
		{"December", time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC), 31, 20 / ((11*30.4*10 + 31*20) / 365)},
		{"a whole year is average", asOf, 365, 1},
		{"spring", time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC), 30, 10 / base},
	}
	for _, tc := range tests {
		got := s.Index(tc.from, tc.days)
		if math.Abs(got-tc.want) > 0.02 {
			t.Errorf("%s: index %.3f, want %.3f", tc.name, got, tc.want)
		}
	}
	// No month of the window a year back in the data: no seasonality.
	short := Seasonality{Start: time.Date(2023, 9, 1, 0, 0, 0, 0, time.UTC), Counts: make([]int32, 122)}
	for i := range short.Counts {
		short.Counts[i] = 5
	}
	if got := short.Index(asOf, 90); got != 1 {
		t.Fatalf("short history: %v, want 1", got)
	}
}
