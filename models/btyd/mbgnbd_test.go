package btyd

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mathext"
)

// publishedMBGNBD are the MBG/NBD parameters on the CDNOW summary (weeks)
// that lifetimes' ModifiedBetaGeoFitter test checks against BTYDplus's
// mbgnbd.EstimateParameters (test_params_out_is_close_to_BTYDplus,
// github.com/CamDavidsonPilon/lifetimes, to 3 decimals).
var publishedMBGNBD = MBGNBD{R: 0.525, Alpha: 6.183, A: 0.891, B: 1.614}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// TestMBGNBDFitCDNOW reproduces the published MBG/NBD fit on the CDNOW
// summary to 3 decimals, on the published summary and on our own.
func TestMBGNBDFitCDNOW(t *testing.T) {
	_, published := publishedObs(t)
	s, err := Summarize(sampleDataset(t), SummaryOptions{Through: calibrationEnd, Unit: Week})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		obs  []Obs
	}{{"published summary", published}, {"our summary", s.AllObs()}} {
		t.Run(tc.name, func(t *testing.T) {
			fit, err := FitMBGNBD(tc.obs, FitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			m := fit.Model
			t.Logf("r=%.5f alpha=%.5f a=%.5f b=%.5f LL=%.3f (%s, %d evaluations, %d rows)", m.R, m.Alpha, m.A, m.B, fit.LogLik, fit.Method, fit.Evaluations, fit.Rows)
			for _, p := range []struct {
				name      string
				got, want float64
			}{{"r", m.R, publishedMBGNBD.R}, {"alpha", m.Alpha, publishedMBGNBD.Alpha}, {"a", m.A, publishedMBGNBD.A}, {"b", m.B, publishedMBGNBD.B}} {
				if round3(p.got) != p.want {
					t.Errorf("%s = %.5f, published %v", p.name, p.got, p.want)
				}
			}
			if fit.AtBoundary() || fit.Kind != MBGNBDKind || fit.Customers != 2357 {
				t.Errorf("fit %+v: want an interior MBG/NBD fit on 2357 customers", fit.FitStats)
			}
		})
	}
}

// TestMBGNBDLikelihoodNumeric checks LogLikelihood against the individual
// likelihood (1-p)^(x+1) λ^x e^(-λT) + p (1-p)^x λ^x e^(-λ t_x) integrated
// over Gamma(r, α) and Beta(a, b) numerically, the one-time buyer
// (x = 0) included; and the folded likelihood of the fit against the sum
// of per-customer LogLikelihood.
func TestMBGNBDLikelihoodNumeric(t *testing.T) {
	m := MBGNBD{R: 2, Alpha: 5, A: 1.5, B: 2.5}
	// ∫₀^∞ λ^x e^(-λs) Gamma(λ; r, α) dλ with λ = v/(1-v).
	lambda := func(x, s float64) float64 {
		lg, _ := math.Lgamma(m.R)
		f := func(v float64) float64 {
			if v <= 0 || v >= 1 {
				return 0
			}
			l := v / (1 - v)
			return math.Exp(m.R*math.Log(m.Alpha)+(m.R-1+x)*math.Log(l)-(m.Alpha+s)*l-lg) / ((1 - v) * (1 - v))
		}
		return quad.Fixed(f, 0, 1, 2000, quad.Legendre{}, 0)
	}
	// ∫₀¹ p^i (1-p)^j Beta(p; a, b) dp.
	beta := func(i, j float64) float64 {
		f := func(p float64) float64 {
			return math.Exp((m.A-1+i)*math.Log(p) + (m.B-1+j)*math.Log1p(-p) - lbeta(m.A, m.B))
		}
		return quad.Fixed(f, 0, 1, 2000, quad.Legendre{}, 0)
	}
	for _, o := range []Obs{{X: 0, Tx: 0, T: 20}, {X: 0, Tx: 0, T: 0.5}, {X: 3, Tx: 12, T: 20}, {X: 1, Tx: 1, T: 40}} {
		want := math.Log(beta(0, o.X+1)*lambda(o.X, o.T) + beta(1, o.X)*lambda(o.X, o.Tx))
		if got := m.LogLikelihood(o); math.Abs(got-want) > 1e-7 {
			t.Errorf("%+v: log-likelihood %.9f, numerical %.9f", o, got, want)
		}
		// P(alive) is the share of the first term.
		pa := beta(0, o.X+1) * lambda(o.X, o.T) / math.Exp(want)
		if got := m.PAlive(o); math.Abs(got-pa) > 1e-7 {
			t.Errorf("%+v: P(alive) %.9f, numerical %.9f", o, got, pa)
		}
	}

	_, obs := publishedObs(t)
	l := newPurchaseLik(MBGNBDKind, Fold(obs), 2)
	p := publishedMBGNBD
	var total float64
	for _, o := range obs {
		total += p.LogLikelihood(o)
	}
	folded := -l.eval([]float64{math.Log(p.R), math.Log(p.Alpha), math.Log(p.A), math.Log(p.B)}, nil) * l.total
	if math.Abs(total-folded) > 1e-6 {
		t.Errorf("folded log-likelihood %.9f, per-customer sum %.9f", folded, total)
	}
	for _, u := range [][]float64{
		{math.Log(p.R), math.Log(p.Alpha), math.Log(p.A), math.Log(p.B)},
		{0, 1, 0, 1},
		{0.5, 2, 1, -0.5},
	} {
		g := make([]float64, 4)
		l.eval(u, g)
		want := numGrad(l.eval, u)
		for i := range g {
			if math.Abs(g[i]-want[i]) > 1e-6*max(1, math.Abs(want[i])) {
				t.Errorf("MBG/NBD gradient at %v [%d] = %.9g, finite difference %.9g", u, i, g[i], want[i])
			}
		}
	}
}

