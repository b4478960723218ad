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
	"github.com/patron-crm/patron/models/buyagain"
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

// History is a customer's items, heaviest Weight first (ties: lower item id).
type History struct {
	Items []HistItem
}

// historySource finds a customer's history: computed from a Dataset while
// training, read from the bundle while serving.
type historySource interface {
	history(customerID string, h *History) (found bool, err error)
}

// datasetHistories computes histories from a Dataset's timelines.
type datasetHistories struct {
	ds      *features.Dataset
	asOf    int64
	halfHL  float64
	scorer  *buyagain.Scorer
	scratch sync.Pool // *buyagain.Scratch
}

func newDatasetHistories(ds *features.Dataset, asOf time.Time, p Params) *datasetHistories {
	return &datasetHistories{ds: ds, asOf: asOf.Unix(), halfHL: p.HistoryHalfLife, scorer: buyagain.New(ds, asOf, p.BuyAgain)}
}

func (d *datasetHistories) history(customerID string, h *History) (bool, error) {
	c, ok := d.ds.Customers.Index(customerID)
	if !ok || len(d.ds.CustomerOrders.Of(int(c))) == 0 {
		return false, nil
	}
	sc, ok := d.scratch.Get().(*buyagain.Scratch)
	if !ok {
		sc = d.scorer.NewScratch()
	}
	d.build(c, sc, nil, h)
	d.scratch.Put(sc)
	return true, nil
}

// build fills h with customer c's history; cands is reusable scratch.
func (d *datasetHistories) build(c int32, sc *buyagain.Scratch, cands []buyagain.Item, h *History) []buyagain.Item {
	cands = d.scorer.Customer(c, sc, cands[:0])
	h.Items = h.Items[:0]
	for _, it := range cands {
		w := float32(1)
		if d.halfHL > 0 {
			w = float32(math.Exp2(-float64(d.asOf-it.Last) / 86400 / d.halfHL))
		}
		h.Items = append(h.Items, HistItem{
			Item: it.Item, Orders: int32(it.Orders), Last: it.Last, Weight: w,
			Rebuy: float32(it.Score), IntervalDays: float32(it.Interval),
		})
	}
	sortHistory(h.Items)
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
const historyFormat = 1

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
	if len(b) != 0 {
		return errCorruptHistory
	}
	return nil
}
