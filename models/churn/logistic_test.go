package churn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/patron-crm/patron/internal/learn"
	"github.com/patron-crm/patron/internal/learntest"
	"github.com/patron-crm/patron/internal/parallel"
)

func TestFitLogisticRecoversCoefficients(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	n, d := 20000, 3
	want := []float64{-0.5, 1.0, -2.0, 0.5} // intercept, β
	x := make([]float64, n*d)
	y := make([]float64, n)
	for i := range n {
		z := want[0]
		for j := range d {
			v := rng.NormFloat64()
			x[i*d+j] = v
			z += want[j+1] * v
		}
		if rng.Float64() < learn.Sigmoid(z) {
			y[i] = 1
		}
	}
	m, err := FitLogistic(x, n, d, y, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	got := append([]float64{m.Intercept}, m.Coef...)
	for j := range want {
		if !near(got[j], want[j], 0.08) {
			t.Errorf("parameter %d = %.3f, want %.3f ± 0.08", j, got[j], want[j])
		}
	}
}

func TestFitLogisticHandChecked(t *testing.T) {
	tests := []struct {
		name      string
		x         []float64
		d         int
		y, w      []float64
		lambda    float64
		intercept float64
		coef      []float64
	}{
		{
			// Saturated model: each x value gets its own rate. x=0: 1 of 2
			// churned -> b = logit(1/2) = 0; x=1: 2 of 3 -> b+β = logit(2/3) = ln 2.
			name: "one binary feature", x: []float64{0, 0, 1, 1, 1}, d: 1,
			y: []float64{0, 1, 0, 1, 1}, intercept: 0, coef: []float64{math.Ln2},
		},
		{
			name: "intercept only", x: nil, d: 0,
			y: []float64{1, 0, 0, 0}, intercept: math.Log(1.0 / 3), coef: []float64{},
		},
		{
			// Weights 3,1 on x=0 (y 1,0) -> rate 3/4; x=1 rows (y 0,1) weights 1,1 -> 1/2.
			name: "weighted", x: []float64{0, 0, 1, 1}, d: 1,
			y: []float64{1, 0, 0, 1}, w: []float64{3, 1, 1, 1},
			intercept: math.Log(3), coef: []float64{-math.Log(3)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := FitLogisticWeighted(tc.x, len(tc.y), tc.d, tc.y, tc.w, tc.lambda)
			if err != nil {
				t.Fatal(err)
			}
			if !near(m.Intercept, tc.intercept, 1e-5) {
				t.Errorf("intercept = %.7f, want %.7f", m.Intercept, tc.intercept)
			}
			for j := range tc.coef {
				if !near(m.Coef[j], tc.coef[j], 1e-5) {
					t.Errorf("coef %d = %.7f, want %.7f", j, m.Coef[j], tc.coef[j])
				}
			}
		})
	}
}

// With λ > 0 the optimum satisfies mean((p−y)x_j) + λβ_j = 0 and
// mean(p−y) = 0 (intercept unpenalised): check that on a small case.
func TestFitLogisticStationaryWithPenalty(t *testing.T) {
	x := []float64{-1, 2, 0.5, 1, 1.5, -0.5, 2, 0, -2, 1, 0.3, 0.3}
	y := []float64{0, 1, 1, 0, 1, 0}
	n, d, lambda := 6, 2, 0.3
	m, err := FitLogistic(x, n, d, y, lambda)
	if err != nil {
		t.Fatal(err)
	}
	g := make([]float64, d+1)
	for i := range n {
		row := x[i*d : (i+1)*d]
		r := m.Predict(row) - y[i]
		g[0] += r / float64(n)
		for j, v := range row {
			g[j+1] += r * v / float64(n)
		}
	}
	for j := range d {
		g[j+1] += lambda * m.Coef[j]
	}
	for j, v := range g {
		if math.Abs(v) > 1e-7 {
			t.Errorf("gradient %d = %g at the fitted point", j, v)
		}
	}
}

func TestFitLogisticSeparableStaysFinite(t *testing.T) {
	x := []float64{-2, -1, -0.5, 0.5, 1, 2}
	y := []float64{0, 0, 0, 1, 1, 1}
	m, err := FitLogistic(x, 6, 1, y, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if math.IsInf(m.Coef[0], 0) || math.IsNaN(m.Coef[0]) || m.Coef[0] <= 0 || m.Coef[0] > 50 {
		t.Errorf("coef = %v, want finite and positive", m.Coef[0])
	}
	if p := m.Predict([]float64{2}); !(p > 0.5 && p < 1) {
		t.Errorf("P(x=2) = %v", p)
	}
}

func TestFitLogisticCannotLearnXOR(t *testing.T) {
	x, y := learntest.XOR(2000, 0, 3)
	m, err := FitLogistic(x, 2000, 2, y, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	scores := make([]float64, 2000)
	for i := range scores {
		scores[i] = m.Predict(x[2*i : 2*i+2])
	}
	if a := learntest.AUC(scores, y); a > 0.6 {
		t.Errorf("logistic AUC on XOR = %.3f; the data should defeat a linear model", a)
	}
}

func TestFitLogisticDeterministicAcrossGOMAXPROCS(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	n, d := 3*parallel.ChunkRows+17, 4 // several chunks
	x := make([]float64, n*d)
	y := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	for i := range y {
		if rng.Float64() < learn.Sigmoid(x[i*d]-x[i*d+1]) {
			y[i] = 1
		}
	}
	prev := runtime.GOMAXPROCS(1)
	a, errA := FitLogistic(x, n, d, y, 0.01)
	runtime.GOMAXPROCS(max(prev, 2))
	b, errB := FitLogistic(x, n, d, y, 0.01)
	runtime.GOMAXPROCS(prev)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("fits differ:\n%+v\n%+v", a, b)
	}
}

func TestFitLogisticErrors(t *testing.T) {
	tests := []struct {
		name   string
		x, y   []float64
		n, d   int
		w      []float64
		lambda float64
		want   string
	}{
		{"no rows", nil, nil, 0, 1, nil, 0, "no rows"},
		{"shape", []float64{1, 2, 3}, []float64{0, 1}, 2, 2, nil, 0, "want 2 rows × 2 columns"},
		{"NaN feature", []float64{1, math.NaN()}, []float64{0, 1}, 2, 1, nil, 0, "row 1 column 0 is NaN"},
		{"bad label", []float64{1, 2}, []float64{0, 2}, 2, 1, nil, 0, "label 1 is 2"},
		{"negative lambda", []float64{1, 2}, []float64{0, 1}, 2, 1, nil, -1, "lambda is -1"},
		{"negative weight", []float64{1, 2}, []float64{0, 1}, 2, 1, []float64{1, -1}, 0, "weight 1 is -1"},
		{"zero weights", []float64{1, 2}, []float64{0, 1}, 2, 1, []float64{0, 0}, 0, "all weights are zero"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FitLogisticWeighted(tc.x, tc.n, tc.d, tc.y, tc.w, tc.lambda)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestStandardizer(t *testing.T) {
	// Columns: (1, 3) mean 2 std 1; constant 5 -> std 1.
	x := []float64{1, 5, 3, 5}
	s, err := FitStandardizer(x, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Mean, []float64{2, 5}) || !reflect.DeepEqual(s.Std, []float64{1, 1}) {
		t.Fatalf("mean %v std %v", s.Mean, s.Std)
	}
	if got := s.Transform(x, 2); !reflect.DeepEqual(got, []float64{-1, 0, 1, 0}) {
		t.Errorf("Transform = %v", got)
	}
	if got := s.TransformRow(nil, []float64{4, 7}); !reflect.DeepEqual(got, []float64{2, 2}) {
		t.Errorf("TransformRow = %v", got)
	}
	// Unscale gives the same log-odds on raw rows as the model on z-rows.
	m := &Logistic{Intercept: 0.3, Coef: []float64{1.5, -0.7}}
	raw := s.Unscale(m)
	row := []float64{4, 7}
	if a, b := m.LogOdds(s.TransformRow(nil, row)), raw.LogOdds(row); !near(a, b, 1e-12) {
		t.Errorf("unscaled log-odds %v, want %v", b, a)
	}
}

func ExampleFitLogistic() {
	// Two of three customers with x=1 churned, one of two with x=0.
	x := []float64{0, 0, 1, 1, 1}
	y := []float64{0, 1, 0, 1, 1}
	m, err := FitLogistic(x, 5, 1, y, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("coefficient %.3f (ln 2)\n", m.Coef[0])
	fmt.Printf("P(churn | x=0) = %.3f\n", m.Predict([]float64{0}))
	fmt.Printf("P(churn | x=1) = %.3f\n", m.Predict([]float64{1}))
	// Output:
	// coefficient 0.693 (ln 2)
	// P(churn | x=0) = 0.500
	// P(churn | x=1) = 0.667
}
