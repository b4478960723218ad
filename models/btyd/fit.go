package btyd

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/optimize"
)

// Errors a fit returns (wrapped) when the data cannot support it.
var (
	// ErrTooFewCustomers: fewer customers than FitOptions.MinCustomers.
	ErrTooFewCustomers = errors.New("too few customers")
	// ErrNoRepeatBuyers: nobody bought twice, so neither purchase rates
	// nor dropout can be estimated.
	ErrNoRepeatBuyers = errors.New("no repeat buyers")
	// ErrBadObs: an observation is not a valid summary (negative or
	// non-finite values, t_x > T, x > 0 with t_x = 0, ...).
	ErrBadObs = errors.New("invalid observation")
	// ErrNoConvergence: no optimizer reached a stationary point.
	ErrNoConvergence = errors.New("the optimizer did not converge")
)

// FitOptions tunes a maximum-likelihood fit. The zero value is the default.
type FitOptions struct {
	// MinCustomers is the smallest number of customers (total weight)
	// accepted; 0 means 20. Four parameters from fewer customers are noise.
	MinCustomers float64
	// Workers evaluates the likelihood on this many goroutines; 0 means
	// runtime.GOMAXPROCS. Results do not depend on it.
	Workers int
	// Purchases is the purchase model Fit fits: BGNBDKind ("bgnbd", also
	// when empty) or MBGNBDKind ("mbgnbd"). FitBGNBD and FitMBGNBD ignore it.
	Purchases PurchaseKind
}

// Boundary thresholds: a fitted r, a or b below boundaryLow or above
// boundaryHigh (or α beside such an r) is where the likelihood keeps
// improving towards a limit model rather than an interior maximum.
const (
	boundaryLow  = 1e-3
	boundaryHigh = 1e3
	// negligibleDropout flags a mean dropout probability a/(a+b) so small
	// that P(alive) carries no information, wherever a and b ended.
	negligibleDropout = 1e-3
)

// FitStats describes a maximum-likelihood fit of a purchase model (BG/NBD
// or MBG/NBD), whichever it was: what a training report shows.
type FitStats struct {
	// Kind is the model fitted.
	Kind PurchaseKind `json:",omitempty"`
	// LogLik is the maximised log-likelihood (sum over customers).
	LogLik float64
	// Customers is the total weight; Rows the distinct (x, t_x, T) rows.
	Customers float64
	Rows      int
	// Method names the optimizer that produced the parameters: "bfgs", or
	// "nelder-mead" when BFGS failed to converge.
	Method      string
	Evaluations int
	// Boundary lists the parameters that ran to a limit of the parameter
	// space, in words a training summary can show, e.g. "a → 0: dropout
	// probabilities near 0, P(alive) ≈ 1 for everyone". Empty for an
	// interior fit. See BGNBD.PAlive and BGNBD.QuietProb.
	Boundary []string
}

// AtBoundary reports whether any parameter ran to a limit.
func (f *FitStats) AtBoundary() bool { return len(f.Boundary) > 0 }

// BGNBDFit is the result of FitBGNBD: the model and the FitStats.
type BGNBDFit struct {
	Model BGNBD
	FitStats
}

// Fold merges observations with equal (X, Tx, T), summing their weights,
// and returns them sorted by (X, Tx, T). Observations with W = 0 mean W = 1.
func Fold(obs []Obs) []Obs {
	out := make([]Obs, len(obs))
	copy(out, obs)
	for i := range out {
		if out[i].W == 0 {
			out[i].W = 1
		}
	}
	slices.SortFunc(out, func(p, q Obs) int {
		return cmp.Or(cmp.Compare(p.X, q.X), cmp.Compare(p.Tx, q.Tx), cmp.Compare(p.T, q.T))
	})
	n := 0
	for i := range out {
		if n > 0 && out[n-1].X == out[i].X && out[n-1].Tx == out[i].Tx && out[n-1].T == out[i].T {
			out[n-1].W += out[i].W
			continue
		}
		out[n] = out[i]
		n++
	}
	return out[:n:n]
}

// FitBGNBD fits the BG/NBD model by maximum likelihood. Duplicate rows are
// folded into weights first (Fold); the parameters are optimised on a log
// scale, so they stay positive, with BFGS and an analytic gradient, and with
// Nelder-Mead when BFGS does not converge. The result is deterministic for
// the same observations whatever their order and the number of workers.
//
// It fails (wrapping ErrTooFewCustomers, ErrNoRepeatBuyers, ErrBadObs or
// ErrNoConvergence) when the data cannot support a fit. A fit that runs to
// the edge of the parameter space is returned with Boundary set.
func FitBGNBD(obs []Obs, opts FitOptions) (*BGNBDFit, error) {
	p, st, err := fitPurchases(BGNBDKind, obs, opts)
	if err != nil {
		return nil, err
	}
	return &BGNBDFit{Model: p, FitStats: *st}, nil
}

