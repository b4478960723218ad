package churn

import (
	"math"
	"reflect"
	"testing"

	"github.com/patron-crm/patron/internal/learn"
)

func TestFitIsotonicPAV(t *testing.T) {
	tests := []struct {
		name           string
		scores, labels []float64
		lower, value   []float64
		probe          map[float64]float64
	}{
		{
			// 1,0 pool to 1/2; then 0 pools all three to 1/3; 1 stays; 0
			// pools with it to 1/2 (above 1/3, so it stops); 1 stays.
			name:   "textbook",
			scores: []float64{1, 2, 3, 4, 5, 6}, labels: []float64{1, 0, 0, 1, 0, 1},
			lower: []float64{1, 4, 6}, value: []float64{1.0 / 3, 0.5, 1},
			probe: map[float64]float64{0: 1.0 / 3, 3.5: 1.0 / 3, 4: 0.5, 5.9: 0.5, 6: 1, 100: 1},
		},
		{
			name:   "ties pooled first",
			scores: []float64{1, 1, 2, 3}, labels: []float64{1, 0, 0, 1},
			lower: []float64{1, 3}, value: []float64{1.0 / 3, 1},
			probe: map[float64]float64{1: 1.0 / 3, 2.5: 1.0 / 3, 3: 1},
		},
		{
			name:   "already monotone, equal steps merged",
			scores: []float64{3, 1, 2}, labels: []float64{1, 0, 0},
			lower: []float64{1, 3}, value: []float64{0, 1},
			probe: map[float64]float64{2: 0, 3: 1},
		},
		{
			name:   "fully reversed pools to the mean",
			scores: []float64{1, 2, 3, 4}, labels: []float64{1, 1, 0, 0},
			lower: []float64{1}, value: []float64{0.5},
			probe: map[float64]float64{-5: 0.5, 10: 0.5},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := FitIsotonic(tc.scores, tc.labels)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.Lower, tc.lower) {
				t.Errorf("Lower = %v, want %v", m.Lower, tc.lower)
			}
			for k := range tc.value {
				if k >= len(m.Value) || !near(m.Value[k], tc.value[k], 1e-12) {
					t.Fatalf("Value = %v, want %v", m.Value, tc.value)
				}
			}
			var w float64
			for _, v := range m.Weight {
				w += v
			}
			if w != float64(len(tc.scores)) {
				t.Errorf("weights sum to %v, want %d", w, len(tc.scores))
			}
			for s, want := range tc.probe {
				if got := m.Calibrate(s); !near(got, want, 1e-12) {
					t.Errorf("Calibrate(%v) = %v, want %v", s, got, want)
				}
			}
		})
	}
}

func TestFitPlattHandChecked(t *testing.T) {
	// Scores 0,0,1,1,1 with labels 0,1,0,1,1: N+ = 3, N− = 2, so the targets
	// are t+ = 4/5 and t− = 1/4. The model is saturated (two distinct
	// scores), so σ(B) = mean target at s=0 = (1/4+4/5)/2 = 0.525 and
	// σ(A+B) = mean target at s=1 = (1/4+8/5)/3 = 37/60.
	p, err := FitPlatt([]float64{0, 0, 1, 1, 1}, []float64{0, 1, 0, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	logit := func(q float64) float64 { return math.Log(q / (1 - q)) }
	if want := logit(0.525); !near(p.B, want, 1e-5) {
		t.Errorf("B = %v, want %v", p.B, want)
	}
	if want := logit(37.0/60) - logit(0.525); !near(p.A, want, 1e-5) {
		t.Errorf("A = %v, want %v", p.A, want)
	}
	if got := p.Calibrate(1); !near(got, 37.0/60, 1e-6) {
		t.Errorf("Calibrate(1) = %v, want %v", got, 37.0/60)
	}
}

func TestFitPlattSeparableStaysFinite(t *testing.T) {
	p, err := FitPlatt([]float64{-3, -2, -1, 1, 2, 3}, []float64{0, 0, 0, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if math.IsInf(p.A, 0) || math.IsNaN(p.A) || p.A <= 0 {
		t.Errorf("A = %v, want finite and positive", p.A)
	}
	// Platt's targets cap the top probability near t+ = 4/5.
	if got := p.Calibrate(3); got > 0.9 {
		t.Errorf("Calibrate(3) = %v, want shrunk below 0.9", got)
	}
}

func TestCalibratorErrors(t *testing.T) {
	if _, err := FitIsotonic([]float64{0.1, 0.2}, []float64{0, 0.5}); err == nil {
		t.Error("isotonic accepted a soft label")
	}
	if _, err := FitPlatt(nil, nil); err == nil {
		t.Error("platt accepted no rows")
	}
	if _, err := FitIsotonic([]float64{math.Inf(1)}, []float64{1}); err == nil {
		t.Error("isotonic accepted an infinite score")
	}
}

func TestLogit(t *testing.T) {
	for _, p := range []float64{0, 1e-3, 0.5, 0.9, 1} {
		if v := Logit(p); math.IsInf(v, 0) || math.IsNaN(v) || !near(learn.Sigmoid(v), min(max(p, 1e-12), 1-1e-12), 1e-9) {
			t.Errorf("Logit(%v) = %v", p, v)
		}
	}
}
