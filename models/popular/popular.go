// Package popular ranks items by how many orders hold them: overall, and
// "trending" with exponential time decay, so that recent sales count more:
//
//	score(i) = sum over orders o holding i of 2^(-(asOf - t_o) / halfLife)
//
// A zero half-life counts every order the same. Guest orders count: they are
// sales too. Popularity is the cold-start answer for unknown customers and
// the fallback that fills short lists.
package popular

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/patron-crm/patron/features"
)

// Model is a ranking of items, best first.
type Model struct {
	// Items are item ids, best first; items never sold are left out.
	Items []int32
	// Scores are aligned with Items.
	Scores []float64
}

// Fit ranks the items of ds's orders before asOf.
func Fit(ds *features.Dataset, asOf time.Time, halfLife time.Duration) *Model {
	score := make([]float64, ds.Items.Len())
	at := asOf.Unix()
	for o, ord := range ds.Orders {
		if ord.Time >= at {
			break
		}
		w := 1.0
		if halfLife > 0 {
			w = math.Exp2(-float64(at-ord.Time) / halfLife.Seconds())
		}
		items, _ := ds.OrderItems.Row(o)
		for _, i := range items {
			score[i] += w
		}
	}
	m := &Model{}
	for i, s := range score {
		if s > 0 {
			m.Items = append(m.Items, int32(i))
		}
	}
	slices.SortFunc(m.Items, func(a, b int32) int {
		if c := cmp.Compare(score[b], score[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	m.Scores = make([]float64, len(m.Items))
	for k, i := range m.Items {
		m.Scores[k] = score[i]
	}
	return m
}

// Table holds a bundle's popularity rankings, under the keys "all" and "trending".
const Table = "popular/rankings"

// Writer stores table rows; *registry.Builder is one.
type Writer interface {
	Put(table string, key, val []byte) error
}

// Getter reads table rows; *registry.Bundle is one.
type Getter interface {
	Get(table string, key []byte, fn func(val []byte) error) error
}

// Write stores m under key in Table.
func (m *Model) Write(w Writer, key string) error {
	buf := binary.AppendUvarint(nil, uint64(len(m.Items)))
	for k, i := range m.Items {
		buf = binary.AppendUvarint(buf, uint64(i))
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(m.Scores[k]))
	}
	if err := w.Put(Table, []byte(key), buf); err != nil {
		return fmt.Errorf("write popularity %s: %w", key, err)
	}
	return nil
}

// Load reads the ranking stored under key; item ids must be below nItems.
func Load(g Getter, key string, nItems int) (*Model, error) {
	m := &Model{}
	err := g.Get(Table, []byte(key), func(val []byte) error {
		n, k := binary.Uvarint(val)
		if k <= 0 || n > uint64(nItems) {
			return errCorrupt
		}
		val = val[k:]
		m.Items = make([]int32, 0, n)
		m.Scores = make([]float64, 0, n)
		for j := uint64(0); j < n; j++ {
			i, k := binary.Uvarint(val)
			if k <= 0 || i >= uint64(nItems) || len(val) < k+8 {
				return errCorrupt
			}
			m.Items = append(m.Items, int32(i))
			m.Scores = append(m.Scores, math.Float64frombits(binary.LittleEndian.Uint64(val[k:])))
			val = val[k+8:]
		}
		if len(val) != 0 {
			return errCorrupt
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read popularity %s: %w", key, err)
	}
	return m, nil
}

var errCorrupt = errors.New("corrupt popularity record")
