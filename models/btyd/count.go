package btyd

import "math"

// maxCount bounds the search for a median count; no customer makes this many
// transactions in a horizon a CRM asks about.
const maxCount = 100000

// countTail computes P(X >= k) for k = 1, 2, ... of the transactions X in the
// next t time units of a customer who is active with probability pAlive and,
// if active, has purchase rate λ ~ Gamma(rx, at) and dropout probability
// p ~ Beta(a, bp) (the posteriors given the calibration summary).
//
// An active customer would make N ~ Poisson(λt) purchases if they never left,
// and leaves after each purchase with probability p, so they make at least k
// purchases when N >= k and they stayed after the first k-1:
//
//	P(X >= k) = P(alive) · P(N >= k) · E[(1-p)^(k-1)]
//	          = P(alive) · P(NB >= k) · B(a, bp+k-1) / B(a, bp)
//
// where NB, λ integrated out, is negative binomial:
// P(NB = n) = Γ(rx+n)/(Γ(rx) n!) q^rx (1-q)^n with q = at/(at+t). (For k = 1
// this is ProbAny.) visit is called with k and P(X >= k) for k = 1, 2, ...
// until it returns false.
func countTail(pAlive, rx, at, a, bp, t float64, visit func(k int, p float64) bool) {
	if t <= 0 || pAlive <= 0 {
		visit(1, 0)
		return
	}
	q := at / (at + t)
	pmf := math.Exp(rx * math.Log(q)) // P(NB = 0)
	cdf := 0.0
	stay := 1.0 // E[(1-p)^(k-1)]
	for k := 1; k <= maxCount; k++ {
		cdf += pmf // now P(NB <= k-1)
		n := float64(k - 1)
		pmf *= (rx + n) / (n + 1) * (1 - q) // P(NB = k)
		if k > 1 {
			stay *= (bp + n - 1) / (a + bp + n - 1)
		}
		if !visit(k, pAlive*max(0, 1-cdf)*stay) {
			return
		}
	}
}

// medianCount is the median of X (see countTail): the largest k with
// P(X >= k) >= 1/2, 0 when P(X >= 1) < 1/2. It is the point forecast with
// the smallest expected absolute error, where the mean (ExpectedOrders) has
// the smallest squared error: on counts where most customers buy nothing,
// the two differ.
func medianCount(pAlive, rx, at, a, bp, t float64) float64 {
	med := 0
	countTail(pAlive, rx, at, a, bp, t, func(k int, p float64) bool {
		if p < 0.5 {
			return false
		}
		med = k
		return true
	})
	return float64(med)
}

// OrdersAtLeast is P(X(T, T+t) >= k | x, t_x, T), the probability of at
// least k transactions in the next t time units (see countTail; after
// Fader, Hardie & Lee's note on the BG/NBD conditional PMF): an active
// customer's λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x).
func (m BGNBD) OrdersAtLeast(t float64, o Obs, k int) float64 {
	m.check()
	return orderTail(m.PAlive(o), m.R+o.X, m.Alpha+o.T, m.A, m.B+o.X, t, k)
}

// MedianOrders is the median number of transactions in the next t time
// units (see medianCount).
func (m BGNBD) MedianOrders(t float64, o Obs) float64 {
	m.check()
	return medianCount(m.PAlive(o), m.R+o.X, m.Alpha+o.T, m.A, m.B+o.X, t)
}

// OrdersAtLeast is P(X(T, T+t) >= k | x, t_x, T), as for the BG/NBD with
// the MBG/NBD's P(alive) and its active customers' p ~ Beta(a, b+x+1).
func (m MBGNBD) OrdersAtLeast(t float64, o Obs, k int) float64 {
	m.check()
	return orderTail(m.PAlive(o), m.R+o.X, m.Alpha+o.T, m.A, m.B+o.X+1, t, k)
}

// MedianOrders is the median number of transactions in the next t time
// units (see medianCount).
func (m MBGNBD) MedianOrders(t float64, o Obs) float64 {
	m.check()
	return medianCount(m.PAlive(o), m.R+o.X, m.Alpha+o.T, m.A, m.B+o.X+1, t)
}

func orderTail(pAlive, rx, at, a, bp, t float64, k int) float64 {
	if k <= 0 {
		return 1
	}
	out := 0.0
	countTail(pAlive, rx, at, a, bp, t, func(j int, p float64) bool {
		out = p
		return j < k
	})
	return out
}

// PoissonMedian is the median of a Poisson count with the given mean: the
// largest k with P(N >= k) >= 1/2 (0 for a mean of 0).
func PoissonMedian(mean float64) float64 {
	if !(mean > 0) {
		return 0
	}
	p := math.Exp(-mean) // P(N = 0)
	cdf := 0.0
	k := 0
	for ; k < maxCount; k++ {
		cdf += p // P(N <= k)
		if cdf >= 0.5 {
			break
		}
		p *= mean / float64(k+1)
	}
	return float64(k)
}
