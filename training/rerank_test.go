package training

import (
	"context"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/recommend"
	"github.com/patron-crm/patron/training/eval"
)

// TestRerankerOnlineRetail fits the re-ranker on a validation window of the
// bundled Online Retail data: it must be kept because it beats the plain
// vote on the held-out customers and learn from every candidate row (the
// trees are deterministic for a seed: see models/gbt).
func TestRerankerOnlineRetail(t *testing.T) {
	ds, err := features.ReadFile(context.Background(), "../data/online_retail.csv.gz", features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	valCut, end := time.Date(2011, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2011, 9, 1, 0, 0, 0, 0, time.UTC)
	split := eval.NewRankSplit(ds.Before(end), valCut, end)
	m, err := recommend.FitForRanking(split.Train, valCut, recommend.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	r1, rep, err := fitReranker(split, m, ds, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	if !rep.Kept || r1 == nil || !(rep.HeldOutNDCG10[1] > rep.HeldOutNDCG10[0]) {
		t.Fatalf("re-ranker not kept: %+v", rep)
	}
	if rep.Rows < 50*rep.HeldOutCustomers || rep.Positives == 0 || rep.Trees != r1.NumTrees() {
		t.Errorf("report %+v", rep)
	}
}
