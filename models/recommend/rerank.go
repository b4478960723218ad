package recommend

import (
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/internal/learn"
	"github.com/patron-crm/patron/models/buyagain"
	"github.com/patron-crm/patron/models/gbt"
)

// Re-ranking is a second stage over each customer's candidates (the
// RerankDepth best "because you bought" items they have not bought, topped
// up with trending items): a classifier learns, from what customers
// went on to buy in a validation window, the probability that a candidate is
// bought, from the candidate's vote and rank and from what the vote does not
// see: how the item sells now (orders in the last 30 days against the 90
// before, age, days since its last sale), how it is priced against what the
// customer usually pays, and how active the customer is. Candidates are then
// ordered by that probability. This is pointwise learning to rank with
// boosted trees (Li, Burges & Wu 2007, "McRank: learning to rank using
// multiple classification and gradient boosting", NIPS); models/gbt fits it.
//
// Training (training/recs.go) fits it on a validation window and keeps it
// only when it beats the plain vote on held-out validation customers; the
// re-ranked lists are computed when the bundle is written, so serving does
// the same bounded work as without it.

// RerankFeatureNames name the columns of a candidate's feature row.
var RerankFeatureNames = []string{
	"log_rank",              // log(1 + position in the vote order); fill items after the voted ones
	"vote",                  // vote / best vote among the customer's candidates; 0 for fill items
	"fill",                  // 1 for a trending item added to fill the list
	"log_item_orders",       // log(1 + orders holding the item, all time)
	"log_item_orders_30d",   // log(1 + orders holding it in the last 30 days)
	"log_item_orders_prior", // log(1 + orders holding it 30 to 120 days ago)
	"item_trend",            // log((orders_30d + 1) / (orders_prior / 3 + 1))
	"log_item_age_days",     // log(1 + days since its first sale)
	"log_item_idle_days",    // log(1 + days since its last sale)
	"log_customer_items",    // log(1 + distinct items the customer bought)
	"log_customer_recency",  // log(1 + days since the customer's last order)
	"log_customer_orders",   // log(1 + the customer's orders)
	"relative_price",        // log(1 + item's mean unit price) - the customer's mean of it over their items
	"name_affinity",         // idf-weighted share of the item's name words found in the names of the customer's items
}

// itemStats are the per-item inputs of the re-ranking features, as of the
// fit date.
type itemStats struct {
	orders, recent, prior []float32 // log(1+x) of order counts: all, last 30 days, 30-120 days
	trend                 []float32
	buyers                []float32 // log(1 + distinct customers who bought the item in the last RecentBuyersDays days)
	age, idle             []float32 // log(1+days)
	logPrice              []float32 // log(1 + mean unit price)
	words                 [][]int32 // name words, by item
	idf                   []float32 // by word
}

// RecentBuyersDays is the window of itemStats.buyers, the item's recent
// buyers (the b_i of models/buyagain): on the validation window of the
// README 7 / 14 / 21 / 30 / 60 days gave NDCG@10 all 0.4382 / 0.4389 /
// 0.4377 / 0.4364 / 0.4355 with buyagain.Params.BuyersPower 0.2.
const RecentBuyersDays = 14

func newItemStats(ds *features.Dataset, asOf time.Time) *itemStats {
	n := ds.Items.Len()
	at := asOf.Unix()
	orders, recent, prior := make([]float64, n), make([]float64, n), make([]float64, n)
	first, last := make([]int64, n), make([]int64, n)
	value, qty := make([]float64, n), make([]float64, n)
	var pairs []uint64 // item<<32 | customer, for the orders of the last RecentBuyersDays days
	for i := range first {
		first[i] = math.MaxInt64
	}
	for o, ord := range ds.Orders {
		if ord.Time >= at {
			break
		}
		age := float64(at-ord.Time) / 86400
		for k := ds.OrderItems.Ptr[o]; k < ds.OrderItems.Ptr[o+1]; k++ {
			i := ds.OrderItems.Idx[k]
			orders[i]++
			switch {
			case age <= 30:
				recent[i]++
			case age <= 120:
				prior[i]++
			}
			if age <= RecentBuyersDays && ord.Customer >= 0 {
				pairs = append(pairs, uint64(i)<<32|uint64(ord.Customer))
			}
			first[i], last[i] = min(first[i], ord.Time), max(last[i], ord.Time)
			value[i] += ds.OrderItemValue[k]
			qty[i] += ds.OrderItems.Val[k]
		}
	}
	s := &itemStats{orders: make([]float32, n), recent: make([]float32, n), prior: make([]float32, n), trend: make([]float32, n),
		buyers: make([]float32, n), age: make([]float32, n), idle: make([]float32, n), logPrice: make([]float32, n)}
	// Distinct (item, customer) pairs: guests, who cannot be told apart,
	// do not count.
	slices.Sort(pairs)
	buyers := make([]float64, n)
	for _, p := range slices.Compact(pairs) {
		buyers[p>>32]++
	}
	for i := range n {
		s.orders[i] = float32(math.Log1p(orders[i]))
		s.recent[i] = float32(math.Log1p(recent[i]))
		s.prior[i] = float32(math.Log1p(prior[i]))
		s.trend[i] = float32(math.Log((recent[i] + 1) / (prior[i]/3 + 1)))
		s.buyers[i] = float32(math.Log1p(buyers[i]))
		if orders[i] > 0 {
			s.age[i] = float32(math.Log1p(float64(at-first[i]) / 86400))
			s.idle[i] = float32(math.Log1p(float64(at-last[i]) / 86400))
		}
		if qty[i] > 0 && value[i] > 0 {
			s.logPrice[i] = float32(math.Log1p(value[i] / qty[i]))
		}
	}
	s.words, s.idf = nameWords(ds.ItemName, orders)
	return s
}

