package recommend

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/internal/topk"
	"github.com/patron-crm/patron/models/buyagain"
	"github.com/patron-crm/patron/models/itemsim"
)

// HistItem is one item a customer bought before the as-of date.
type HistItem struct {
	Item   int32   // dense item id of the bundle's catalog
	Orders int32   // the customer's orders holding it
	Last   int64   // Unix seconds of the last of them
	Weight float32 // recency weight for "because you bought"
	Rebuy  float32 // buy-again score
	// IntervalDays is the mean time between the customer's orders of the
	// item (0 when bought once), for "time to reorder" reasons.
	IntervalDays float32
}

// History is a customer's items, heaviest Weight first (ties: lower item
// id), and their personal candidates.
type History struct {
	Items []HistItem
	// CF are the "because you bought" scores, computed once when the
	// history is built (at training, for the bundle) so a request only reads
	// and filters them: every item the customer bought that the vote
	// reaches, and the PersonalCandidates best items they did not buy.
	// Scores are normalised to a maximum of 1.
	CF []Cand
}

// Cand is an item's personal score and the history item that gave most of it.
type Cand struct {
	Item  int32
	Score float32
	From  int32 // -1: none
}

// PersonalCandidates is how many not-yet-bought items a customer's
// precomputed list keeps: a request returns at most MaxLimit items, and
// category filters fall back on trending items.
const PersonalCandidates = 100

// RerankDepth is how many of those the re-ranker orders (the best by vote,
// topped up with trending items); the others follow in vote order. Chosen
// on held-out validation customers (Online Retail, the validation window
// of the README, mean NDCG@10 over six random halvings): 0.1830 / 0.1834 /
// 0.1835 / 0.1815 / 0.1815 / 0.1817 at 40 / 50 / 60 / 70 / 80 / 100. The
// model learns most from the candidates near the top of the vote.
const RerankDepth = 60

// historySource finds a customer's history: computed from a Dataset while
// training, read from the bundle while serving. The history it returns is
// either built in buf or shared with its cache: callers only read it.
type historySource interface {
	history(customerID string, buf *History) (h History, found bool, err error)
}

// datasetHistories computes histories from a Dataset's timelines.
type datasetHistories struct {
	ds         *features.Dataset
	asOf       int64
	halfHL     float64
	historyMax int
	scorer     *buyagain.Scorer
	personal   *itemsim.Neighbours
	rr         reranking
	scratch    sync.Pool // *buyagain.Scratch
	votes      sync.Pool // *voteScratch
	// cache keeps computed histories for evaluations, which ask for the
	// same customers again with other blend weights (nil: none).
	cache *recordCache
}

// evaluationCacheBytes bounds the history cache of a recommender fitted
// for ranking evaluations: far above what a validation sample of
// MaxValidationCustomers holds, so in practice it keeps every history.
const evaluationCacheBytes = 4 << 30

// sameHistories reports whether d and e compute the same histories, so a
// cache can be shared.
func (d *datasetHistories) sameHistories(e *datasetHistories) bool {
	return d.ds == e.ds && d.asOf == e.asOf && d.halfHL == e.halfHL && d.historyMax == e.historyMax &&
		d.personal == e.personal && d.rr.model == e.rr.model && d.rr.items == e.rr.items &&
		slices.Equal(d.rr.trending, e.rr.trending) && d.scorer.Params() == e.scorer.Params()
}

// newDatasetHistories returns the histories of ds as of asOf; repeat are
// buyagain.RepeatRates(ds), shared by the copies of a fit (nil: the
// scorer computes them if it needs them).
func newDatasetHistories(ds *features.Dataset, asOf time.Time, p Params, personal *itemsim.Neighbours, rr reranking, repeat []float64) *datasetHistories {
	sig := buyagain.Signals{Rates: repeat, Trend: rr.items.trend, LogBuyers: rr.items.buyers}
	return &datasetHistories{ds: ds, asOf: asOf.Unix(), halfHL: p.HistoryHalfLife, historyMax: p.HistoryMax,
		scorer: buyagain.New(ds, asOf, p.BuyAgain, sig), personal: personal, rr: rr}
}

// voteScratch is working memory for vote, sized to the catalog.
type voteScratch struct {
	slots   []voteSlot // by item
	own     []bool     // by item: the customer bought it
	touched []int32
	keys    []uint64 // topk.ScoreKey of the not-bought candidates
	cands   []Cand
	rows    []float64 // re-ranker feature rows
	words   []int32   // name words of the customer's items (candidateFeatures)
}

// voteSlot is an item's vote so far: the sum, its largest contribution and
// the history item that made it (-1: none), and whether the item is in
// voteScratch.touched. One struct per item keeps the hot loop of vote on
// one cache line per neighbour.
type voteSlot struct {
	acc, best float32
	from      int32
	in        bool
}

// voteMode says what vote leaves in h.CF.
type voteMode int

