package btyd

import (
	"errors"
	"fmt"
	"math"
	"runtime"

	"gonum.org/v1/gonum/mathext"
)

// ErrInfiniteMean is returned (wrapped) by FitGammaGamma when the fitted q
// is at most 1: the population's mean transaction value γp/(q-1) is then
// infinite and the model cannot value customers. NewSpendModel falls back
// to observed means.
var ErrInfiniteMean = errors.New("gamma-gamma q <= 1: mean spend is infinite")

// SpendObs is a repeat buyer's Gamma-Gamma input: X repeat transactions
// whose values average Mean (the first transaction left out). W is the
// number of customers with these values; 0 means 1.
type SpendObs struct {
	X, Mean float64
	W       float64
}

// GammaGamma is the spend model of Fader, Hardie & Lee, "RFM and CLV: using
// iso-value curves for customer base analysis", Journal of Marketing
// Research 42(4):415-430, 2005:
//
//   - a customer's transaction values are Gamma(P, ν) with a customer
//     specific rate ν, so their mean is P/ν, independent of when and how
//     often the customer buys;
//   - ν ~ Gamma(Q, Gamma) across customers.
//
// The mean z̄ of x transactions is then Gamma(Px, νx), and integrating ν out
//
//	f(z̄ | x) = Γ(px+q)/(Γ(px)Γ(q)) γ^q z̄^(px-1) x^(px) / (γ + x z̄)^(px+q).
//
// All three parameters must be greater than 0; the population mean
// transaction value γp/(q-1) is finite only for Q > 1.
type GammaGamma struct {
	P, Q, Gamma float64
}

// LogLikelihood returns log f(z̄ | x) for one repeat buyer.
func (m GammaGamma) LogLikelihood(o SpendObs) float64 {
	if !(m.P > 0 && m.Q > 0 && m.Gamma > 0) {
		panic("btyd: Gamma-Gamma parameters must be > 0")
	}
	px := m.P * o.X
	a, _ := math.Lgamma(px + m.Q)
	b, _ := math.Lgamma(px)
	c, _ := math.Lgamma(m.Q)
	return a - b - c + m.Q*math.Log(m.Gamma) + (px-1)*math.Log(o.Mean) + px*math.Log(o.X) - (px+m.Q)*math.Log(m.Gamma+o.X*o.Mean)
}

// ExpectedValue is E[M | x, z̄], the expected value of a future transaction
// of a customer with x repeat transactions of mean z̄ (eq. 5 of the paper):
//
//	E[M | x, z̄] = p(γ + x z̄) / (px + q - 1),
//
// a weighted mean of the population mean γp/(q-1) and z̄. For x = 0 it is
// the population mean. It needs Q > 1 (panics otherwise: check the fit).
func (m GammaGamma) ExpectedValue(x, mean float64) float64 {
	if !(m.Q > 1) {
		panic("btyd: Gamma-Gamma q <= 1")
	}
	return m.P * (m.Gamma + x*mean) / (m.P*x + m.Q - 1)
}

// GammaGammaFit is the result of FitGammaGamma.
type GammaGammaFit struct {
	Model  GammaGamma
	LogLik float64
	// Customers is the number of repeat buyers used; Excluded counts those
	// left out because their mean value is not positive (free orders).
	Customers, Excluded float64
	Method              string
	Evaluations         int
}

// FitGammaGamma fits the Gamma-Gamma model by maximum likelihood on repeat
// buyers (X > 0, Mean > 0; other rows are excluded and counted), on log
// parameters with BFGS and an analytic gradient (Nelder-Mead as fallback).
// When the fitted q is at most 1 it returns the fit together with an error
// wrapping ErrInfiniteMean.
func FitGammaGamma(obs []SpendObs, opts FitOptions) (*GammaGammaFit, error) {
	if opts.MinCustomers == 0 {
		opts.MinCustomers = 20
	}
	fit := &GammaGammaFit{}
	rows := make([]SpendObs, 0, len(obs))
	var sum float64
	for i, o := range obs {
		if o.W == 0 {
			o.W = 1
		}
		if !(o.X >= 0 && o.W > 0) || math.IsNaN(o.Mean) || math.IsInf(o.Mean, 0) || math.IsInf(o.W, 0) || math.IsInf(o.X, 0) {
			return nil, fmt.Errorf("btyd: Gamma-Gamma fit: row %d (x=%v mean=%v w=%v): %w", i, o.X, o.Mean, o.W, ErrBadObs)
		}
		if o.X == 0 || o.Mean <= 0 {
			fit.Excluded += o.W
			continue
		}
		rows = append(rows, o)
		fit.Customers += o.W
		sum += o.W * o.Mean
	}
	if fit.Customers == 0 {
		return nil, fmt.Errorf("btyd: Gamma-Gamma fit: %w with a positive mean value", ErrNoRepeatBuyers)
	}
	if fit.Customers < opts.MinCustomers {
		return nil, fmt.Errorf("btyd: Gamma-Gamma fit: %v repeat buyers, need at least %v: %w", fit.Customers, opts.MinCustomers, ErrTooFewCustomers)
	}
	ll := newGGLik(rows, opts.Workers)
	x0 := []float64{0, math.Log(2), math.Log(sum / fit.Customers)}
	u, method, evals, err := minimizeLog(ll.eval, x0)
	if err != nil {
		return nil, fmt.Errorf("btyd: Gamma-Gamma fit: %w", err)
	}
	fit.Model = GammaGamma{P: math.Exp(u[0]), Q: math.Exp(u[1]), Gamma: math.Exp(u[2])}
	fit.LogLik = -ll.eval(u, nil) * fit.Customers
	fit.Method, fit.Evaluations = method, evals
	if !(fit.Model.Q > 1) {
		return fit, fmt.Errorf("btyd: Gamma-Gamma fit: q = %.3g: %w", fit.Model.Q, ErrInfiniteMean)
	}
	return fit, nil
}

