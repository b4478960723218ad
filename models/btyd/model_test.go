package btyd

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/features/synth"
)

// TestExpectedOrdersQuadrature checks the ₂F₁ form of E[X(t) | x, t_x, T]
// against the independent integral over the posterior of p, on both sides
// of a = 1 and with long horizons (z near 1), and the relations between the
// per-customer predictions.
func TestExpectedOrdersQuadrature(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    BGNBD
		o    Obs
		t    float64
	}{
		{"cdnow paper example", published, Obs{X: 2, Tx: 30.43, T: 38.86}, 39},
		{"cdnow one-off", published, Obs{X: 0, Tx: 0, T: 38.86}, 52},
		{"cdnow heavy", published, Obs{X: 14, Tx: 38, T: 38.86}, 39},
		{"cdnow long horizon", published, Obs{X: 3, Tx: 10, T: 38.86}, 5000},
		{"a > 1", BGNBD{R: 0.9, Alpha: 72, A: 1.2, B: 3.6}, Obs{X: 4, Tx: 300, T: 500}, 365},
		{"a > 1 long", BGNBD{R: 0.9, Alpha: 72, A: 3, B: 2}, Obs{X: 1, Tx: 20, T: 600}, 3650},
		{"a near 1", BGNBD{R: 0.5, Alpha: 10, A: 1.0005, B: 2}, Obs{X: 2, Tx: 15, T: 30}, 52},
		{"b < 1", BGNBD{R: 2, Alpha: 5, A: 0.5, B: 0.6}, Obs{X: 0, Tx: 0, T: 10}, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.m.ExpectedOrders(tc.t, tc.o)
			want := tc.m.PAlive(tc.o) * tc.m.expectedIfAliveQuad(tc.t, tc.o)
			if math.Abs(got-want) > 2e-4*want {
				t.Errorf("E[X(%v)] = %.8f by ₂F₁, %.8f by quadrature", tc.t, got, want)
			}
			pa, any := tc.m.PAlive(tc.o), tc.m.ProbAny(tc.t, tc.o)
			if !(any > 0 && any <= pa && got >= any) {
				t.Errorf("want 0 < P(any) %v <= P(alive) %v and E[X] %v >= P(any)", any, pa, got)
			}
			// More time, more orders; P(any) tends to P(alive).
			if later := tc.m.ExpectedOrders(2*tc.t, tc.o); later < got {
				t.Errorf("E[X(2t)] %v < E[X(t)] %v", later, got)
			}
			if far := tc.m.ProbAny(1e300, tc.o); math.Abs(far-pa) > 1e-3 {
				t.Errorf("P(any) over a very long horizon %v, want P(alive) %v", far, pa)
			}
			// Half of active customers order within the median wait.
			med := tc.m.MedianWait(tc.o)
			if p := tc.m.ProbAny(med, tc.o) / pa; math.Abs(p-0.5) > 1e-9 {
				t.Errorf("P(order within the median wait | active) = %v, want 0.5", p)
			}
		})
	}
}

