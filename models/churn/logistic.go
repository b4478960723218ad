package churn

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"

	"github.com/patron-crm/patron/internal/learn"
	"github.com/patron-crm/patron/internal/parallel"
)

// Logistic is an L2-regularised logistic regression:
//
//	P(churn | x) = σ(b + Σ_j β_j x_j),   σ(z) = 1 / (1 + e^−z),
//
// fitted by minimising the weighted mean negative log-likelihood plus a ridge
// penalty on the coefficients (not on the intercept b):
//
//	L(b, β) = (1/W) Σ_i w_i [log(1 + e^{z_i}) − y_i z_i] + (λ/2) Σ_j β_j²,
//	∂L/∂b   = (1/W) Σ_i w_i (p_i − y_i),
//	∂L/∂β_j = (1/W) Σ_i w_i (p_i − y_i) x_ij + λ β_j,
//
// with z_i = b + β·x_i, p_i = σ(z_i) and W = Σ_i w_i (McCullagh & Nelder
// 1989, ch. 4; the ridge penalty after le Cessie & van Houwelingen 1992,
// "Ridge estimators in logistic regression"). Dividing by W keeps λ's
// meaning independent of the number of rows. L is strictly convex for λ > 0,
// so L-BFGS (gonum/optimize) finds the unique minimum, and the penalty keeps
// the coefficients finite even when the classes are separable.
//
// Fit on standardized features (Standardizer) so that one λ suits every
// coefficient and the coefficients compare as feature importances: the
// term β_j x_j is feature j's push on the log-odds, which Contributions
// returns for explanations.
type Logistic struct {
	Intercept float64   `json:"intercept"`
	Coef      []float64 `json:"coef"`
	// Lambda is the ridge strength the model was fitted with.
	Lambda float64 `json:"lambda"`
	// Iterations and Evaluations report the optimiser's work.
	Iterations  int `json:"iterations"`
	Evaluations int `json:"evaluations"`
	// Loss is the penalised objective L at the optimum.
	Loss float64 `json:"loss"`
}

// FitLogistic fits an unweighted logistic regression to the n×d row-major
// matrix x and labels y (0 or 1; values in between are read as soft targets)
// with ridge strength lambda ≥ 0.
func FitLogistic(x []float64, n, d int, y []float64, lambda float64) (*Logistic, error) {
	return FitLogisticWeighted(x, n, d, y, nil, lambda)
}

// FitLogisticWeighted is FitLogistic with a non-negative weight per row
// (nil means all 1), for example to balance classes or stack windows.
func FitLogisticWeighted(x []float64, n, d int, y, w []float64, lambda float64) (*Logistic, error) {
	if err := learn.CheckMatrix(x, n, d); err != nil {
		return nil, fmt.Errorf("fit logistic: %w", err)
	}
	if err := checkLabels(y, n); err != nil {
		return nil, fmt.Errorf("fit logistic: %w", err)
	}
	if !(lambda >= 0) || math.IsInf(lambda, 0) {
		return nil, fmt.Errorf("fit logistic: lambda is %v, want a finite value >= 0", lambda)
	}
	if w != nil && len(w) != n {
		return nil, fmt.Errorf("fit logistic: %d weights for %d rows", len(w), n)
	}
	var sumW, sumWY float64
	for i := range n {
		wi := 1.0
		if w != nil {
			wi = w[i]
			if !(wi >= 0) || math.IsInf(wi, 0) {
				return nil, fmt.Errorf("fit logistic: weight %d is %v, want a finite value >= 0", i, wi)
			}
		}
		sumW += wi
		sumWY += wi * y[i]
	}
	if sumW <= 0 {
		return nil, errors.New("fit logistic: all weights are zero")
	}

	obj := &logisticObjective{x: x, n: n, d: d, y: y, w: w, sumW: sumW, lambda: lambda}
	// Start at the intercept-only solution: b = logit(weighted mean of y).
	x0 := make([]float64, d+1)
	mean := min(max(sumWY/sumW, 1e-6), 1-1e-6)
	x0[0] = math.Log(mean / (1 - mean))

	problem := optimize.Problem{Func: obj.Func, Grad: obj.Grad}
	settings := &optimize.Settings{
		GradientThreshold: 1e-9,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-15, Relative: 1e-15, Iterations: 30},
		MajorIterations:   2000,
	}
	res, err := optimize.Minimize(problem, x0, settings, &optimize.LBFGS{Store: 15})
	if res == nil {
		return nil, fmt.Errorf("fit logistic: %w", err)
	}
	if err != nil {
		// A line search can fail at the optimum from round-off; accept the
		// point if the gradient there is negligible.
		g := make([]float64, d+1)
		obj.Grad(g, res.X)
		if norm := maxAbs(g); norm > 1e-6 {
			return nil, fmt.Errorf("fit logistic: optimiser stopped (%v) with gradient %.3g: %w", res.Status, norm, err)
		}
	}
	for _, v := range res.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("fit logistic: diverged (lambda %v; separable data needs lambda > 0)", lambda)
		}
	}
	return &Logistic{
		Intercept:   res.X[0],
		Coef:        slices.Clone(res.X[1:]),
		Lambda:      lambda,
		Iterations:  res.MajorIterations,
		Evaluations: res.FuncEvaluations,
		Loss:        obj.Func(res.X),
	}, nil
}

