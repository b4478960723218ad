package btyd

import (
	"fmt"
	"math"
)

// PurchaseKind names a purchase model: BG/NBD or MBG/NBD.
type PurchaseKind string

// Purchase models. The empty kind means BGNBDKind (models written before
// MBG/NBD existed have none).
const (
	BGNBDKind  PurchaseKind = "bgnbd"
	MBGNBDKind PurchaseKind = "mbgnbd"
)

// ParsePurchaseKind accepts "bgnbd" (or "") and "mbgnbd", in any case and
// with or without slashes ("BG/NBD", "mbg/nbd").
func ParsePurchaseKind(s string) (PurchaseKind, error) {
	k := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '/' || c == '-' || c == '_' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		k = append(k, c)
	}
	switch PurchaseKind(k) {
	case "", BGNBDKind:
		return BGNBDKind, nil
	case MBGNBDKind:
		return MBGNBDKind, nil
	}
	return "", fmt.Errorf("btyd: unknown purchase model %q: want bgnbd or mbgnbd", s)
}

// String returns "BG/NBD" or "MBG/NBD" (the empty kind is BG/NBD).
func (k PurchaseKind) String() string {
	switch k {
	case "", BGNBDKind:
		return "BG/NBD"
	case MBGNBDKind:
		return "MBG/NBD"
	}
	return string(k)
}

// PurchaseModel is a model of the number and timing of a customer's
// transactions given the calibration summary (x, t_x, T): BGNBD or MBGNBD.
// Times are in the model's unit; every method panics on parameters that are
// not all positive (a programmer error: use the fitted values).
type PurchaseModel interface {
	// Kind names the model.
	Kind() PurchaseKind
	// Params returns r, α, a, b.
	Params() (r, alpha, a, b float64)
	// LogLikelihood is the log-likelihood of one customer's summary.
	LogLikelihood(o Obs) float64
	// PAlive is the probability that the customer is still active at T.
	PAlive(o Obs) float64
	// QuietProb is the probability that an active customer would have been
	// silent from t_x to T.
	QuietProb(o Obs) float64
	// ExpectedOrders is E[X(T, T+t) | x, t_x, T].
	ExpectedOrders(t float64, o Obs) float64
	// ProbAny is the probability of at least one transaction in (T, T+t].
	ProbAny(t float64, o Obs) float64
	// MedianWait is the median time from T to the next transaction of an
	// active customer.
	MedianWait(o Obs) float64
	// OrdersAtLeast is the probability of at least k transactions in (T, T+t].
	OrdersAtLeast(t float64, o Obs, k int) float64
	// MedianOrders is the median number of transactions in (T, T+t].
	MedianOrders(t float64, o Obs) float64
	// PopulationExpected is E[X(t)] for a new customer.
	PopulationExpected(t float64) float64
}

var (
	_ PurchaseModel = BGNBD{}
	_ PurchaseModel = MBGNBD{}
)

// Kind returns BGNBDKind.
func (BGNBD) Kind() PurchaseKind { return BGNBDKind }

// Params returns r, α, a, b.
func (m BGNBD) Params() (r, alpha, a, b float64) { return m.R, m.Alpha, m.A, m.B }

// NewPurchaseModel returns the model of kind k with parameters r, α, a, b.
// It panics on an unknown kind (use ParsePurchaseKind on input).
func NewPurchaseModel(k PurchaseKind, r, alpha, a, b float64) PurchaseModel {
	switch k {
	case "", BGNBDKind:
		return BGNBD{R: r, Alpha: alpha, A: a, B: b}
	case MBGNBDKind:
		return MBGNBD{R: r, Alpha: alpha, A: a, B: b}
	}
	panic(fmt.Sprintf("btyd: unknown purchase model %q", string(k)))
}

// MBGNBD is the modified BG/NBD model of Batislam, Denizel & Filiztekin,
// "Empirical validation and comparison of models for customer base
// analysis", International Journal of Research in Marketing 24(3):201-209,
// 2007 (with the corrected expressions of Wagner & Hoppe, "Erratum on the
// MBG/NBD model", IJRM 25(3):225-226, 2008):
//
//   - while active, a customer buys as a Poisson process with rate λ;
//   - right after the first transaction, and after each repeat transaction,
//     the customer becomes inactive for good with probability p;
//   - λ ~ Gamma(shape R, rate Alpha) and p ~ Beta(A, B) across customers.
//
// The one change from the BG/NBD, dropout possible at the first purchase,
// is what one-time buyers need: in the BG/NBD a customer without a repeat
// transaction is alive with probability 1 and keeps being forecast to buy
// however long they have been silent; in the MBG/NBD their P(alive) falls
// with the silence. Same parameters, same units as BGNBD.
type MBGNBD struct {
	R, Alpha float64 // purchase rates: Gamma(R, Alpha)
	A, B     float64 // dropout probability: Beta(A, B)
}

// Kind returns MBGNBDKind.
func (MBGNBD) Kind() PurchaseKind { return MBGNBDKind }

// Params returns r, α, a, b.
func (m MBGNBD) Params() (r, alpha, a, b float64) { return m.R, m.Alpha, m.A, m.B }

func (m MBGNBD) check() {
	if !(m.R > 0 && m.Alpha > 0 && m.A > 0 && m.B > 0) {
		panic("btyd: MBG/NBD parameters must be > 0")
	}
}