// nameWords splits each item's name into words (runs of at least three
// letters, upper-cased) and gives every word its inverse document
// frequency among the items sold before the fit date (sold[i]: orders
// holding item i), idf(w) = log(items sold / sold items whose name has w).
// Rare words ("RETROSPOT", "CHRISTMAS") say more about a customer's taste
// than common ones ("SET", "BAG").
func nameWords(names []string, sold []float64) (words [][]int32, idf []float32) {
	index := map[string]int32{}
	words = make([][]int32, len(sold))
	var df []float64
	nSold := 0.0
	notLetter := func(r rune) bool { return !unicode.IsLetter(r) }
	for i := range min(len(names), len(sold)) {
		if sold[i] > 0 {
			nSold++
		}
		for _, w := range strings.FieldsFunc(strings.ToUpper(names[i]), notLetter) {
			if utf8.RuneCountInString(w) < 3 {
				continue
			}
			id, ok := index[w]
			if !ok {
				id = int32(len(df))
				index[w] = id
				df = append(df, 0)
			}
			if slices.Contains(words[i], id) {
				continue
			}
			words[i] = append(words[i], id)
			if sold[i] > 0 {
				df[id]++
			}
		}
	}
	idf = make([]float32, len(df))
	for w, c := range df {
		if c > 0 {
			idf[w] = float32(math.Log(nSold / c))
		}
	}
	return words, idf
}

// nameAffinity is the idf-weighted share of item j's name words that occur
// in the names of the customer's items (own: their words, sorted): a
// content signal that the co-purchase vote does not see.
func (st *itemStats) nameAffinity(j int32, own []int32) float64 {
	var in, all float64
	for _, w := range st.words[j] {
		all += float64(st.idf[w])
		if _, ok := slices.BinarySearch(own, w); ok {
			in += float64(st.idf[w])
		}
	}
	if all == 0 {
		return 0
	}
	return in / all
}

// reranking is what a history needs to re-rank its candidates.
type reranking struct {
	model    *gbt.Model // nil: candidates keep their vote order
	items    *itemStats
	trending []int32 // items by decayed popularity, to fill candidate lists
}

// candidateFeatures appends one row of RerankFeatureNames per candidate of
// cands (voted ones first, in vote order, then fill items with Score 0) to
// dst. c is the customer, h their history.
func (d *datasetHistories) candidateFeatures(dst []float64, own []int32, c int32, h *History, cands []Cand) ([]float64, []int32) {
	st := d.rr.items
	ords := d.ds.CustomerOrders.Of(int(c))
	recency := 0.0
	if len(ords) > 0 {
		recency = float64(d.asOf-d.ds.Orders[ords[len(ords)-1]].Time) / 86400
	}
	var price float64
	for _, it := range h.Items {
		price += float64(st.logPrice[it.Item])
	}
	if len(h.Items) > 0 {
		price /= float64(len(h.Items))
	}
	top := float32(0)
	for _, cd := range cands {
		top = max(top, cd.Score)
	}
	own = own[:0] // the words of the customer's items
	for _, it := range h.Items {
		own = append(own, st.words[it.Item]...)
	}
	slices.Sort(own)
	own = slices.Compact(own)
	customer := [3]float64{math.Log1p(float64(len(h.Items))), math.Log1p(max(0, recency)), math.Log1p(float64(len(ords)))}
	for k, cd := range cands {
		j := cd.Item
		vote, fill := 0.0, 1.0
		if cd.Score > 0 {
			vote, fill = float64(cd.Score/top), 0
		}
		dst = append(dst, math.Log1p(float64(k)), vote, fill,
			float64(st.orders[j]), float64(st.recent[j]), float64(st.prior[j]), float64(st.trend[j]),
			float64(st.age[j]), float64(st.idle[j]),
			customer[0], customer[1], customer[2], float64(st.logPrice[j])-price, st.nameAffinity(j, own))
	}
	return dst, own
}