// fitPurchases fits the BG/NBD or the MBG/NBD model (see FitBGNBD) and
// returns r, α, a, b in a BGNBD whatever the kind.
func fitPurchases(kind PurchaseKind, obs []Obs, opts FitOptions) (BGNBD, *FitStats, error) {
	name := kind.String()
	if opts.MinCustomers == 0 {
		opts.MinCustomers = 20
	}
	rows := Fold(obs)
	var w, wx, wT float64
	repeat := false
	for i, o := range rows {
		if !(o.X >= 0 && o.Tx >= 0 && o.T >= o.Tx && o.W > 0) || math.IsInf(o.T, 0) || math.IsInf(o.W, 0) ||
			o.X != math.Trunc(o.X) || (o.X > 0 && o.Tx == 0) || (o.X == 0 && o.Tx != 0) {
			return BGNBD{}, nil, fmt.Errorf("btyd: %s fit: row %d (x=%v t_x=%v T=%v w=%v): %w", name, i, o.X, o.Tx, o.T, o.W, ErrBadObs)
		}
		w += o.W
		wx += o.W * o.X
		wT += o.W * o.T
		repeat = repeat || o.X > 0
	}
	if w < opts.MinCustomers {
		return BGNBD{}, nil, fmt.Errorf("btyd: %s fit: %v customers, need at least %v: %w", name, w, opts.MinCustomers, ErrTooFewCustomers)
	}
	if !repeat {
		return BGNBD{}, nil, fmt.Errorf("btyd: %s fit: %v customers, none with a repeat transaction: %w", name, w, ErrNoRepeatBuyers)
	}
	if wT == 0 {
		return BGNBD{}, nil, fmt.Errorf("btyd: %s fit: every customer has T = 0: %w", name, ErrBadObs)
	}

	ll := newPurchaseLik(kind, rows, opts.Workers)
	// Start at r = 1 with the mean rate of the data, a mean dropout of 0.25.
	x0 := []float64{0, math.Log(wT / wx), 0, math.Log(3)}
	u, method, evals, err := minimizeLog(ll.eval, x0)
	if err != nil {
		return BGNBD{}, nil, fmt.Errorf("btyd: %s fit: %w", name, err)
	}
	m := BGNBD{R: math.Exp(u[0]), Alpha: math.Exp(u[1]), A: math.Exp(u[2]), B: math.Exp(u[3])}
	st := &FitStats{Kind: kind, Customers: w, Rows: len(rows), Method: method, Evaluations: evals,
		LogLik: -ll.eval(u, nil) * w, Boundary: bgnbdBoundary(m)}
	return m, st, nil
}

// minimizeLog minimises f (which fills g when it is not nil) over
// log-parameters from x0: BFGS first, then Nelder-Mead from the best point
// when BFGS stops without reaching a stationary point. It returns the
// clamped solution, the method that produced it and the evaluations used.
func minimizeLog(f func(u, g []float64) float64, x0 []float64) ([]float64, string, int, error) {
	problem := optimize.Problem{
		Func: func(u []float64) float64 { return f(u, nil) },
		Grad: func(g, u []float64) { f(u, g) },
	}
	settings := &optimize.Settings{
		GradientThreshold: 1e-8,
		MajorIterations:   1000,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 50},
	}
	res, err := optimize.Minimize(problem, x0, settings, &optimize.BFGS{})
	evals := 0
	if res != nil {
		evals += res.FuncEvaluations + res.GradEvaluations
	}
	// A line search that fails at the optimum (the gradient at the limit of
	// floating-point precision) is success too: check stationarity.
	if res != nil && stationary(f, res.X) {
		return clampLog(res.X), "bfgs", evals, nil
	}
	start := x0
	if res != nil && !math.IsNaN(res.F) && !math.IsInf(res.F, 0) {
		start = res.X
	}
	nm := &optimize.Settings{
		MajorIterations: 20000,
		Converger:       &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 200},
	}
	res, err = optimize.Minimize(optimize.Problem{Func: problem.Func}, start, nm, &optimize.NelderMead{})
	if res != nil {
		evals += res.FuncEvaluations
	}
	if res == nil {
		return nil, "", evals, fmt.Errorf("%w: %v", ErrNoConvergence, err)
	}
	if math.IsNaN(res.F) || math.IsInf(res.F, 0) {
		return nil, "", evals, fmt.Errorf("%w (objective %v)", ErrNoConvergence, res.F)
	}
	return clampLog(res.X), "nelder-mead", evals, nil
}