// TestMBGNBDExpectedOrders checks the ₂F₁ form of E[X(t) | x, t_x, T]
// against the integral over the posterior of p, the population E[X(t)]
// against lifetimes' b/(a-1) form, and the relations between predictions.
func TestMBGNBDExpectedOrders(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    MBGNBD
		o    Obs
		t    float64
	}{
		{"cdnow paper example", publishedMBGNBD, Obs{X: 2, Tx: 30.43, T: 38.86}, 39},
		{"cdnow one-off", publishedMBGNBD, Obs{X: 0, Tx: 0, T: 38.86}, 52},
		{"cdnow heavy", publishedMBGNBD, Obs{X: 14, Tx: 38, T: 38.86}, 39},
		{"cdnow long horizon", publishedMBGNBD, Obs{X: 3, Tx: 10, T: 38.86}, 5000},
		{"a > 1", MBGNBD{R: 0.9, Alpha: 72, A: 1.2, B: 3.6}, Obs{X: 4, Tx: 300, T: 500}, 365},
		{"a near 1", MBGNBD{R: 0.5, Alpha: 10, A: 1.0005, B: 2}, Obs{X: 0, Tx: 0, T: 30}, 52},
		{"b < 1", MBGNBD{R: 2, Alpha: 5, A: 0.5, B: 0.3}, Obs{X: 0, Tx: 0, T: 10}, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.m.ExpectedOrders(tc.t, tc.o)
			pa := tc.m.PAlive(tc.o)
			want := pa * tc.m.activeModel().expectedIfAliveQuad(tc.t, tc.o)
			if math.Abs(got-want) > 2e-4*want {
				t.Errorf("E[X(%v)] = %.8f by ₂F₁, %.8f by quadrature", tc.t, got, want)
			}
			if tc.o.X == 0 && !(pa < 1) {
				t.Errorf("one-time buyer P(alive) = %v, want < 1", pa)
			}
			any := tc.m.ProbAny(tc.t, tc.o)
			if !(any > 0 && any <= pa && got >= any) {
				t.Errorf("want 0 < P(any) %v <= P(alive) %v and E[X] %v >= P(any)", any, pa, got)
			}
			if later := tc.m.ExpectedOrders(2*tc.t, tc.o); later < got {
				t.Errorf("E[X(2t)] %v < E[X(t)] %v", later, got)
			}
			if p := tc.m.ProbAny(tc.m.MedianWait(tc.o), tc.o) / pa; math.Abs(p-0.5) > 1e-9 {
				t.Errorf("P(order within the median wait | active) = %v, want 0.5", p)
			}
		})
	}
	m := publishedMBGNBD
	for _, tt := range []float64{1, 39, 78} {
		z := tt / (m.Alpha + tt)
		want := m.B / (m.A - 1) * (1 - math.Pow(m.Alpha/(m.Alpha+tt), m.R)*mathext.Hypergeo(m.R, m.B+1, m.A+m.B, z))
		if got := m.PopulationExpected(tt); math.Abs(got-want) > 1e-9*max(1, want) {
			t.Errorf("E[X(%v)] = %.10f, want %.10f", tt, got, want)
		}
	}
}