// LogLikelihood returns the log-likelihood of one customer. Given λ and p,
// a customer who made x repeat transactions, the last at t_x, and was then
// silent until T either is still active ((1-p)^(x+1) λ^x e^(-λT)) or
// dropped out right after the last transaction (p (1-p)^x λ^x e^(-λ t_x));
// integrating λ and p out (Batislam et al. 2007, appendix),
//
//	L = Γ(r+x)α^r/Γ(r) · B(a, b+x+1)/B(a, b) · (α+T)^-(r+x) · [1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)]
//
// for every x, x = 0 included (then t_x = 0). It is computed in log space.
func (m MBGNBD) LogLikelihood(o Obs) float64 {
	m.check()
	r, al, a, b, x := m.R, m.Alpha, m.A, m.B, o.X
	lr, _ := math.Lgamma(r + x)
	l0, _ := math.Lgamma(r)
	ab, _ := math.Lgamma(a + b)
	bx, _ := math.Lgamma(b + x + 1)
	bb, _ := math.Lgamma(b)
	abx, _ := math.Lgamma(a + b + x + 1)
	l := lr - l0 + r*math.Log(al) + ab + bx - bb - abx
	a3 := -(r + x) * math.Log(al+o.T)
	a4 := math.Log(a) - math.Log(b+x) - (r+x)*math.Log(al+o.Tx)
	return l + logAddExp(a3, a4)
}

// PAlive is the probability that a customer with history o is still active
// at T (Batislam et al. 2007, appendix, eq. 5):
//
//	P(alive) = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x))
//
// Unlike the BG/NBD's, it is below 1 for customers without a repeat
// transaction, and falls as their silence T grows.
func (m MBGNBD) PAlive(o Obs) float64 {
	m.check()
	logOdds := math.Log(m.A) - math.Log(m.B+o.X) + (m.R+o.X)*(math.Log(m.Alpha+o.T)-math.Log(m.Alpha+o.Tx))
	return 1 / (1 + math.Exp(logOdds))
}

// QuietProb is the probability that an active customer with this history
// would have made no purchase since the last one, ((α+t_x)/(α+T))^(r+x),
// as for the BG/NBD (see BGNBD.QuietProb): the purchase process is the same.
func (m MBGNBD) QuietProb(o Obs) float64 {
	m.check()
	return BGNBD(m).QuietProb(o)
}

// ExpectedOrders is E[X(T, T+t) | x, t_x, T], the expected number of
// transactions in the next t time units (Wagner & Hoppe 2008, correcting
// Batislam et al. 2007):
//
//	E = (a+b+x)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+1; a+b+x; t/(α+T+t))] · P(alive)
//
// An active customer's p has the posterior Beta(a, b+x+1) (the BG/NBD's
// Beta(a, b+x) with b+1 for b) and λ the same Gamma(r+x, α+T), so this is
// the BG/NBD's conditional expectation for an active customer with b+1 for
// b, times the MBG/NBD's P(alive); near a = 1 and where ₂F₁ fails it is
// computed by the same integral over p (see BGNBD.ExpectedOrders).
func (m MBGNBD) ExpectedOrders(t float64, o Obs) float64 {
	m.check()
	if t <= 0 {
		return 0
	}
	return m.PAlive(o) * m.activeModel().expectedIfAlive(t, o)
}

// activeModel is the BG/NBD whose dropout posterior Beta(a, b+x) equals the
// MBG/NBD's for active customers, Beta(a, b+x+1).
func (m MBGNBD) activeModel() BGNBD {
	return BGNBD{R: m.R, Alpha: m.Alpha, A: m.A, B: m.B + 1}
}

// ProbAny is the probability of at least one transaction in the next t
// time units. An active customer drops out only right after a purchase, so
// as in the BG/NBD
//
//	P(any) = P(alive) · [1 - ((α+T)/(α+T+t))^(r+x)].
func (m MBGNBD) ProbAny(t float64, o Obs) float64 {
	return m.PAlive(o) * anyIfActive(m.R+o.X, m.Alpha+o.T, t)
}

// MedianWait is the median time from T to the next transaction of an
// active customer, (α+T)(2^(1/(r+x)) - 1), as for the BG/NBD (see
// BGNBD.MedianWait).
func (m MBGNBD) MedianWait(o Obs) float64 {
	m.check()
	return BGNBD(m).MedianWait(o)
}

// PopulationExpected is E[X(t)], the expected number of repeat transactions
// in (0, t] of a customer who made the first at 0:
//
//	E[X(t)] = b/(a-1) · [1 - (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))]
//
// (ExpectedOrders at x = t_x = T = 0, where P(alive) = b/(a+b)).
func (m MBGNBD) PopulationExpected(t float64) float64 {
	return m.ExpectedOrders(t, Obs{X: 0, Tx: 0, T: 0})
}

// MBGNBDFit is the result of FitMBGNBD: the model and the FitStats.
type MBGNBDFit struct {
	Model MBGNBD
	FitStats
}

// FitMBGNBD fits the MBG/NBD model by maximum likelihood, exactly as
// FitBGNBD fits the BG/NBD (folded rows, log-parameters, BFGS with an
// analytic gradient, Nelder-Mead as fallback, boundary detection, the same
// errors).
func FitMBGNBD(obs []Obs, opts FitOptions) (*MBGNBDFit, error) {
	p, st, err := fitPurchases(MBGNBDKind, obs, opts)
	if err != nil {
		return nil, err
	}
	return &MBGNBDFit{Model: MBGNBD(p), FitStats: *st}, nil
}
