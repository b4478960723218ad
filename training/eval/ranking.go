// Package eval measures models on time splits: train on the past, test on
// the future, never tune on the test window. This file holds the ranking
// protocol for recommendations (design.md, "Evaluation protocols").
//
// A split at a cutoff date keeps the history before it for fitting. Test
// customers are those with orders on both sides. For task "all" the truth
// is the set of distinct items a test customer bought after the cutoff; for
// task "new" it is the part of that set the customer had not bought before,
// and recommenders must leave out items already bought. Customers whose
// "new" truth is empty do not count in task "new".
//
// Metrics at K, averaged over test customers, with binary relevance:
//
//	HitRate@K   = 1 if any of the top K is in the truth
//	Precision@K = hits / K
//	Recall@K    = hits / |truth|
//	NDCG@K      = DCG / IDCG, DCG = sum over hits at rank r (1-based) of 1/log2(r+1),
//	              IDCG the DCG of min(|truth|, K) hits at the top
//
// Coverage is the share of the catalog (items sold before the cutoff) that
// appears in at least one test customer's top K.
package eval

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/patron-crm/patron/internal/hash"

	"github.com/patron-crm/patron/features"
)

// Task names an evaluation task.
type Task string

// The two recommendation tasks.
const (
	TaskAll Task = "all" // every item bought after the cutoff counts
	TaskNew Task = "new" // only items the customer had not bought before
)

// Ks are the list lengths reported.
var Ks = []int{10, 20}

// RankSplit is a time split for recommendation evaluation.
type RankSplit struct {
	Cutoff time.Time
	End    time.Time // end of the test window (exclusive); zero = no end
	// Train is the history before the cutoff, with the full data set's ids.
	Train *features.Dataset
	// Customers are the test customers, increasing; TruthAll and TruthNew
	// hold their truth sets (sorted item ids), aligned with Customers.
	Customers []int32
	TruthAll  [][]int32
	TruthNew  [][]int32
}

// NewRankSplit splits ds at cutoff; orders from end on are ignored (zero
// end: none are).
func NewRankSplit(ds *features.Dataset, cutoff, end time.Time) *RankSplit {
	s := &RankSplit{Cutoff: cutoff, End: end, Train: ds.Before(cutoff)}
	cut := cutoff.Unix()
	nCust := ds.Customers.Len()
	bought := make([]bool, ds.Items.Len())
	for c := 0; c < nCust; c++ {
		if len(s.Train.CustomerOrders.Of(c)) == 0 {
			continue
		}
		var truth []int32
		for _, o := range ds.CustomerOrders.Of(c) {
			ord := ds.Orders[o]
			if ord.Time < cut || (!end.IsZero() && ord.Time >= end.Unix()) {
				continue
			}
			items, _ := ds.OrderItems.Row(int(o))
			truth = append(truth, items...)
		}
		if len(truth) == 0 {
			continue
		}
		truth = sortedSet(truth)
		past, _ := s.Train.CustomerItems.Row(c)
		for _, i := range past {
			bought[i] = true
		}
		var fresh []int32
		for _, i := range truth {
			if !bought[i] {
				fresh = append(fresh, i)
			}
		}
		for _, i := range past {
			bought[i] = false
		}
		s.Customers = append(s.Customers, int32(c))
		s.TruthAll = append(s.TruthAll, truth)
		s.TruthNew = append(s.TruthNew, fresh)
	}
	return s
}

// Recommender returns up to k item ids for customer c, best first, appended
// to dst[:0]. With excludeBought it must leave out items c bought before the
// cutoff. It is called from several goroutines at once.
type Recommender func(c int32, k int, excludeBought bool, dst []int32) []int32