// ggLik is the mean negative log-likelihood of the Gamma-Gamma model and its
// gradient in log parameters; terms in x alone are computed once per x.
type ggLik struct {
	rows    []SpendObs
	group   []int32
	lnMean  []float64
	xs      []float64
	wx      []float64 // weight per x
	wlnm    []float64 // Σ w ln z̄ per x
	total   float64
	workers int
	partial [][5]float64
}

func newGGLik(rows []SpendObs, workers int) *ggLik {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	l := &ggLik{rows: rows, group: make([]int32, len(rows)), lnMean: make([]float64, len(rows)), workers: workers}
	index := map[float64]int32{}
	for i, o := range rows {
		k, ok := index[o.X]
		if !ok {
			k = int32(len(l.xs))
			index[o.X] = k
			l.xs = append(l.xs, o.X)
			l.wx = append(l.wx, 0)
			l.wlnm = append(l.wlnm, 0)
		}
		l.group[i] = k
		l.lnMean[i] = math.Log(o.Mean)
		l.wx[k] += o.W
		l.wlnm[k] += o.W * l.lnMean[i]
		l.total += o.W
	}
	l.partial = make([][5]float64, (len(rows)+chunkRows-1)/chunkRows)
	return l
}

// eval returns -LL/W at u = (ln p, ln q, ln γ) and fills g when not nil.
func (l *ggLik) eval(u, g []float64) float64 {
	u = clampLog(u)
	p, q, gm := math.Exp(u[0]), math.Exp(u[1]), math.Exp(u[2])
	chunk := func(c int) {
		lo, hi := c*chunkRows, min(len(l.rows), (c+1)*chunkRows)
		var s [5]float64
		for i := lo; i < hi; i++ {
			o := &l.rows[i]
			d := gm + o.X*o.Mean
			ld := math.Log(d)
			pxq := p*o.X + q
			s[0] -= o.W * pxq * ld
			s[1] -= o.W * o.X * ld
			s[2] -= o.W * ld
			s[3] -= o.W * pxq / d
		}
		l.partial[c] = s
	}
	parallel(l.workers, len(l.partial), chunk)
	var s [5]float64
	for _, c := range l.partial {
		for j := range s {
			s[j] += c[j]
		}
	}
	lq, _ := math.Lgamma(q)
	lng := math.Log(gm)
	ll := s[0]
	dp, dq, dg := s[1], s[2], s[3]
	var psiq float64
	if g != nil {
		psiq = mathext.Digamma(q)
	}
	for k, x := range l.xs {
		w := l.wx[k]
		px := p * x
		a, _ := math.Lgamma(px + q)
		b, _ := math.Lgamma(px)
		lx := math.Log(x)
		ll += w*(a-b-lq+q*lng+px*lx) + (px-1)*l.wlnm[k]
		if g != nil {
			psipxq := mathext.Digamma(px + q)
			dp += w*x*(psipxq-mathext.Digamma(px)+lx) + x*l.wlnm[k]
			dq += w * (psipxq - psiq + lng)
			dg += w * q / gm
		}
	}
	if g != nil {
		grad := [3]float64{dp * p, dq * q, dg * gm}
		for j := range grad {
			g[j] = -grad[j] / l.total
			if u[j] <= -logLimit || u[j] >= logLimit {
				g[j] = 0
			}
		}
	}
	return -ll / l.total
}

// SpendModel predicts the value of a customer's future transactions: the
// Gamma-Gamma model when its fit is usable, otherwise (Fallback) the
// customer's own mean repeat value, or the population's mean transaction
// value for customers without repeat transactions. Either way the value is
// never negative.
type SpendModel struct {
	GammaGamma GammaGamma
	// Fallback is set when the Gamma-Gamma model could not be used; Reason
	// says why.
	Fallback bool
	Reason   string
	// PopulationMean is the mean value of all transactions in the
	// calibration period, used by the fallback.
	PopulationMean float64
}

// ExpectedValue returns the expected value of a future transaction of a
// customer with x repeat transactions of mean value mean.
func (s *SpendModel) ExpectedValue(x, mean float64) float64 {
	if !s.Fallback {
		return s.GammaGamma.ExpectedValue(x, mean)
	}
	if x > 0 && mean > 0 {
		return mean
	}
	return max(0, s.PopulationMean)
}
