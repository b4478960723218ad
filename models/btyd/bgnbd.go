package btyd

import (
	"math"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mathext"
)

// Obs is one customer's calibration summary for the BG/NBD model (see
// Customer): X repeat transactions, the last at Tx, observed for T since the
// first, all in the model's time unit. W is the number of customers with
// these values (1 for one customer; Fold sums duplicates).
type Obs struct {
	X, Tx, T float64
	W        float64
}

// BGNBD is the beta-geometric/negative-binomial distribution model of Fader,
// Hardie & Lee, "'Counting your customers' the easy way: an alternative to
// the Pareto/NBD model", Marketing Science 24(2):275-284, 2005:
//
//   - while active, a customer buys as a Poisson process with rate λ;
//   - after each transaction the customer becomes inactive for good with
//     probability p (never at the first transaction);
//   - λ ~ Gamma(shape R, rate Alpha) and p ~ Beta(A, B) across customers.
//
// All four parameters must be greater than 0. Alpha is in the time unit the
// model was fitted in (1/Alpha is a rate scale).
type BGNBD struct {
	R, Alpha float64 // purchase rates: Gamma(R, Alpha)
	A, B     float64 // dropout probability: Beta(A, B)
}

func (m BGNBD) check() {
	if !(m.R > 0 && m.Alpha > 0 && m.A > 0 && m.B > 0) {
		panic("btyd: BG/NBD parameters must be > 0")
	}
}

// LogLikelihood returns the log-likelihood of one customer (eq. 6 of the
// paper), in log space:
//
//	L = Γ(r+x)α^r/Γ(r) · B(a,b+x)/B(a,b) · [(α+T)^-(r+x) + δ(x>0) a/(b+x-1) (α+t_x)^-(r+x)]
func (m BGNBD) LogLikelihood(o Obs) float64 {
	m.check()
	r, al, a, b, x := m.R, m.Alpha, m.A, m.B, o.X
	lr, _ := math.Lgamma(r + x)
	l0, _ := math.Lgamma(r)
	ab, _ := math.Lgamma(a + b)
	bx, _ := math.Lgamma(b + x)
	bb, _ := math.Lgamma(b)
	abx, _ := math.Lgamma(a + b + x)
	l := lr - l0 + r*math.Log(al) + ab + bx - bb - abx
	a3 := -(r + x) * math.Log(al+o.T)
	if x == 0 {
		return l + a3
	}
	a4 := math.Log(a) - math.Log(b+x-1) - (r+x)*math.Log(al+o.Tx)
	return l + logAddExp(a3, a4)
}

// PAlive is the probability that a customer with history o is still active
// at T (eq. 13 of the paper):
//
//	P(alive) = 1 / (1 + δ(x>0) a/(b+x-1) ((α+T)/(α+t_x))^(r+x))
//
// A customer without repeat transactions is alive with probability 1: in
// the BG/NBD nobody drops out before a repeat purchase. When a fit is at the
// a → 0 boundary (see BGNBDFit.Boundary) P(alive) is close to 1 for everyone;
// QuietProb stays meaningful.
func (m BGNBD) PAlive(o Obs) float64 {
	m.check()
	if o.X == 0 {
		return 1
	}
	logOdds := math.Log(m.A) - math.Log(m.B+o.X-1) + (m.R+o.X)*(math.Log(m.Alpha+o.T)-math.Log(m.Alpha+o.Tx))
	return 1 / (1 + math.Exp(logOdds))
}

// QuietProb is the probability that a customer with this history who is
// still active would have made no purchase since the last one: with λ's
// posterior given the purchases up to t_x, Gamma(r+x, α+t_x),
//
//	P(no purchase in (t_x, T] | active) = ((α+t_x)/(α+T))^(r+x).
//
// It does not depend on the dropout process, so it ranks customers by how
// unusual their silence is even when a fit sits at the a → 0 boundary and
// P(alive) is 1 for everyone. For x = 0 it is (α/(α+T))^r.
func (m BGNBD) QuietProb(o Obs) float64 {
	m.check()
	return math.Exp((m.R + o.X) * (math.Log(m.Alpha+o.Tx) - math.Log(m.Alpha+o.T)))
}

// ExpectedOrders is E[X(T, T+t) | x, t_x, T], the expected number of
// transactions in the next t time units (eq. 10 of the paper):
//
//	E = (a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x-1; t/(α+T+t))] · P(alive)
//
// The argument z = t/(α+T+t) of ₂F₁ is always in [0, 1), where mathext's
// Hypergeo (Cephes) converges. Near a = 1 the formula is 0/0, and ₂F₁ may
// fail to converge for extreme parameters; then the same expectation is
// computed as an integral over the posterior of p:
//
//	E = P(alive) ∫₀¹ (1 - ((α+T)/(α+T+pt))^(r+x)) / p · Beta(p; a, b+x) dp
//
// (an active customer with rates λ, p makes (1 - e^(-λpt))/p purchases in
// expectation; λ | active ~ Gamma(r+x, α+T)).
func (m BGNBD) ExpectedOrders(t float64, o Obs) float64 {
	m.check()
	if t <= 0 {
		return 0
	}
	return m.PAlive(o) * m.expectedIfAlive(t, o)
}