// AtK holds the metrics at one list length.
type AtK struct {
	K         int     `json:"k"`
	HitRate   float64 `json:"hit_rate"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	NDCG      float64 `json:"ndcg"`
	Coverage  float64 `json:"coverage"`
}

// RankReport is one model's result on one task.
type RankReport struct {
	Model     string `json:"model"`
	Task      Task   `json:"task"`
	Customers int    `json:"customers"`
	At        []AtK  `json:"at"`
}

// NDCG returns the report's NDCG at k (0 when k was not measured).
func (r RankReport) NDCG(k int) float64 {
	for _, a := range r.At {
		if a.K == k {
			return a.NDCG
		}
	}
	return 0
}

// Evaluate scores rec on task. Work is spread over the machine's cores; the
// result does not depend on their number (per-customer results are summed
// in customer order).
func (s *RankSplit) Evaluate(name string, task Task, rec Recommender) RankReport {
	maxK := Ks[len(Ks)-1]
	truthOf := s.TruthAll
	if task == TaskNew {
		truthOf = s.TruthNew
	}
	n := len(s.Customers)
	results := make([][]float64, n) // per customer: 4 metrics per K
	recs := make([][]int32, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			inTruth := make([]bool, s.Train.Items.Len())
			var buf []int32
			for t := w; t < n; t += workers {
				truth := truthOf[t]
				if len(truth) == 0 {
					continue
				}
				buf = rec(s.Customers[t], maxK, task == TaskNew, buf[:0])
				recs[t] = append([]int32(nil), buf...)
				for _, i := range truth {
					inTruth[i] = true
				}
				results[t] = listMetrics(buf, inTruth, len(truth))
				for _, i := range truth {
					inTruth[i] = false
				}
			}
		}(w)
	}
	wg.Wait()

	rep := RankReport{Model: name, Task: task}
	sums := make([]float64, 4*len(Ks))
	for _, r := range results {
		if r == nil {
			continue
		}
		rep.Customers++
		for j := range sums {
			sums[j] += r[j]
		}
	}
	catalog := 0
	sold := make([]bool, s.Train.Items.Len())
	for _, i := range s.Train.OrderItems.Idx {
		if !sold[i] {
			sold[i] = true
			catalog++
		}
	}
	for j, k := range Ks {
		seen := make([]bool, len(sold))
		distinct := 0
		for _, r := range recs {
			for p, i := range r {
				if p >= k {
					break
				}
				if !seen[i] {
					seen[i] = true
					distinct++
				}
			}
		}
		a := AtK{K: k}
		if rep.Customers > 0 {
			d := float64(rep.Customers)
			a.HitRate, a.Precision, a.Recall, a.NDCG = sums[4*j]/d, sums[4*j+1]/d, sums[4*j+2]/d, sums[4*j+3]/d
		}
		if catalog > 0 {
			a.Coverage = float64(distinct) / float64(catalog)
		}
		rep.At = append(rep.At, a)
	}
	return rep
}

// listMetrics returns hit, precision, recall and NDCG at each of Ks for one
// ranked list. Repeated items count once (a recommender should not repeat).
func listMetrics(list []int32, inTruth []bool, nTruth int) []float64 {
	out := make([]float64, 4*len(Ks))
	for j, k := range Ks {
		hits, dcg := 0, 0.0
		seen := map[int32]bool{}
		for r, i := range list {
			if r >= k {
				break
			}
			if inTruth[i] && !seen[i] {
				seen[i] = true
				hits++
				dcg += 1 / math.Log2(float64(r)+2)
			}
		}
		idcg := 0.0
		for r := 0; r < min(nTruth, k); r++ {
			idcg += 1 / math.Log2(float64(r)+2)
		}
		if hits > 0 {
			out[4*j] = 1
		}
		out[4*j+1] = float64(hits) / float64(k)
		out[4*j+2] = float64(hits) / float64(nTruth)
		out[4*j+3] = dcg / idcg
	}
	return out
}

// sortedSet sorts ids and removes repeats, in place.
func sortedSet(ids []int32) []int32 {
	if len(ids) < 2 {
		return ids
	}
	slices.Sort(ids)
	out := ids[:1]
	for _, v := range ids[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// Sample returns a split keeping at most n test customers, picked by a
// seeded hash of their ids, so large data sets validate in bounded time and
// the same seed picks the same customers.
func (s *RankSplit) Sample(n int, seed uint64) *RankSplit {
	if n <= 0 || len(s.Customers) <= n {
		return s
	}
	keep := hash.Sample(s.Customers, n, seed) // customers stay in increasing order
	return s.subset(keep)
}

// Halves splits the test customers in two by a seeded hash of their ids
// (about half each), for fitting on one and checking on the other.
func (s *RankSplit) Halves(seed uint64) (a, b *RankSplit) {
	var ka, kb []int
	for k, c := range s.Customers {
		if hash.ID(seed, c)&1 == 0 {
			ka = append(ka, k)
		} else {
			kb = append(kb, k)
		}
	}
	return s.subset(ka), s.subset(kb)
}

// subset returns a split with the test customers at positions keep.
func (s *RankSplit) subset(keep []int) *RankSplit {
	out := &RankSplit{Cutoff: s.Cutoff, End: s.End, Train: s.Train}
	for _, k := range keep {
		out.Customers = append(out.Customers, s.Customers[k])
		out.TruthAll = append(out.TruthAll, s.TruthAll[k])
		out.TruthNew = append(out.TruthNew, s.TruthNew[k])
	}
	return out
}
