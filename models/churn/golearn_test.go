package churn

import (
	"testing"

	"github.com/patron-crm/patron/internal/learntest"
)

// The golearn forest is a reference that is not reproducible run to run
// (golearn's ID3 breaks ties in map order), so this test checks only shape,
// range and that it ranks an easy signal well.
func TestGolearnForestReference(t *testing.T) {
	n, d := 300, 2
	x := make([]float64, n*d)
	y := make([]float64, n)
	for i := range n {
		x[i*d] = float64(i % 100)
		x[i*d+1] = float64((i * 7) % 13)
		if i%100 >= 50 {
			y[i] = 1
		}
	}
	scores, err := GolearnForestReference(x, n, d, y, x[:100*d], 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 100 {
		t.Fatalf("%d scores, want 100", len(scores))
	}
	for i, s := range scores {
		if s < 0 || s > 1 {
			t.Fatalf("score %d = %v, want in [0, 1]", i, s)
		}
	}
	if a := learntest.AUC(scores, y[:100]); a < 0.9 {
		t.Errorf("golearn forest AUC = %.3f on an easy split, want >= 0.9", a)
	}
	if _, err := GolearnForestReference(x, n, d, y[:10], x, n, 1); err == nil {
		t.Error("accepted mismatched labels")
	}
}