const (
	// voteServe: what requests read (re-ranked when there is a model).
	voteServe voteMode = iota
	// voteCandidates: only the candidates a re-ranker scores, topped up
	// with trending items, in vote order then trending order.
	voteCandidates
)

// vote computes h.CF for customer c: the customer's HistoryMax heaviest
// items vote through the personal model, cf(j) = sum_i w_i s_ij, normalised
// to a maximum of 1. With a re-ranking model, the RerankDepth best items
// the customer did not buy, topped up with trending items, are re-ranked
// (see rerank.go) and the rest of the PersonalCandidates best follow.
func (d *datasetHistories) vote(c int32, h *History, mode voteMode) {
	v, ok := d.votes.Get().(*voteScratch)
	if !ok {
		n := d.ds.Items.Len()
		v = &voteScratch{slots: make([]voteSlot, n), own: make([]bool, n)}
	}
	v.touched = v.touched[:0]
	for k, it := range h.Items {
		v.own[it.Item] = true
		if k >= d.historyMax {
			continue
		}
		nb, sc, _ := d.personal.Of(it.Item)
		for x, j := range nb {
			sl := &v.slots[j]
			if !sl.in {
				sl.in, sl.from = true, -1
				v.touched = append(v.touched, j)
			}
			c := it.Weight * sc[x]
			sl.acc += c
			if c > sl.best {
				sl.best, sl.from = c, it.Item
			}
		}
	}
	top := float32(0)
	for _, j := range v.touched {
		top = max(top, v.slots[j].acc)
	}
	h.CF, v.keys = h.CF[:0], v.keys[:0]
	for _, j := range v.touched {
		sl := &v.slots[j]
		if !(sl.acc > 0) { // NaN too
			continue
		}
		score := sl.acc / top
		if v.own[j] {
			h.CF = append(h.CF, Cand{Item: j, Score: score, From: sl.from}) // bought: kept for include_purchased
		} else {
			v.keys = append(v.keys, topk.ScoreKey(score, j))
		}
	}
	// The best not-bought items, as topk.Select(cands, betterCand) orders
	// them, selected on packed keys.
	v.keys = topk.SelectOrdered(v.keys, PersonalCandidates)
	v.cands = v.cands[:0]
	for _, key := range v.keys {
		score, j := topk.FromKey(key)
		v.cands = append(v.cands, Cand{Item: j, Score: score, From: v.slots[j].from})
	}
	switch {
	case mode == voteCandidates:
		h.CF = append(h.CF[:0], d.fillCandidates(v)...)
	case d.rr.model != nil:
		// The re-ranker orders the RerankDepth best; the rest follow in
		// vote order, below them.
		var tail []Cand
		if len(v.cands) > RerankDepth {
			tail = v.cands[RerankDepth:]
		}
		head := d.rerank(c, h, d.fillCandidates(v), v)
		h.CF = append(h.CF, head...)
		if len(tail) > 0 { // then head holds RerankDepth items
			h.CF = appendBelow(h.CF, tail, head[len(head)-1].Score)
		}
		slices.SortFunc(h.CF, betterCand)
	default:
		h.CF = append(h.CF, v.cands...)
		slices.SortFunc(h.CF, betterCand)
	}
	for _, j := range v.touched {
		v.slots[j] = voteSlot{}
	}
	for _, it := range h.Items {
		v.own[it.Item] = false
	}
	d.votes.Put(v)
}

// betterCand orders candidates by score, then item id.
func betterCand(a, b Cand) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	return cmp.Compare(a.Item, b.Item)
}

func (d *datasetHistories) history(customerID string, buf *History) (History, bool, error) {
	c, ok := d.ds.Customers.Index(customerID)
	if !ok || len(d.ds.CustomerOrders.Of(int(c))) == 0 {
		return History{}, false, nil
	}
	if h, ok := d.cache.get(customerID); ok {
		return h, true, nil
	}
	sc, ok := d.scratch.Get().(*buyagain.Scratch)
	if !ok {
		sc = d.scorer.NewScratch()
	}
	d.build(c, sc, nil, buf, voteServe)
	d.scratch.Put(sc)
	d.cache.put(customerID, buf)
	return *buf, true, nil
}

// build fills h with customer c's history (h.CF as mode says); cands is
// reusable scratch.
func (d *datasetHistories) build(c int32, sc *buyagain.Scratch, cands []buyagain.Item, h *History, mode voteMode) []buyagain.Item {
	cands = d.scorer.Customer(c, sc, cands[:0])
	h.Items = h.Items[:0]
	for _, it := range cands {
		w := float32(1)
		if d.halfHL > 0 {
			w = float32(math.Exp2(-float64(d.asOf-it.Last) / 86400 / d.halfHL))
		}
		h.Items = append(h.Items, HistItem{
			Item: it.Item, Orders: int32(it.Orders), Last: it.Last, Weight: w,
			Rebuy:        float32(it.Score),
			IntervalDays: float32(it.Interval),
		})
	}
	sortHistory(h.Items)
	d.vote(c, h, mode)
	return cands
}

