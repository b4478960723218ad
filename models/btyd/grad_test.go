package btyd

import (
	"math"
	"testing"
)

// numGrad is the central finite-difference gradient of f at u.
func numGrad(f func(u, g []float64) float64, u []float64) []float64 {
	g := make([]float64, len(u))
	for i := range u {
		h := 1e-6
		up := append([]float64(nil), u...)
		dn := append([]float64(nil), u...)
		up[i] += h
		dn[i] -= h
		g[i] = (f(up, nil) - f(dn, nil)) / (2 * h)
	}
	return g
}

// TestGradients checks the analytic gradients of both likelihoods against
// finite differences, and the folded BG/NBD likelihood against the sum of
// per-customer LogLikelihood, at several parameter points.
func TestGradients(t *testing.T) {
	_, obs := publishedObs(t)
	rows := Fold(obs)
	bg := newBGNBDLik(rows, 2)
	var spend []SpendObs
	for _, r := range readCSV(t, "cdnow_customers_summary_with_transactions.csv") {
		if x := num(t, r[1]); x > 0 {
			spend = append(spend, SpendObs{X: x, Mean: num(t, r[4]), W: 1})
		}
	}
	gg := newGGLik(spend, 2)
	for _, tc := range []struct {
		name string
		f    func(u, g []float64) float64
		u    []float64
	}{
		{"bgnbd published", bg.eval, []float64{math.Log(0.243), math.Log(4.414), math.Log(0.793), math.Log(2.426)}},
		{"bgnbd start", bg.eval, []float64{0, 1, 0, 1}},
		{"bgnbd a>1", bg.eval, []float64{0.5, 2, 1, -0.5}},
		{"gamma-gamma published", gg.eval, []float64{math.Log(6.25), math.Log(3.74), math.Log(15.44)}},
		{"gamma-gamma start", gg.eval, []float64{0, 0.7, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := make([]float64, len(tc.u))
			tc.f(tc.u, g)
			want := numGrad(tc.f, tc.u)
			for i := range g {
				if math.Abs(g[i]-want[i]) > 1e-6*max(1, math.Abs(want[i])) {
					t.Errorf("gradient[%d] = %.9g, finite difference %.9g", i, g[i], want[i])
				}
			}
		})
	}
	m := published
	var sum float64
	for _, o := range obs {
		sum += m.LogLikelihood(o)
	}
	folded := -bg.eval([]float64{math.Log(m.R), math.Log(m.Alpha), math.Log(m.A), math.Log(m.B)}, nil) * bg.total
	if math.Abs(sum-folded) > 1e-6 {
		t.Errorf("folded log-likelihood %.9f, per-customer sum %.9f", folded, sum)
	}
}