// expectedIfAlive is E[X(T, T+t) | active, x, t_x, T] when the dropout
// probability's posterior is Beta(a, b+x):
//
//	(a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x-1; t/(α+T+t))]
//
// by ₂F₁, or by expectedIfAliveQuad near a = 1 and where ₂F₁ fails. The
// MBG/NBD uses it with b+1 for b (its active customers have Beta(a, b+x+1)).
func (m BGNBD) expectedIfAlive(t float64, o Obs) float64 {
	if math.Abs(m.A-1) > 1e-3 {
		k := m.Alpha + o.T
		rx := m.R + o.X
		h := mathext.Hypergeo(rx, m.B+o.X, m.A+m.B+o.X-1, t/(k+t))
		e := (m.A + m.B + o.X - 1) / (m.A - 1) * (1 - math.Exp(rx*(math.Log(k)-math.Log(k+t)))*h)
		if e >= 0 && !math.IsInf(e, 0) && !math.IsNaN(e) {
			return e
		}
	}
	return m.expectedIfAliveQuad(t, o)
}

// quadNodes is the Gauss-Legendre order of the fallback integral; with the
// substitutions below the integrand is smooth on each half, and 2×128 nodes
// agree with ₂F₁ to 2e-4 relative or better (see the tests).
const quadNodes = 128

// expectedIfAliveQuad integrates E[X(t) | active, λ, p] over the posterior
// Beta(a, b+x) of p. The substitution p = u^(1/a) removes the p^(a-1)
// singularity at 0 (Beta(p; a, b') dp = (1-p)^(b'-1) du / (a B(a, b'))), and
// on u in [1/2, 1] the substitution 1-u = s^(1/b') removes the (1-p)^(b'-1)
// singularity at 1, so Gauss-Legendre converges fast on both halves.
func (m BGNBD) expectedIfAliveQuad(t float64, o Obs) float64 {
	k := m.Alpha + o.T
	rx := m.R + o.X
	bp := m.B + o.X
	norm := -math.Log(m.A) - lbeta(m.A, bp)
	f := func(u float64) float64 {
		p := math.Pow(u, 1/m.A)
		if p <= 0 {
			return rx * t / k * math.Exp(norm)
		}
		g := -math.Expm1(-rx*math.Log1p(p*t/k)) / p
		return g * math.Exp((bp-1)*math.Log1p(-p)+norm)
	}
	tail := func(s float64) float64 {
		return f(1-math.Pow(s, 1/bp)) * math.Pow(s, 1/bp-1) / bp
	}
	return quad.Fixed(f, 0, 0.5, quadNodes, quad.Legendre{}, 0) +
		quad.Fixed(tail, 0, math.Pow(0.5, bp), quadNodes, quad.Legendre{}, 0)
}

// ProbAny is the probability of at least one transaction in the next t
// time units. An active customer makes none with probability e^(-λt)
// (dropout happens only after a purchase), and λ | active ~ Gamma(r+x, α+T),
// so P(X(T, T+t) = 0 | x, t_x, T) = 1 - P(alive) + P(alive) ((α+T)/(α+T+t))^(r+x)
// (the x* = 0 case of Fader & Hardie's note on the BG/NBD conditional
// PMF), and
//
//	P(any) = P(alive) · [1 - ((α+T)/(α+T+t))^(r+x)].
func (m BGNBD) ProbAny(t float64, o Obs) float64 {
	return m.PAlive(o) * anyIfActive(m.R+o.X, m.Alpha+o.T, t)
}

// anyIfActive is the probability that an active customer with rate
// λ ~ Gamma(rx, at) buys at least once in the next t time units,
// 1 - (at/(at+t))^rx: the same for the BG/NBD and the MBG/NBD.
func anyIfActive(rx, at, t float64) float64 {
	if t <= 0 {
		return 0
	}
	return -math.Expm1(rx * (math.Log(at) - math.Log(at+t)))
}

// MedianWait is the median time from T to the next transaction of a customer
// who is still active: the waiting time is Lomax (Pareto II) with
// P(W > s) = ((α+T)/(α+T+s))^(r+x), so
//
//	median = (α+T)(2^(1/(r+x)) - 1).
//
// It is the "expected next order" a CRM can show beside P(alive); the mean,
// (α+T)/(r+x-1), is infinite for r+x ≤ 1 (most one-off buyers), the median
// always exists. A dropped-out customer never orders again, so read it as
// "if still active, the next order is as likely before as after T + median".
func (m BGNBD) MedianWait(o Obs) float64 {
	m.check()
	return (m.Alpha + o.T) * math.Expm1(math.Ln2/(m.R+o.X))
}

// PopulationExpected is E[X(t)], the expected number of repeat transactions
// in (0, t] of a customer who made the first at 0 (eq. 9 of the paper):
//
//	E[X(t)] = (a+b-1)/(a-1) · [1 - (α/(α+t))^r ₂F₁(r, b; a+b-1; t/(α+t))]
func (m BGNBD) PopulationExpected(t float64) float64 {
	return m.ExpectedOrders(t, Obs{X: 0, Tx: 0, T: 0})
}

// logAddExp returns log(e^x + e^y) without overflow.
func logAddExp(x, y float64) float64 {
	if x < y {
		x, y = y, x
	}
	return x + math.Log1p(math.Exp(y-x))
}

func lbeta(a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return la + lb - lab
}
