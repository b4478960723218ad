// Package xordata simulates a binary classification problem that no linear
// model can learn, for the tests of the learners in models/.
package xordata

import "math/rand/v2"

// New simulates n rows of two uniform features in [-1, 1], labelled 1 when
// they share a sign (an interaction no linear model can express), flipped
// with probability noise. x is row-major n x 2.
func New(n int, noise float64, seed uint64) (x, y []float64) {
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
