// Package learntest holds what the tests of the learners in models/ share:
// a classification problem no linear model can learn, and ROC AUC by brute
// force.
package learntest

import (
	"math/rand/v2"
	"slices"
)

// XOR simulates n rows of two uniform features in [-1, 1], labelled 1 when
// they share a sign (an interaction no linear model can express), flipped
// with probability noise. x is row-major n x 2.
func XOR(n int, noise float64, seed uint64) (x, y []float64) {
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

// AUC is the Mann-Whitney ROC AUC of scores against 0/1 labels y, ties
// counted half, by sorting (fine for test sizes).
func AUC(scores, y []float64) float64 {
	var pos, neg []float64
	for i, s := range scores {
		if y[i] == 1 {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	slices.Sort(neg)
	var wins float64
	for _, s := range pos {
		lo, _ := slices.BinarySearch(neg, s)
		hi := lo
		for hi < len(neg) && neg[hi] == s {
			hi++
		}
		wins += float64(lo) + 0.5*float64(hi-lo)
	}
	return wins / float64(len(pos)*len(neg))
}
