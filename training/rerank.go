package training

import (
	"fmt"
	"slices"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/internal/parallel"
	"github.com/patron-crm/patron/models/gbt"
	"github.com/patron-crm/patron/models/recommend"
	"github.com/patron-crm/patron/training/eval"
)

// RerankReport says how the re-ranking stage of recommendations was fitted
// on the validation window, and whether it was kept.
type RerankReport struct {
	// Kept is true when the re-ranked lists beat the plain vote on the
	// held-out half of the validation customers.
	Kept bool `json:"kept"`
	// Why explains a re-ranker that was not kept or not fitted.
	Why string `json:"why,omitempty"`
	// Rows and Positives count the candidate rows the model was fitted on
	// and those the customer went on to buy.
	Rows      int `json:"rows"`
	Positives int `json:"positives"`
	Trees     int `json:"trees"`
	// HeldOutNDCG10 is NDCG@10 on task "new" for the held-out customers:
	// the plain vote, then re-ranked by the model fitted on the other half.
	HeldOutCustomers int        `json:"held_out_customers"`
	HeldOutNDCG10    [2]float64 `json:"held_out_ndcg10_new"`
	Params           gbt.Params `json:"params"`
}

// rerankParams are the boosted trees of the re-ranker: shallow trees and a
// small step, with early stopping on the held-out half deciding how many.
var rerankParams = gbt.Params{Trees: 200, Depth: 3, LearningRate: 0.1, MinLeaf: 150, Subsample: 0.5, Bins: 32, EarlyStopping: 20}

// fitReranker fits the re-ranking model of m's candidates on split (a
// validation window: m fitted on the orders before it): each candidate of a
// test customer is a row, labelled 1 when the customer bought the item in
// the window. The trees are fitted on one half of the customers with early
// stopping on the other, and the model is kept only if it raises NDCG@10
// (task "new") on that other half; it is then refitted on all customers
// with the number of trees found. It returns nil when not kept.
func fitReranker(split *eval.RankSplit, m *recommend.Recommender, ds *features.Dataset, seed uint64) (*gbt.Model, RerankReport, error) {
	p := rerankParams
	p.Seed = seed
	rep := RerankReport{Params: p}
	fitHalf, heldOut := split.Halves(seed)
	xa, ya := rerankRows(fitHalf, m, ds)
	xb, yb := rerankRows(heldOut, m, ds)
	d := len(recommend.RerankFeatureNames)
	if countOnes(ya) < 20 || countOnes(yb) < 20 {
		rep.Why = fmt.Sprintf("too few bought candidates to learn from (%d and %d)", countOnes(ya), countOnes(yb))
		return nil, rep, nil
	}
	// The refit on all rows runs beside the fit on half of them, and keeps
	// as many trees as early stopping keeps there (gbt.Growth: its first k
	// trees are those of a k-round fit).
	x := append(slices.Clip(xa), xb...)
	y := append(slices.Clip(ya), yb...)
	all := p
	all.EarlyStopping = 0
	refit := gbt.StartFit(x, len(y), d, y, all)
	half, err := gbt.Fit(xa, len(ya), d, ya, p, xb, len(yb), yb)
	if err != nil {
		refit.Keep(0)
		return nil, rep, fmt.Errorf("recommendations: re-ranker: %w", err)
	}
	rep.HeldOutCustomers = len(heldOut.Customers)
	rep.HeldOutNDCG10[0] = heldOut.Evaluate("vote", eval.TaskNew, Ranker(m, ds)).NDCG(10)
	rep.HeldOutNDCG10[1] = heldOut.Evaluate("re-ranked", eval.TaskNew, Ranker(m.WithReranker(half), ds)).NDCG(10)
	if rep.HeldOutNDCG10[1] <= rep.HeldOutNDCG10[0] {
		refit.Keep(0)
		rep.Why = "no better than the plain vote on the held-out customers"
		return nil, rep, nil
	}
	p.Trees, p.EarlyStopping = half.NumTrees(), 0
	full, err := refit.Keep(half.NumTrees())
	if err != nil {
		return nil, rep, fmt.Errorf("recommendations: re-ranker: %w", err)
	}
	rep.Kept, rep.Rows, rep.Positives, rep.Trees, rep.Params = true, len(y), countOnes(y), full.NumTrees(), p
	return full, rep, nil
}

// rerankRows returns the candidate feature rows of split's test customers
// with "new" purchases, and their labels, in the customers' order (their
// candidates are computed in parallel).
func rerankRows(split *eval.RankSplit, m *recommend.Recommender, ds *features.Dataset) (x, y []float64) {
	samples := make([]recommend.RerankSample, len(split.Customers))
	parallel.For(len(samples), func(k int) {
		if len(split.TruthNew[k]) > 0 {
			samples[k], _ = m.RerankCandidates(ds.Customers.Name(split.Customers[k]))
		}
	})
	for k, s := range samples {
		truth := split.TruthNew[k]
		x = append(x, s.X...)
		for _, id := range s.Items {
			label := 0.0
			if i, ok := ds.Items.Index(id); ok {
				if _, bought := slices.BinarySearch(truth, i); bought {
					label = 1
				}
			}
			y = append(y, label)
		}
	}
	return x, y
}

func countOnes(y []float64) int {
	n := 0
	for _, v := range y {
		if v == 1 {
			n++
		}
	}
	return n
}