func sortHistory(items []HistItem) {
	slices.SortFunc(items, func(a, b HistItem) int {
		if c := cmp.Compare(b.Weight, a.Weight); c != 0 {
			return c
		}
		return cmp.Compare(a.Item, b.Item)
	})
}

// decayedWeights weights each entry of the customer x item matrix by the
// recency of the customer's last order of the item: 2^(-age/days).
func decayedWeights(ds *features.Dataset, asOf time.Time, days float64) []float64 {
	x := &ds.CustomerItems
	w := make([]float64, len(x.Idx))
	last := make([]int64, x.Cols)
	at := asOf.Unix()
	for c := 0; c < x.Rows; c++ {
		for _, o := range ds.CustomerOrders.Of(c) {
			items, _ := ds.OrderItems.Row(int(o))
			for _, i := range items {
				last[i] = ds.Orders[o].Time
			}
		}
		for k := x.Ptr[c]; k < x.Ptr[c+1]; k++ {
			w[k] = math.Exp2(-float64(at-last[x.Idx[k]]) / 86400 / days)
		}
	}
	return w
}

// History records: a format byte, the item count, then per item the dense
// id, the order count, the last time (zig-zag delta from the previous
// item's), and weight, rebuy and interval as float32.
const historyFormat = 2

var errCorruptHistory = errors.New("corrupt customer history record")

func appendHistory(b []byte, h *History) []byte {
	b = append(b, historyFormat)
	b = binary.AppendUvarint(b, uint64(len(h.Items)))
	prev := int64(0)
	for _, it := range h.Items {
		b = binary.AppendUvarint(b, uint64(it.Item))
		b = binary.AppendUvarint(b, uint64(it.Orders))
		b = binary.AppendVarint(b, it.Last-prev)
		prev = it.Last
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(it.Weight))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(it.Rebuy))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(it.IntervalDays))
	}
	b = binary.AppendUvarint(b, uint64(len(h.CF)))
	for _, c := range h.CF {
		b = binary.AppendUvarint(b, uint64(c.Item))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(c.Score))
		b = binary.AppendUvarint(b, uint64(c.From+1))
	}
	return b
}

// decodeHistory parses a record into h, reusing h.Items; item ids must be
// below nItems.
func decodeHistory(b []byte, nItems int, h *History) error {
	if len(b) == 0 || b[0] != historyFormat {
		return errCorruptHistory
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return errCorruptHistory
	}
	b = b[k:]
	h.Items = slices.Grow(h.Items[:0], int(n))
	prev := int64(0)
	for j := uint64(0); j < n; j++ {
		item, k1 := binary.Uvarint(b)
		if k1 <= 0 || item >= uint64(nItems) {
			return errCorruptHistory
		}
		b = b[k1:]
		orders, k2 := binary.Uvarint(b)
		if k2 <= 0 || orders > math.MaxInt32 {
			return errCorruptHistory
		}
		b = b[k2:]
		delta, k3 := binary.Varint(b)
		if k3 <= 0 || len(b) < k3+12 {
			return errCorruptHistory
		}
		b = b[k3:]
		prev += delta
		h.Items = append(h.Items, HistItem{
			Item: int32(item), Orders: int32(orders), Last: prev,
			Weight:       math.Float32frombits(binary.LittleEndian.Uint32(b)),
			Rebuy:        math.Float32frombits(binary.LittleEndian.Uint32(b[4:])),
			IntervalDays: math.Float32frombits(binary.LittleEndian.Uint32(b[8:])),
		})
		b = b[12:]
	}
	m, k := binary.Uvarint(b)
	if k <= 0 || m > uint64(len(b)) {
		return errCorruptHistory
	}
	b = b[k:]
	h.CF = slices.Grow(h.CF[:0], int(m))
	for j := uint64(0); j < m; j++ {
		item, k1 := binary.Uvarint(b)
		if k1 <= 0 || item >= uint64(nItems) || len(b) < k1+4 {
			return errCorruptHistory
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(b[k1:]))
		b = b[k1+4:]
		from, k2 := binary.Uvarint(b)
		if k2 <= 0 || from > uint64(nItems) {
			return errCorruptHistory
		}
		b = b[k2:]
		h.CF = append(h.CF, Cand{Item: int32(item), Score: score, From: int32(from) - 1})
	}
	if len(b) != 0 {
		return errCorruptHistory
	}
	// Bundles store CF best first and requests rely on it (topSorted);
	// a record that is not gets sorted rather than served wrong.
	if !slices.IsSortedFunc(h.CF, betterCand) {
		slices.SortFunc(h.CF, betterCand)
	}
	return nil
}
