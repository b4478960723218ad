package segments

import (
	"fmt"
	"testing"
)

func TestRFMGrid(t *testing.T) {
	// Every cell of the grid, as in the package comment (rows R=5..1, columns F=1..5).
	want := [5][5]string{
		{New, PotentialLoyalists, PotentialLoyalists, Champions, Champions},
		{Promising, PotentialLoyalists, PotentialLoyalists, Loyal, Loyal},
		{AboutToSleep, AboutToSleep, NeedAttention, Loyal, Loyal},
		{Hibernating, Hibernating, AtRisk, AtRisk, CantLoseThem},
		{Hibernating, Hibernating, AtRisk, AtRisk, CantLoseThem},
	}
	seen := map[string]bool{}
	for row := 0; row < 5; row++ {
		for col := 0; col < 5; col++ {
			r, f := 5-row, col+1
			if got := RFM(r, f); got != want[row][col] {
				t.Errorf("RFM(%d, %d) = %s, want %s", r, f, got, want[row][col])
			}
			seen[RFM(r, f)] = true
		}
	}
	if len(seen) != len(AllSegments) {
		t.Fatalf("%d segments reachable, want %d", len(seen), len(AllSegments))
	}
}

func TestQuintilesKeepTies(t *testing.T) {
	tests := []struct {
		in   []float64
		want []int
	}{
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []int{1, 1, 2, 2, 3, 3, 4, 4, 5, 5}},
		{[]float64{1, 1, 1, 1, 1, 1, 2, 3, 4, 9}, []int{1, 1, 1, 1, 1, 1, 4, 4, 5, 5}},
		{[]float64{7}, []int{1}},
	}
	for _, tc := range tests {
		if got := Quintiles(tc.in); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Quintiles(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestAssignTiers(t *testing.T) {
	values := make([]float64, 200)
	for i := range values {
		values[i] = float64(i % 100) // ties: two customers per value
	}
	tiers := AssignTiers(values, DefaultTierCuts)
	count := map[Tier]int{}
	for _, tr := range tiers {
		count[tr]++
	}
	if count[Platinum] != 2 || count[Gold] != 8 || count[Silver] != 30 || count[Bronze] != 160 {
		t.Fatalf("tier sizes %v", count)
	}
	if tiers[99] != Platinum || tiers[199] != Platinum || tiers[0] != Bronze {
		t.Fatalf("the highest values are not platinum: %v %v %v", tiers[99], tiers[199], tiers[0])
	}
	if err := (TierCuts{Platinum: 0.5, Gold: 0.4, Silver: 0.2}).Validate(); err == nil {
		t.Fatal("shares over 1 accepted")
	}
}

func TestAssign(t *testing.T) {
	// Customer 0 bought most recently and most often, customer 9 longest ago and least.
	rec := []float64{1, 10, 20, 30, 40, 50, 60, 70, 80, 300}
	freq := []float64{20, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	r, f, names := Assign(rec, freq)
	if r[0] != 5 || f[0] != 5 || names[0] != Champions || r[9] != 1 || f[9] != 1 || names[9] != Hibernating {
		t.Fatalf("r %v f %v names %v", r, f, names)
	}
}