// stationary reports whether the gradient of f at u is close to 0, apart
// from components pinned at the log limit.
func stationary(f func(u, g []float64) float64, u []float64) bool {
	g := make([]float64, len(u))
	v := f(u, g)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	for _, x := range g {
		if math.Abs(x) > 1e-5 || math.IsNaN(x) {
			return false
		}
	}
	return true
}

func bgnbdBoundary(m BGNBD) []string {
	var out []string
	switch {
	case m.R < boundaryLow:
		out = append(out, fmt.Sprintf("r → 0 (r = %.3g): purchase rates extremely heterogeneous", m.R))
	case m.R > boundaryHigh:
		out = append(out, fmt.Sprintf("r → ∞ (r = %.3g, α = %.3g): all customers buy at the same rate r/α", m.R, m.Alpha))
	}
	switch {
	case m.A < boundaryLow:
		out = append(out, fmt.Sprintf("a → 0 (a = %.3g): dropout probabilities near 0, P(alive) ≈ 1 for everyone; rank churn risk by QuietProb", m.A))
	case m.A/(m.A+m.B) < negligibleDropout && m.B <= boundaryHigh:
		// Not yet at the limit, but the same in effect: on Online Retail
		// the likelihood runs towards a → 0 and stops near a = 0.003.
		out = append(out, fmt.Sprintf("a near 0 (a = %.3g, b = %.3g): mean dropout probability per repeat order %.2g, P(alive) ≈ 1 for almost everyone; rank churn risk by QuietProb", m.A, m.B, m.A/(m.A+m.B)))
	case m.A > boundaryHigh:
		out = append(out, fmt.Sprintf("a → ∞ (a = %.3g, b = %.3g): all customers share dropout probability a/(a+b) = %.3g", m.A, m.B, m.A/(m.A+m.B)))
	}
	switch {
	case m.B < boundaryLow:
		out = append(out, fmt.Sprintf("b → 0 (b = %.3g): dropout probabilities near 1", m.B))
	case m.B > boundaryHigh && m.A <= boundaryHigh:
		out = append(out, fmt.Sprintf("b → ∞ (b = %.3g): dropout probabilities near 0, P(alive) ≈ 1 for everyone; rank churn risk by QuietProb", m.B))
	}
	return out
}

// logLimit bounds the log-parameters: e^±30 is far beyond any meaningful
// fit and keeps every Lgamma and Log finite.
const logLimit = 30

func clampLog(u []float64) []float64 {
	out := make([]float64, len(u))
	for i, v := range u {
		out[i] = max(-logLimit, min(logLimit, v))
	}
	return out
}

// chunkRows is the number of rows one goroutine sums at a time. Partial sums
// are added in chunk order, so results do not depend on the worker count.
const chunkRows = 8192

// bgnbdLik evaluates the mean negative log-likelihood of folded rows and its
// gradient with respect to the log-parameters, for the BG/NBD or (shift = 1)
// the MBG/NBD. Terms that depend only on x (Gamma and Beta functions,
// digammas) are computed once per distinct x.
type bgnbdLik struct {
	// shift is 0 for the BG/NBD and 1 for the MBG/NBD, whose likelihood is
	// the BG/NBD's with b+x for b+x-1 in A2 and A4, and A4 for x = 0 too
	// (see MBGNBD.LogLikelihood).
	shift   float64
	rows    []Obs
	group   []int32   // rows[i] has x = xs[group[i]]
	xs      []float64 // distinct x values
	wx      []float64 // total weight of each x
	total   float64   // total weight
	workers int

	// per distinct x, at the current parameters
	c0, dr0, da0, db0, lab []float64
	partial                [][5]float64
}

func newBGNBDLik(rows []Obs, workers int) *bgnbdLik {
	return newPurchaseLik(BGNBDKind, rows, workers)
}

func newPurchaseLik(kind PurchaseKind, rows []Obs, workers int) *bgnbdLik {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	l := &bgnbdLik{rows: rows, group: make([]int32, len(rows)), workers: workers}
	if kind == MBGNBDKind {
		l.shift = 1
	}
	for i, o := range rows {
		if len(l.xs) == 0 || l.xs[len(l.xs)-1] != o.X {
			l.xs = append(l.xs, o.X)
		}
		if len(l.wx) < len(l.xs) {
			l.wx = append(l.wx, 0)
		}
		l.group[i] = int32(len(l.xs) - 1)
		l.wx[len(l.xs)-1] += o.W
		l.total += o.W
	}
	n := len(l.xs)
	l.c0, l.dr0, l.da0, l.db0, l.lab = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	l.partial = make([][5]float64, (len(rows)+chunkRows-1)/chunkRows)
	return l
}

