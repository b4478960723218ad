package churn

import (
	"strings"
	"testing"
)

func TestReasonsReadTrue(t *testing.T) {
	medians := map[string]float64{"recency_days": 30, "recency_over_gap": 1, "frequency": 3, "spend_trend_90d": 0}
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
