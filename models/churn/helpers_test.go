package churn

import (
	"math"
	"math/rand/v2"
	"slices"
)

// xorData simulates two uniform features in [−1, 1] with churn when they
// share a sign (an interaction no linear model can express), flipped with
// probability noise.
func xorData(n int, noise float64, seed uint64) (x, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x = make([]float64, 2*n)
	y = make([]float64, n)
	for i := range n {
		a, b := 2*rng.Float64()-1, 2*rng.Float64()-1
		x[2*i], x[2*i+1] = a, b
		if (a*b > 0) != (rng.Float64() < noise) {
			y[i] = 1
		}
	}
	return x, y
}

// auc is the Mann–Whitney ROC AUC by brute force (fine for test sizes).
func auc(scores, y []float64) float64 {
	var wins, pairs float64
	pos := []float64{}
	neg := []float64{}
	for i, s := range scores {
		if y[i] == 1 {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	slices.Sort(neg)
	for _, s := range pos {
		lo, _ := slices.BinarySearch(neg, s)
		hi := lo
		for hi < len(neg) && neg[hi] == s {
			hi++
		}
		wins += float64(lo) + 0.5*float64(hi-lo)
		pairs += float64(len(neg))
	}
	return wins / pairs
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