// TestMBGNBDMonteCarlo checks P(alive) and E[X(t)] against a simulation of
// the MBG/NBD process itself (dropout possible at the first purchase and
// after each repeat one), for one-time buyers and for repeat buyers, with
// a = 1 (the quadrature path) and a > 1 (the ₂F₁ path).
func TestMBGNBDMonteCarlo(t *testing.T) {
	const T, horizon = 20.0, 20.0
	targets := []Obs{{X: 0, Tx: 0, T: T}, {X: 2, Tx: 10, T: T}}
	for i, m := range []MBGNBD{{R: 2, Alpha: 10, A: 1, B: 3}, {R: 1.5, Alpha: 8, A: 2.5, B: 4}} {
		rng := rand.New(rand.NewPCG(uint64(10+i), 2))
		var n, alive, future [2]float64
		for sims := 0; sims < 600_000; sims++ {
			lambda := gammaDraw(rng, m.R) / m.Alpha
			p := betaDraw(rng, m.A, m.B)
			x, tx, now := 0, 0.0, 0.0
			dead := rng.Float64() < p // right after the first purchase
			var after float64
			for !dead {
				now += rng.ExpFloat64() / lambda
				if now > T+horizon {
					break
				}
				if now <= T {
					x++
					tx = now
				} else {
					after++
				}
				if rng.Float64() < p {
					dead = now <= T
					break
				}
			}
			k := -1
			switch {
			case x == 0:
				k = 0
			case x == 2 && math.Abs(tx-10) <= 0.5:
				k = 1
			}
			if k < 0 {
				continue
			}
			n[k]++
			if !dead {
				alive[k]++
			}
			future[k] += after
		}
		for k, o := range targets {
			if n[k] < 2000 {
				t.Fatalf("%+v: only %v simulated customers like %+v", m, n[k], o)
			}
			pa, ex := m.PAlive(o), m.ExpectedOrders(horizon, o)
			se := math.Sqrt(pa * (1 - pa) / n[k])
			if math.Abs(alive[k]/n[k]-pa) > 4*se+0.005 {
				t.Errorf("%+v %+v: simulated P(alive) %.4f over %v customers, model %.4f", m, o, alive[k]/n[k], n[k], pa)
			}
			if math.Abs(future[k]/n[k]-ex) > 0.06*ex {
				t.Errorf("%+v %+v: simulated E[X(%v)] %.4f over %v customers, model %.4f", m, o, horizon, future[k]/n[k], n[k], ex)
			}
			t.Logf("%+v %+v: n=%v P(alive) sim %.4f model %.4f; E[X] sim %.4f model %.4f", m, o, n[k], alive[k]/n[k], pa, future[k]/n[k], ex)
		}
	}
}

// simulateMBGNBD draws n customers' (x, t_x, T) from the MBG/NBD with T
// uniform on [Tmin, Tmax].
func simulateMBGNBD(rng *rand.Rand, m MBGNBD, n int, Tmin, Tmax float64) []Obs {
	out := make([]Obs, n)
	for i := range out {
		lambda := gammaDraw(rng, m.R) / m.Alpha
		p := betaDraw(rng, m.A, m.B)
		T := Tmin + (Tmax-Tmin)*rng.Float64()
		o := Obs{T: T, W: 1}
		if rng.Float64() >= p {
			for now := rng.ExpFloat64() / lambda; now <= T; now += rng.ExpFloat64() / lambda {
				o.X++
				o.Tx = now
				if rng.Float64() < p {
					break
				}
			}
		}
		out[i] = o
	}
	return out
}

// TestMBGNBDParameterRecovery fits MBG/NBD data simulated with known
// parameters (20,000 customers, continuous times): the estimates were
// within 4% of the truth; the tolerances leave room for sampling noise but
// not for a wrong likelihood term.
func TestMBGNBDParameterRecovery(t *testing.T) {
	truth := MBGNBD{R: 0.8, Alpha: 20, A: 0.8, B: 2.5}
	obs := simulateMBGNBD(rand.New(rand.NewPCG(1, 7)), truth, 20_000, 100, 300)
	fit, err := FitMBGNBD(obs, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := fit.Model
	t.Logf("%+v (truth %+v), %s", m, truth, fit.Method)
	for _, p := range []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"r", m.R, truth.R, 0.15},
		{"alpha", m.Alpha, truth.Alpha, 0.15},
		{"mean rate r/alpha", m.R / m.Alpha, truth.R / truth.Alpha, 0.08},
		{"a", m.A, truth.A, 0.3},
		{"b", m.B, truth.B, 0.3},
		{"mean dropout a/(a+b)", m.A / (m.A + m.B), truth.A / (truth.A + truth.B), 0.08},
	} {
		if math.Abs(p.got/p.want-1) > p.tol {
			t.Errorf("%s = %.4g, truth %.4g (tolerance %.0f%%)", p.name, p.got, p.want, 100*p.tol)
		}
	}
	if fit.AtBoundary() {
		t.Errorf("boundary flagged on an interior truth: %v", fit.Boundary)
	}
	// The BG/NBD on the same data fits worse: it cannot explain one-time
	// buyers' early dropout.
	bg, err := FitBGNBD(obs, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !(bg.LogLik < fit.LogLik) {
		t.Errorf("BG/NBD log-likelihood %.2f >= MBG/NBD %.2f on MBG/NBD data", bg.LogLik, fit.LogLik)
	}
}
