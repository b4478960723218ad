package gbt

import (
	"math"
	"sync/atomic"
)

// Growth is a Fit without a validation set running in the background, for
// when the number of trees to keep is decided while it runs: the
// re-ranker of recommendations is refitted on all its rows with the number
// of trees that early stopping found on half of them, and the two fits can
// run side by side.
//
// Boosting is sequential and the subsample of each round is drawn in
// order, so the first k trees of a longer fit are the trees a fit of k
// rounds grows: Keep(k) returns the model Fit with Trees = k and no
// validation set returns.
type Growth struct {
	x     []float64
	n, d  int
	y     []float64
	limit atomic.Int64 // trees to stop at: none (the fit's own p.Trees) until Keep sets it
	done  chan struct{}
	m     *Model
	err   error
}

// StartFit starts fitting up to p.Trees rounds on x (n×d) and y, as Fit
// with no validation set (EarlyStopping has no effect), and returns at once.
// Call Keep to get the model; a Growth that is never kept keeps running to
// p.Trees.
func StartFit(x []float64, n, d int, y []float64, p Params) *Growth {
	g := &Growth{x: x, n: n, d: d, y: y, done: make(chan struct{})}
	g.limit.Store(math.MaxInt64)
	go func() {
		defer close(g.done)
		g.m, g.err = fit(x, n, d, y, p, nil, 0, nil, func(trees int) bool { return int64(trees) >= g.limit.Load() })
	}()
	return g
}

// Keep stops the fit once it has k trees and returns the model of its first
// k (at most p.Trees). k < 1 stops it and returns nil.
func (g *Growth) Keep(k int) (*Model, error) {
	g.limit.Store(int64(max(k, 0)))
	<-g.done
	if g.err != nil || k < 1 {
		return nil, g.err
	}
	m := *g.m
	if k < len(m.Trees) {
		// It grew past k before it was told: drop the rest, and the
		// training loss of the k trees, added up as the fit adds them.
		m.Trees = m.Trees[:k]
		f := make([]float64, g.n)
		for i := range f {
			f[i] = m.LogOdds(g.x[i*g.d : (i+1)*g.d])
		}
		m.TrainLoss = logLoss(f, g.y)
	}
	m.Params.Trees = len(m.Trees)
	return &m, nil
}