// eval returns -LL/W at log-parameters u and, when g is not nil, stores the
// gradient. With s the shift (0 BG/NBD, 1 MBG/NBD), A1 = ln Γ(r+x) - ln Γ(r)
// + r ln α, A2 = ln B(a, b+x+s) - ln B(a, b), A3 = -(r+x) ln(α+T) and
// A4 = ln a - ln(b+x-1+s) - (r+x) ln(α+t_x), a row's LL is
// A1 + A2 + log(e^A3 + δ e^A4) (δ = 1 when x > 0 or s = 1), whose derivatives
// weight A3's and A4's by their shares w3 and w4 = 1 - w3.
func (l *bgnbdLik) eval(u []float64, g []float64) float64 {
	u = clampLog(u)
	r, al, a, b := math.Exp(u[0]), math.Exp(u[1]), math.Exp(u[2]), math.Exp(u[3])
	lgr, _ := math.Lgamma(r)
	lgab, _ := math.Lgamma(a + b)
	lgb, _ := math.Lgamma(b)
	psir, psiab, psib := mathext.Digamma(r), mathext.Digamma(a+b), mathext.Digamma(b)
	lnal, lna := math.Log(al), math.Log(a)
	sh := l.shift
	for k, x := range l.xs {
		lrx, _ := math.Lgamma(r + x)
		lbx, _ := math.Lgamma(b + x + sh)
		labx, _ := math.Lgamma(a + b + x + sh)
		l.c0[k] = lrx - lgr + r*lnal + lgab + lbx - lgb - labx
		if x > 0 || sh > 0 {
			l.lab[k] = lna - math.Log(b+x-1+sh)
		}
		if g != nil {
			psiabx := mathext.Digamma(a + b + x + sh)
			l.dr0[k] = mathext.Digamma(r+x) - psir + lnal
			l.da0[k] = psiab - psiabx
			l.db0[k] = psiab + mathext.Digamma(b+x+sh) - psib - psiabx
		}
	}
	// Row sums per chunk: LL, Σ(w3 ln(α+T) + w4 ln(α+t_x)),
	// Σ(r+x)(w3/(α+T) + w4/(α+t_x)), Σ w4, Σ w4/(b+x-1+s).
	chunk := func(c int) {
		lo, hi := c*chunkRows, min(len(l.rows), (c+1)*chunkRows)
		var s [5]float64
		for i := lo; i < hi; i++ {
			o := &l.rows[i]
			k := l.group[i]
			rx := r + o.X
			lT := math.Log(al + o.T)
			a3 := -rx * lT
			if o.X == 0 && sh == 0 {
				s[0] += o.W * (l.c0[k] + a3)
				if g != nil {
					s[1] += o.W * lT
					s[2] += o.W * rx / (al + o.T)
				}
				continue
			}
			lt := math.Log(al + o.Tx)
			a4 := l.lab[k] - rx*lt
			var lse, w4 float64
			if a3 >= a4 {
				e := math.Exp(a4 - a3)
				lse = a3 + math.Log1p(e)
				w4 = e / (1 + e)
			} else {
				e := math.Exp(a3 - a4)
				lse = a4 + math.Log1p(e)
				w4 = 1 / (1 + e)
			}
			s[0] += o.W * (l.c0[k] + lse)
			if g != nil {
				w3 := 1 - w4
				s[1] += o.W * (w3*lT + w4*lt)
				s[2] += o.W * rx * (w3/(al+o.T) + w4/(al+o.Tx))
				s[3] += o.W * w4
				s[4] += o.W * w4 / (b + o.X - 1 + sh)
			}
		}
		l.partial[c] = s
	}
	parallel(l.workers, len(l.partial), chunk)
	var s [5]float64
	for _, p := range l.partial {
		for j := range s {
			s[j] += p[j]
		}
	}
	f := -s[0] / l.total
	if g != nil {
		var dr, dal, da, db float64
		// Per-x terms times the weight of each x group.
		for k, w := range l.wx {
			dr += w * l.dr0[k]
			da += w * l.da0[k]
			db += w * l.db0[k]
		}
		dal = l.total*r/al - s[2]
		dr -= s[1]
		da += s[3] / a
		db -= s[4]
		grad := [4]float64{dr * r, dal * al, da * a, db * b}
		for j := range grad {
			g[j] = -grad[j] / l.total
			if u[j] <= -logLimit || u[j] >= logLimit {
				g[j] = 0
			}
		}
	}
	return f
}

// parallel runs f(0..n-1) on up to workers goroutines.
func parallel(workers, n int, f func(int)) {
	if workers <= 1 || n <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