// fillCandidates returns the first RerankDepth of v.cands, topped up to
// RerankDepth with trending items the customer has not bought and that are
// not already candidates (they are marked in v like voted items, so vote
// clears them).
func (d *datasetHistories) fillCandidates(v *voteScratch) []Cand {
	// The first RerankDepth candidates; only a shorter list grows, so the
	// appends below never overwrite the candidates after them.
	cands := v.cands[:min(len(v.cands), RerankDepth)]
	for _, j := range d.rr.trending {
		if len(cands) >= RerankDepth {
			break
		}
		if sl := &v.slots[j]; !v.own[j] && !sl.in {
			sl.in, sl.from = true, -1
			v.touched = append(v.touched, j)
			cands = append(cands, Cand{Item: j, From: -1})
		}
	}
	return cands
}

// rerank replaces the scores of cands (voted candidates in vote order, then
// fill items) by the re-ranking model's probabilities, divided by the
// largest so the best is 1 as votes are, and sorts them. It uses v's rows
// and words as scratch.
func (d *datasetHistories) rerank(c int32, h *History, cands []Cand, v *voteScratch) []Cand {
	v.rows, v.words = d.candidateFeatures(v.rows[:0], v.words, c, h, cands)
	rows, nf := v.rows, len(RerankFeatureNames)
	top := float32(0)
	for k := range cands {
		p := float32(learn.Sigmoid(d.rr.model.LogOdds(rows[k*nf : (k+1)*nf])))
		cands[k].Score = max(p, math.SmallestNonzeroFloat32)
		top = max(top, cands[k].Score)
	}
	for k := range cands {
		cands[k].Score /= top
	}
	slices.SortFunc(cands, betterCand)
	return cands
}

// appendBelow appends the candidates after the re-ranked ones (best first)
// to dst with their vote scores scaled to fall just below floor, the
// lowest re-ranked score, so that they keep their order after all of them
// (scores that rounding makes equal go by item id, as ties always do).
func appendBelow(dst, tail []Cand, floor float32) []Cand {
	if len(tail) == 0 {
		return dst
	}
	scale := floor / tail[0].Score * (1 - 1.0/1024)
	for _, c := range tail {
		c.Score = max(c.Score*scale, math.SmallestNonzeroFloat32)
		dst = append(dst, c)
	}
	return dst
}

// RerankSample is one customer's candidates with their feature rows, as the
// re-ranking model sees them, for training it.
type RerankSample struct {
	Items []string  // candidate item ids: voted ones in vote order, then fill items
	X     []float64 // len(Items) rows of RerankFeatureNames, row-major
}

// RerankCandidates returns a customer's candidates and their features
// before any re-ranking; found is false for a customer with no history.
// m must come from Fit.
func (m *Recommender) RerankCandidates(customerID string) (s RerankSample, found bool) {
	dh := m.hist.(*datasetHistories)
	c, ok := dh.ds.Customers.Index(customerID)
	if !ok || len(dh.ds.CustomerOrders.Of(int(c))) == 0 {
		return s, false
	}
	sc, ok := dh.scratch.Get().(*buyagain.Scratch)
	if !ok {
		sc = dh.scorer.NewScratch()
	}
	var h History
	dh.build(c, sc, nil, &h, voteCandidates)
	dh.scratch.Put(sc)
	cands := h.CF
	for _, cd := range cands {
		s.Items = append(s.Items, m.cat.ids[cd.Item])
	}
	s.X, _ = dh.candidateFeatures(nil, nil, c, &h, cands)
	return s, true
}

// WithReranker returns a copy of m whose candidates are re-ranked by r (nil:
// none). m must come from Fit.
func (m *Recommender) WithReranker(r *gbt.Model) *Recommender {
	rr := m.rr
	rr.model = r
	return m.derive(m.Params, rr)
}

// Reranked reports whether m re-ranks its candidates.
func (m *Recommender) Reranked() bool { return m.rr.model != nil }