// TestPAliveMonteCarlo checks P(alive) and E[X(t)] against a simulation of
// the BG/NBD process itself: customers with the same (x, t_x, T) (rounded to
// a day) are collected from simulated histories and their future counted.
func TestPAliveMonteCarlo(t *testing.T) {
	m := BGNBD{R: 2, Alpha: 10, A: 1, B: 3}
	const T, horizon = 20.0, 20.0
	target := Obs{X: 2, Tx: 10, T: T}
	rng := rand.New(rand.NewPCG(1, 2))
	var n, alive, future float64
	for sims := 0; sims < 2_000_000 && n < 4000; sims++ {
		lambda := gammaDraw(rng, m.R) / m.Alpha
		p := betaDraw(rng, m.A, m.B)
		// Repeat purchases after the first at 0; dropout after each.
		x, tx, now, dead := 0, 0.0, 0.0, false
		var after float64
		for {
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
		if x != 2 || math.Abs(tx-target.Tx) > 0.5 {
			continue
		}
		n++
		if !dead {
			alive++
		}
		future += after
	}
	if n < 2000 {
		t.Fatalf("only %v matching simulated customers", n)
	}
	pa, ex := m.PAlive(target), m.ExpectedOrders(horizon, target)
	sePA := math.Sqrt(pa * (1 - pa) / n)
	if math.Abs(alive/n-pa) > 4*sePA+0.01 {
		t.Errorf("simulated P(alive) %.4f over %v customers, model %.4f", alive/n, n, pa)
	}
	if math.Abs(future/n-ex) > 0.1*ex {
		t.Errorf("simulated E[X(%v)] %.4f, model %.4f", horizon, future/n, ex)
	}
}

func gammaDraw(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gammaDraw(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		if u := r.Float64(); math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

func betaDraw(r *rand.Rand, a, b float64) float64 {
	x := gammaDraw(r, a)
	return x / (x + gammaDraw(r, b))
}

// synthDataset generates a BG/NBD shop with features/synth (no
// seasonality, guests, returns or malformed lines) and reads it back.
func synthDataset(tb testing.TB, customers int, seed uint64) (*features.Dataset, synth.Config) {
	tb.Helper()
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories = customers, 200, 4
	cfg.Seasonality, cfg.GuestShare, cfg.ReturnRate, cfg.MalformedShare = 0, 0, 0, 0
	cfg.LinesPerOrder = 1
	cfg.Seed = seed
	ds, err := synth.Dataset(context.Background(), cfg, features.Options{Source: "synth"})
	if err != nil {
		tb.Fatal(err)
	}
	return ds, cfg
}

// TestParameterRecovery fits BG/NBD on 20,000 synthetic customers whose
// truth is known (r = 0.9, α = 72 days, a = 1.2, b = 3.6). Over seeds 1-6
// the estimates fell within r ±4%, α +0..7% (calendar-day rounding and
// same-day merging lengthen gaps a little), a ±6%, b ±10%, the mean rate
// r/α -1..-4% and the mean dropout a/(a+b) ±4%; the tolerances are about
// twice those spreads, so a wrong likelihood term (which moves estimates by
// far more) fails while sampling noise does not.
func TestParameterRecovery(t *testing.T) {
	ds, cfg := synthDataset(t, 20_000, 7)
	s, err := Summarize(ds, SummaryOptions{Through: cfg.End.AddDate(0, 0, -1)})
	if err != nil {
		t.Fatal(err)
	}
	fit, err := FitBGNBD(s.AllObs(), FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := fit.Model
	t.Logf("r=%.3f alpha=%.2f a=%.3f b=%.3f (truth %v %v %v %v) %d rows, %s", m.R, m.Alpha, m.A, m.B, cfg.R, cfg.Alpha, cfg.A, cfg.B, fit.Rows, fit.Method)
	for _, p := range []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"r", m.R, cfg.R, 0.10},
		{"alpha", m.Alpha, cfg.Alpha, 0.12},
		{"mean rate r/alpha", m.R / m.Alpha, cfg.R / cfg.Alpha, 0.07},
		{"a", m.A, cfg.A, 0.20},
		{"b", m.B, cfg.B, 0.20},
		{"mean dropout a/(a+b)", m.A / (m.A + m.B), cfg.A / (cfg.A + cfg.B), 0.08},
	} {
		if math.Abs(p.got/p.want-1) > p.tol {
			t.Errorf("%s = %.4g, truth %.4g (tolerance %.0f%%)", p.name, p.got, p.want, 100*p.tol)
		}
	}
	if fit.AtBoundary() {
		t.Errorf("boundary flagged on an interior truth: %v", fit.Boundary)
	}
}

// TestDegenerate: data that cannot support a fit gets a clear error; data
// pushing a parameter to a limit is flagged.
func TestDegenerate(t *testing.T) {
	many := func(n int, o Obs) []Obs {
		out := make([]Obs, n)
		for i := range out {
			out[i] = o
		}
		return out
	}
	for _, tc := range []struct {
		name string
		obs  []Obs
		want error
	}{
		{"no customers", nil, ErrTooFewCustomers},
		{"too few", many(5, Obs{X: 1, Tx: 2, T: 3}), ErrTooFewCustomers},
		{"no repeat buyers", many(500, Obs{X: 0, Tx: 0, T: 30}), ErrNoRepeatBuyers},
		{"t_x > T", append(many(50, Obs{X: 1, Tx: 2, T: 3}), Obs{X: 1, Tx: 5, T: 3}), ErrBadObs},
		{"negative x", append(many(50, Obs{X: 1, Tx: 2, T: 3}), Obs{X: -1, T: 3}), ErrBadObs},
		{"NaN", append(many(50, Obs{X: 1, Tx: 2, T: 3}), Obs{X: 1, Tx: math.NaN(), T: 3}), ErrBadObs},
		{"fractional x", append(many(50, Obs{X: 1, Tx: 2, T: 3}), Obs{X: 1.5, Tx: 2, T: 3}), ErrBadObs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FitBGNBD(tc.obs, FitOptions{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}

	// Everyone identical: a fit or an error, never NaN.
	t.Run("all the same", func(t *testing.T) {
		fit, err := FitBGNBD(many(300, Obs{X: 2, Tx: 10, T: 20}), FitOptions{})
		if err != nil {
			t.Logf("error: %v", err)
			return
		}
		m := fit.Model
		if math.IsNaN(fit.LogLik) || math.IsNaN(m.PAlive(Obs{X: 2, Tx: 10, T: 20})) {
			t.Fatalf("NaN in %+v", fit)
		}
		t.Logf("%+v boundary %v", m, fit.Boundary)
	})

	// Nobody drops out (Poisson buyers with Gamma rates): a runs to 0 and
	// the fit says so; QuietProb still ranks the silent customers.
	t.Run("no dropout", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		var obs []Obs
		for i := 0; i < 5000; i++ {
			lambda := gammaDraw(rng, 1) / 20
			T := 100 + 100*rng.Float64()
			o := Obs{T: math.Round(T), W: 1}
			for now := rng.ExpFloat64() / lambda; now < T; now += rng.ExpFloat64() / lambda {
				o.X++
				o.Tx = math.Ceil(now)
			}
			o.Tx = min(o.Tx, o.T)
			if o.X > 0 && o.Tx == 0 {
				o.Tx = 1
			}
			obs = append(obs, o)
		}
		fit, err := FitBGNBD(obs, FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v %s: %v", fit.Model, fit.Method, fit.Boundary)
		if !fit.AtBoundary() || !strings.Contains(strings.Join(fit.Boundary, ";"), "a → 0") {
			t.Fatalf("a = %v not flagged at the boundary: %v", fit.Model.A, fit.Boundary)
		}
		recent, silent := Obs{X: 5, Tx: 195, T: 200}, Obs{X: 5, Tx: 20, T: 200}
		if pa := fit.Model.PAlive(silent); pa < 0.99 {
			t.Errorf("P(alive) %v at a → 0, want ≈ 1", pa)
		}
		if q1, q2 := fit.Model.QuietProb(recent), fit.Model.QuietProb(silent); !(q2 < 0.01 && q1 > 0.5) {
			t.Errorf("QuietProb recent %v, silent %v: want the long silence flagged", q1, q2)
		}
	})
}

// TestSummarizeRules checks the summary's definitions on a hand-made
// history: same-day merging in UTC and in another location, the inclusive
// last day, repeat spend, returns, customers first seen after Through.
func TestSummarizeRules(t *testing.T) {
	const orders = `order_id,customer_id,item_id,quantity,unit_price,ordered_at
1,A,i,1,10,2024-01-01 09:00:00
2,A,i,1,5,2024-01-01 23:30:00
3,A,i,2,10,2024-01-02 00:30:00
4,A,i,1,7,2024-01-10 12:00:00
5,A,i,1,100,2024-01-31 23:59:00
6,A,i,1,100,2024-02-01 00:00:00
C7,A,i,-1,7,2024-01-12 10:00:00
8,B,i,1,3,2024-01-31 08:00:00
9,C,i,1,3,2024-02-02 08:00:00
`
	ds, err := features.Read(context.Background(), strings.NewReader(orders), features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	through := time.Date(2024, 1, 31, 15, 0, 0, 0, time.UTC) // time of day ignored
	type want struct {
		x, tx, T, orders int32
		spend, repeat    float64
		returned         float64
	}
	for _, tc := range []struct {
		name  string
		loc   *time.Location
		a, b  want
		found bool
	}{
		// UTC: days 1 (10+5), 2 (20), 10 (7), 31 (100): x = 3.
		{"UTC", nil, want{3, 30, 30, 5, 142, 127, 7}, want{0, 0, 0, 1, 3, 0, 0}, true},
		// New York (UTC-5): the first three orders are all on Jan 1 (04:00,
		// 18:30, 19:30); Jan 10; Jan 31 18:59 and 19:00 are one day, in.
		{"New York", ny, want{2, 30, 30, 6, 242, 207, 7}, want{0, 0, 0, 1, 3, 0, 0}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Summarize(ds, SummaryOptions{Through: through, Location: tc.loc})
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range map[string]want{"A": tc.a, "B": tc.b} {
				id, _ := ds.Customers.Index(name)
				c, ok := s.Find(id)
				if !ok {
					t.Fatalf("customer %s missing", name)
				}
				got := want{c.X, c.TxDays, c.TDays, c.Orders, c.Spend, c.RepeatSpend, c.Returned}
				if got != w {
					t.Errorf("customer %s: %+v, want %+v", name, got, w)
				}
			}
			id, _ := ds.Customers.Index("C")
			if _, ok := s.Find(id); ok || s.Skipped != 1 {
				t.Errorf("customer C (first order after Through) present or skipped %d", s.Skipped)
			}
		})
	}
	if _, err := Summarize(ds, SummaryOptions{}); err == nil {
		t.Error("summary without Through: no error")
	}
}

// TestScoreCLV checks the CLV formula's parts and ScoreAll's determinism.
func TestScoreCLV(t *testing.T) {
	s, err := Summarize(sampleDataset(t), SummaryOptions{Through: calibrationEnd, Unit: Week})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Fit(s, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Spend.Fallback {
		t.Fatalf("spend fallback on CDNOW: %s", m.Spend.Reason)
	}
	c := &s.Customers[0]
	flat, _ := m.Score(s, c, CLVOptions{HorizonDays: 273, Periods: 1})
	if want := flat.ExpectedValue * flat.ExpectedOrders; math.Abs(flat.CLV-want) > 1e-9 {
		t.Errorf("undiscounted CLV %v, want E[M]·E[X] = %v", flat.CLV, want)
	}
	if want := m.Purchases.ExpectedOrders(39, s.Obs(c)); math.Abs(flat.ExpectedOrders-want) > 1e-12 {
		t.Errorf("expected orders over 273 days %v, want E[X(39 weeks)] %v", flat.ExpectedOrders, want)
	}
	disc, _ := m.Score(s, c, CLVOptions{HorizonDays: 273, AnnualDiscount: 0.10})
	if !(disc.CLV < flat.CLV && disc.CLV > flat.CLV/1.1) {
		t.Errorf("discounted CLV %v, undiscounted %v", disc.CLV, flat.CLV)
	}
	if _, err := m.Score(s, c, CLVOptions{AnnualDiscount: -1}); err == nil {
		t.Error("negative discount rate accepted")
	}
	one, err := m.ScoreAll(s, DefaultCLVOptions(), 1)
	if err != nil {
		t.Fatal(err)
	}
	two, _ := m.ScoreAll(s, DefaultCLVOptions(), 2)
	var total float64
	for i := range one {
		if one[i] != two[i] {
			t.Fatalf("customer %d: 1 worker %+v, 2 workers %+v", i, one[i], two[i])
		}
		if one[i].CLV < 0 || math.IsNaN(one[i].CLV) {
			t.Fatalf("customer %d: CLV %v", i, one[i].CLV)
		}
		total += one[i].CLV
	}
	t.Logf("total 1-year CLV of the 2,357 sample customers: $%.0f", total)
}

// TestSpendFallback: with too few repeat buyers the spend model falls back
// to observed means and is never negative.
func TestSpendFallback(t *testing.T) {
	if _, err := FitGammaGamma([]SpendObs{{X: 1, Mean: 10}}, FitOptions{}); !errors.Is(err, ErrTooFewCustomers) {
		t.Errorf("error %v, want ErrTooFewCustomers", err)
	}
	if _, err := FitGammaGamma([]SpendObs{{X: 0, Mean: 0}}, FitOptions{}); !errors.Is(err, ErrNoRepeatBuyers) {
		t.Errorf("error %v, want ErrNoRepeatBuyers", err)
	}
	sm := SpendModel{Fallback: true, PopulationMean: 12}
	for _, tc := range []struct{ x, mean, want float64 }{{0, 0, 12}, {3, 20, 20}, {2, 0, 12}} {
		if got := sm.ExpectedValue(tc.x, tc.mean); got != tc.want {
			t.Errorf("fallback E[M | %v, %v] = %v, want %v", tc.x, tc.mean, got, tc.want)
		}
	}
	// A sample this heavy-tailed has no finite mean: q <= 1 is an error.
	var heavy []SpendObs
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 2000; i++ {
		heavy = append(heavy, SpendObs{X: 1, Mean: math.Pow(rng.Float64(), -2)}) // Pareto(1/2)
	}
	fit, err := FitGammaGamma(heavy, FitOptions{})
	if !errors.Is(err, ErrInfiniteMean) || fit == nil || fit.Model.Q > 1 {
		t.Errorf("heavy tail: fit %+v, error %v; want q <= 1 and ErrInfiniteMean", fit, err)
	}
}
