package gbt

import (
	"reflect"
	"testing"

	"github.com/patron-crm/patron/internal/learntest"
)

// TestGrowthKeep: the model kept from a fit in the background is the one
// Fit grows with that many trees, whether Keep comes before the fit gets
// there or after it went further.
func TestGrowthKeep(t *testing.T) {
	x, y := learntest.XOR(3000, 0.05, 1)
	p := Params{Trees: 40, Depth: 2, LearningRate: 0.3, MinLeaf: 10, Subsample: 0.7, Seed: 3}
	for _, tc := range []struct {
		name  string
		keep  int
		after bool // Keep once the fit has grown all p.Trees
	}{
		{"early", 5, false},
		{"after it grew further", 12, true},
		{"all", 40, true},
		{"more than it grows", 60, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := StartFit(x, 3000, 2, y, p)
			if tc.after {
				<-g.done
			}
			got, err := g.Keep(tc.keep)
			if err != nil {
				t.Fatal(err)
			}
			q := p
			q.Trees = min(tc.keep, p.Trees)
			want, err := Fit(x, 3000, 2, y, q, nil, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("kept %d trees (train loss %v), Fit grew %d (train loss %v)", got.NumTrees(), got.TrainLoss, want.NumTrees(), want.TrainLoss)
			}
		})
	}
	def := p
	def.Trees = 0 // the default number of rounds
	if m, err := StartFit(x, 3000, 2, y, def).Keep(30); err != nil || m.NumTrees() != 30 {
		t.Errorf("default rounds: kept %v trees (%v), want 30", m.NumTrees(), err)
	}
	g := StartFit(x, 3000, 2, y, p)
	if m, err := g.Keep(0); m != nil || err != nil {
		t.Errorf("Keep(0) = %v, %v; want nil, nil", m, err)
	}
	if _, err := StartFit(x, 3000, 2, make([]float64, 3000), p).Keep(3); err == nil {
		t.Error("one class: no error")
	}
}
