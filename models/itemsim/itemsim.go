// Package itemsim learns item-item similarity from co-occurrence, the
// neighbourhood model behind "because you bought X", "similar items" and
// "bought together" (Sarwar et al. 2001, "Item-based collaborative filtering
// recommendation algorithms"; Linden, Smith & York 2003, "Amazon.com
// recommendations: item-to-item collaborative filtering").
//
// The input is a set of baskets: each customer's distinct items (who bought
// what), or each order's items (what was bought together, guest orders
// included). With c_ij the number of baskets holding both i and j and n_i
// the number holding i, the similarity is one of
//
//	cosine:  s_ij = c_ij / (sqrt(n_i n_j) + shrink)
//	rp3beta: s_ij = sum over baskets b holding i and j of (1/n_i)^alpha (1/|b|)^alpha, divided by n_j^beta
//
// Cosine with shrinkage damps pairs seen in few baskets. RP3beta (Paudel,
// Christoffel, Newell & Bernstein 2016, "Updatable, accurate, diverse, and
// scalable recommendations for interactive applications") is a three-step
// random walk item -> basket -> item whose popularity penalty beta lets
// long-tail items through. Only the top K neighbours of each item are kept,
// with their scores and co-occurrence counts (for reasons a shop can show).
//
// Cost: the sum over baskets of |b|^2 additions, spread over the cores, one
// dense accumulator row per core; memory is the basket matrix, its
// transpose and K neighbours per item.
package itemsim

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/internal/topk"
)

// Kind selects the similarity.
type Kind string

// Similarities.
const (
	Cosine  Kind = "cosine"
	RP3Beta Kind = "rp3beta"
)

// Params configure Fit.
type Params struct {
	Kind Kind
	// K is how many neighbours each item keeps (default 50).
	K int
	// Shrink damps rare pairs (cosine).
	Shrink float64
	// Alpha and Beta shape rp3beta (Alpha 1, Beta 0 = plain random walk).
	Alpha, Beta float64
	// MinSupport drops pairs seen together in fewer baskets (default 1).
	MinSupport int
}

func (p Params) withDefaults() Params {
	if p.Kind == "" {
		p.Kind = Cosine
	}
	if p.K <= 0 {
		p.K = 50
	}
	if p.Alpha == 0 {
		p.Alpha = 1
	}
	if p.MinSupport <= 0 {
		p.MinSupport = 1
	}
	return p
}

// Neighbours holds each item's top neighbours, best first:
// item i's are Item[Ptr[i]:Ptr[i+1]] with Score and Support (c_ij) aligned.
type Neighbours struct {
	Ptr     []int
	Item    []int32
	Score   []float32
	Support []int32
}

// Of returns item i's neighbours, scores and supports.
func (n *Neighbours) Of(i int32) ([]int32, []float32, []int32) {
	a, b := n.Ptr[i], n.Ptr[i+1]
	return n.Item[a:b], n.Score[a:b], n.Support[a:b]
}

// Len returns the number of items.
func (n *Neighbours) Len() int { return len(n.Ptr) - 1 }

// CustomerBaskets returns the binary basket matrix of who bought what: one row per
// customer holding their distinct items.
func CustomerBaskets(ds *features.Dataset) *features.CSR { return &ds.CustomerItems }

// OrderBaskets returns one row per order (guest orders included).
func OrderBaskets(ds *features.Dataset) *features.CSR { return &ds.OrderItems }