// LogOdds returns b + β·row.
func (m *Logistic) LogOdds(row []float64) float64 {
	if len(row) != len(m.Coef) {
		panic(fmt.Sprintf("churn: logistic row of %d values, want %d", len(row), len(m.Coef)))
	}
	z := m.Intercept
	for j, v := range row {
		z += m.Coef[j] * v
	}
	return z
}

// Predict returns the churn probability σ(b + β·row).
func (m *Logistic) Predict(row []float64) float64 { return learn.Sigmoid(m.LogOdds(row)) }

// Contributions writes β_j·row_j, each feature's push on the log-odds, into
// dst (allocated when nil or short) and returns it. The intercept plus the
// contributions is the log-odds.
func (m *Logistic) Contributions(dst, row []float64) []float64 {
	if len(row) != len(m.Coef) {
		panic(fmt.Sprintf("churn: logistic row of %d values, want %d", len(row), len(m.Coef)))
	}
	if cap(dst) < len(row) {
		dst = make([]float64, len(row))
	}
	dst = dst[:len(row)]
	for j, v := range row {
		dst[j] = m.Coef[j] * v
	}
	return dst
}

// logisticObjective evaluates L and its gradient in one pass over the rows
// and caches both for the last point, since the optimiser asks for the value
// and the gradient at the same point.
type logisticObjective struct {
	x          []float64
	n, d       int
	y, w       []float64
	sumW       float64
	lambda     float64
	lastX      []float64
	lastF      float64
	lastG      []float64
	chunkF     []float64
	chunkG     [][]float64
	haveCached bool
}

func (o *logisticObjective) Func(params []float64) float64 {
	o.evaluate(params)
	return o.lastF
}

func (o *logisticObjective) Grad(grad, params []float64) {
	o.evaluate(params)
	copy(grad, o.lastG)
}

func (o *logisticObjective) evaluate(params []float64) {
	if o.haveCached && slices.Equal(params, o.lastX) {
		return
	}
	d := o.d
	nc := parallel.Chunks(o.n)
	if o.chunkG == nil {
		o.chunkF = make([]float64, nc)
		o.chunkG = make([][]float64, nc)
		for c := range o.chunkG {
			o.chunkG[c] = make([]float64, d+1)
		}
		o.lastG = make([]float64, d+1)
	}
	b, beta := params[0], params[1:]
	parallel.For(nc, func(c int) {
		g := o.chunkG[c]
		clear(g)
		var f float64
		for i := c * parallel.ChunkRows; i < min((c+1)*parallel.ChunkRows, o.n); i++ {
			row := o.x[i*d : (i+1)*d]
			z := b
			for j, v := range row {
				z += beta[j] * v
			}
			wi := 1.0
			if o.w != nil {
				wi = o.w[i]
			}
			f += wi * (learn.Softplus(z) - o.y[i]*z)
			r := wi * (learn.Sigmoid(z) - o.y[i])
			g[0] += r
			for j, v := range row {
				g[j+1] += r * v
			}
		}
		o.chunkF[c] = f
	})
	var f float64
	clear(o.lastG)
	for c := range nc { // fixed order: the sum does not depend on GOMAXPROCS
		f += o.chunkF[c]
		for j, v := range o.chunkG[c] {
			o.lastG[j] += v
		}
	}
	f /= o.sumW
	for j := range o.lastG {
		o.lastG[j] /= o.sumW
	}
	for j, bj := range beta {
		f += 0.5 * o.lambda * bj * bj
		o.lastG[j+1] += o.lambda * bj
	}
	o.lastF = f
	o.lastX = append(o.lastX[:0], params...)
	o.haveCached = true
}

func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}
