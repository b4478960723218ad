// Package learn holds what the learners in models/ (logistic regression,
// calibration, gradient-boosted trees) share: input checks and the logistic
// link, evaluated without overflow.
package learn

import (
	"fmt"
	"math"
)

// Sigmoid is σ(z) = 1/(1+e^−z), evaluated without overflow.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Softplus is log(1+e^z), evaluated without overflow.
func Softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

// CheckMatrix checks that x is a finite row-major n × d matrix with rows.
func CheckMatrix(x []float64, n, d int) error {
	if n <= 0 {
		return fmt.Errorf("no rows (n = %d)", n)
	}
	if d < 0 {
		return fmt.Errorf("negative column count %d", d)
	}
	if len(x) != n*d {
		return fmt.Errorf("matrix has %d values, want %d rows × %d columns = %d", len(x), n, d, n*d)
	}
	for k, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("row %d column %d is %v, want a finite number", k/d, k%d, v)
		}
	}
	return nil
}

// CheckBinary checks that y holds n labels, each 0 or 1.
func CheckBinary(y []float64, n int) error {
	if n == 0 {
		return fmt.Errorf("no rows")
	}
	if len(y) != n {
		return fmt.Errorf("%d labels for %d scores", len(y), n)
	}
	for i, v := range y {
		if v != 0 && v != 1 {
			return fmt.Errorf("label %d is %v, want 0 or 1", i, v)
		}
	}
	return nil
}