// Fit computes the neighbours of every item from the baskets (rows of m;
// values are ignored: a basket holds an item or not).
func Fit(m *features.CSR, p Params) (*Neighbours, error) {
	p = p.withDefaults()
	switch p.Kind {
	case Cosine, RP3Beta:
	default:
		return nil, fmt.Errorf("itemsim: unknown similarity %q (want cosine or rp3beta)", p.Kind)
	}
	nItems := m.Cols
	// Transpose: for each item, the baskets holding it.
	colPtr := make([]int, nItems+1)
	for _, i := range m.Idx {
		colPtr[i+1]++
	}
	for i := 0; i < nItems; i++ {
		colPtr[i+1] += colPtr[i]
	}
	colIdx := make([]int32, len(m.Idx))
	fill := slices.Clone(colPtr[:nItems])
	for r := 0; r < m.Rows; r++ {
		for _, i := range m.Idx[m.Ptr[r]:m.Ptr[r+1]] {
			colIdx[fill[i]] = int32(r)
			fill[i]++
		}
	}
	deg := func(i int32) float64 { return float64(colPtr[i+1] - colPtr[i]) }
	// Row weights: 1 for cosine, |b|^-alpha for rp3beta.
	rowW := make([]float64, m.Rows)
	for r := range rowW {
		switch p.Kind {
		case RP3Beta:
			if n := m.Ptr[r+1] - m.Ptr[r]; n > 0 {
				rowW[r] = math.Pow(float64(n), -p.Alpha)
			}
		default:
			rowW[r] = 1
		}
	}

	// deg(j)^-beta of rp3beta, once per item.
	var degBeta []float64
	if p.Kind == RP3Beta {
		degBeta = make([]float64, nItems)
		for j := range degBeta {
			if d := deg(int32(j)); d > 0 {
				degBeta[j] = math.Pow(d, -p.Beta)
			}
		}
	}

	// Each worker takes every w-th item; results land in per-item slots,
	// so the output does not depend on the number of workers.
	type list struct {
		item    []int32
		score   []float32
		support []int32
	}
	lists := make([]list, nItems)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			acc := make([]float64, nItems)
			cnt := make([]int32, nItems)
			var touched []int32
			var keys []uint64
			for i := int32(w); int(i) < nItems; i += int32(workers) {
				touched = touched[:0]
				for _, r := range colIdx[colPtr[i]:colPtr[i+1]] {
					wr := rowW[r]
					for _, j := range m.Idx[m.Ptr[r]:m.Ptr[r+1]] {
						if cnt[j] == 0 {
							touched = append(touched, j)
						}
						cnt[j]++
						acc[j] += wr
					}
				}
				keys = keys[:0]
				di := deg(i)
				diAlpha := math.Pow(di, -p.Alpha)
				for _, j := range touched {
					if j != i && int(cnt[j]) >= p.MinSupport {
						var s float64
						switch p.Kind {
						case RP3Beta:
							s = acc[j] * diAlpha * degBeta[j]
						default:
							s = float64(cnt[j]) / (math.Sqrt(di*deg(j)) + p.Shrink)
						}
						if s32 := float32(s); s32 > 0 {
							keys = append(keys, topk.ScoreKey(s32, j))
						}
					}
				}
				// The K best by score, then item id (packed keys select
				// several times faster than a comparison function).
				keys = topk.SelectOrdered(keys, p.K)
				l := list{make([]int32, len(keys)), make([]float32, len(keys)), make([]int32, len(keys))}
				for k, key := range keys {
					score, j := topk.FromKey(key)
					l.item[k], l.score[k], l.support[k] = j, score, cnt[j]
				}
				for _, j := range touched {
					acc[j], cnt[j] = 0, 0
				}
				lists[i] = l
			}
		}(w)
	}
	wg.Wait()

	nb := &Neighbours{Ptr: make([]int, nItems+1)}
	for i, l := range lists {
		nb.Ptr[i+1] = nb.Ptr[i] + len(l.item)
	}
	nb.Item = make([]int32, 0, nb.Ptr[nItems])
	nb.Score = make([]float32, 0, nb.Ptr[nItems])
	nb.Support = make([]int32, 0, nb.Ptr[nItems])
	for _, l := range lists {
		nb.Item = append(nb.Item, l.item...)
		nb.Score = append(nb.Score, l.score...)
		nb.Support = append(nb.Support, l.support...)
	}
	return nb, nil
}
