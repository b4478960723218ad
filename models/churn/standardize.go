package churn

import (
	"fmt"
	"math"

	"github.com/patron-crm/patron/internal/learn"
)

// Standardizer centres and scales each column: z_j = (x_j − Mean[j]) / Std[j].
// Fit it on the training matrix only and apply it to every matrix (training,
// validation, test, serving) so no statistic of a later window leaks in.
//
// Std is the population standard deviation. A constant column gets Std 1, so
// it maps to 0 rather than dividing by zero.
type Standardizer struct {
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
}

// FitStandardizer computes per-column means and standard deviations of the
// n×d row-major matrix x. It fails on a malformed matrix or a non-finite
// value.
func FitStandardizer(x []float64, n, d int) (*Standardizer, error) {
	if err := learn.CheckMatrix(x, n, d); err != nil {
		return nil, fmt.Errorf("fit standardizer: %w", err)
	}
	s := &Standardizer{Mean: make([]float64, d), Std: make([]float64, d)}
	for i := range n {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			s.Mean[j] += v
		}
	}
	for j := range s.Mean {
		s.Mean[j] /= float64(n)
	}
	// Two-pass variance: stable when the mean is large against the spread.
	for i := range n {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			dv := v - s.Mean[j]
			s.Std[j] += dv * dv
		}
	}
	for j := range s.Std {
		sd := math.Sqrt(s.Std[j] / float64(n))
		if sd <= 1e-12*(1+math.Abs(s.Mean[j])) {
			sd = 1
		}
		s.Std[j] = sd
	}
	return s, nil
}

// Dim is the number of columns the standardizer was fitted on.
func (s *Standardizer) Dim() int { return len(s.Mean) }

// TransformRow writes the standardized row into dst (allocated when nil or
// short) and returns it. row must have Dim() values.
func (s *Standardizer) TransformRow(dst, row []float64) []float64 {
	if len(row) != len(s.Mean) {
		panic(fmt.Sprintf("churn: standardize row of %d values, want %d", len(row), len(s.Mean)))
	}
	if cap(dst) < len(row) {
		dst = make([]float64, len(row))
	}
	dst = dst[:len(row)]
	for j, v := range row {
		dst[j] = (v - s.Mean[j]) / s.Std[j]
	}
	return dst
}

// Transform returns a standardized copy of the n×Dim() row-major matrix x.
func (s *Standardizer) Transform(x []float64, n int) []float64 {
	d := len(s.Mean)
	if len(x) != n*d {
		panic(fmt.Sprintf("churn: standardize %d values as %d×%d", len(x), n, d))
	}
	out := make([]float64, len(x))
	for i := range n {
		s.TransformRow(out[i*d:(i+1)*d], x[i*d:(i+1)*d])
	}
	return out
}

// Unscale turns a logistic regression fitted on standardized features into
// the same model on raw features:
//
//	β_raw_j = β_j / Std[j],   b_raw = b − Σ_j β_j Mean[j] / Std[j].
//
// Explanations should keep using the standardized model, whose coefficients
// are comparable across features.
func (s *Standardizer) Unscale(m *Logistic) *Logistic {
	if len(m.Coef) != len(s.Mean) {
		panic(fmt.Sprintf("churn: unscale %d coefficients with %d columns", len(m.Coef), len(s.Mean)))
	}
	out := *m
	out.Coef = make([]float64, len(m.Coef))
	for j, b := range m.Coef {
		out.Coef[j] = b / s.Std[j]
		out.Intercept -= b * s.Mean[j] / s.Std[j]
	}
	return &out
}

// checkLabels validates labels: n values in [0, 1] (0/1 for churn; soft
// targets are allowed for Platt scaling).
func checkLabels(y []float64, n int) error {
	if len(y) != n {
		return fmt.Errorf("%d labels for %d rows", len(y), n)
	}
	for i, v := range y {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("label %d is %v, want a value in [0, 1]", i, v)
		}
	}
	return nil
}
