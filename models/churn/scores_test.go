package churn

import (
	"math"
	"strings"
	"testing"
)

func TestReasonsReadTrue(t *testing.T) {
	medians := map[string]float64{"recency_days": 30, "recency_over_gap": 1, "frequency": 3, "spend_trend_90d": 0,
		"log_orders_180d": math.Log1p(4), "log_spend_180d": math.Log1p(500)}
	tests := []struct {
		name string
		v    float64
		row  map[string]float64
		want string // "" = no reason
	}{
		{"recency_days", 120, map[string]float64{"recency_days": 120, "mean_gap_days": 40, "recency_over_gap": 3, "frequency": 5}, "no order for 120 days, 3.0x their usual gap of 40 days"},
		// A one-time buyer has no usual gap of their own (the median stands in).
		{"recency_days", 120, map[string]float64{"recency_days": 120, "mean_gap_days": 40, "recency_over_gap": 3, "frequency": 1}, "no order for 120 days"},
		{"recency_days", 10, map[string]float64{"recency_days": 10}, ""}, // more recent than the median: not a reason
		{"frequency", 1, map[string]float64{"frequency": 1}, "has ordered only once"},
		{"spend_trend_90d", -0.9163, map[string]float64{}, "spend fell 60% in the last 90 days"},
		{"log_recency_days", 4.8, map[string]float64{"recency_days": 120, "frequency": 1}, "no order for 120 days"},
		{"log_orders_180d", math.Log1p(2), map[string]float64{}, "only 2 orders in the last 180 days"},
		{"log_orders_180d", 0, map[string]float64{}, "no order in the last 180 days"},
		{"log_orders_180d", math.Log1p(9), map[string]float64{}, ""}, // above the median: not a reason
		{"log_spend_180d", math.Log1p(120), map[string]float64{}, "spent only 120 in the last 180 days"},
		{"log_spend_180d", 0, map[string]float64{}, "spent nothing in the last 180 days"},
		{"unknown_feature", 1, map[string]float64{}, ""},
	}
	for _, tc := range tests {
		got := Reason(tc.name, tc.v, tc.row, medians)
		if got != tc.want {
			t.Errorf("Reason(%s, %v) = %q, want %q", tc.name, tc.v, got, tc.want)
		}
	}
	if r := Reason("return_share", 0.5, map[string]float64{}, map[string]float64{"return_share": 0}); !strings.Contains(r, "50%") {
		t.Errorf("return share: %q", r)
	}
}

func TestScoreRoundTrip(t *testing.T) {
	s := Score{Probability: 0.7, Band: "high", Reasons: []string{"a", "b"}, ValueAtRisk: 12.5}
	var got Score
	if err := DecodeScore(AppendScore(nil, &s), &got); err != nil || got.Band != "high" || len(got.Reasons) != 2 || got.ValueAtRisk != 12.5 {
		t.Fatalf("%+v %v", got, err)
	}
	b := AppendScore(nil, &s)
	for n := 0; n < len(b); n++ {
		if err := DecodeScore(b[:n], &got); err == nil {
			t.Fatalf("truncated record of %d bytes accepted", n)
		}
	}
}
