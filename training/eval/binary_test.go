package eval

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestEvaluateBinaryHandComputed(t *testing.T) {
	tests := []struct {
		name           string
		scores, labels []float64
		prob           bool
		auc, ap        float64
		brier, logLoss float64
		meanPred       float64
		topRate, lift  float64
	}{
		{
			name:   "perfect ranking",
			scores: []float64{0.1, 0.2, 0.8, 0.9}, labels: []float64{0, 0, 1, 1},
			prob: true, auc: 1, ap: 1,
			// (0.01+0.04+0.04+0.01)/4; -(2 ln 0.9 + 2 ln 0.8)/4
			brier: 0.025, logLoss: -(math.Log(0.9) + math.Log(0.8)) / 2,
			meanPred: 0.5, topRate: 1, lift: 2, // top ceil(4/10)=1 row is a churner
		},
		{
			name:   "all tied",
			scores: []float64{0.5, 0.5, 0.5, 0.5}, labels: []float64{0, 1, 0, 1},
			prob: true, auc: 0.5, ap: 0.5, // one threshold: recall 1 at precision 2/4
			brier: 0.25, logLoss: math.Ln2, meanPred: 0.5,
			topRate: 0.5, lift: 1, // the boundary group counts at its own rate
		},
		{
			name:   "six rows, no ties",
			scores: []float64{0.9, 0.8, 0.7, 0.6, 0.5, 0.4}, labels: []float64{1, 0, 1, 1, 0, 0},
			// pairs won: 3 + 2 + 2 of 9; AP = (1 + 2/3 + 3/4) / 3
			prob: true, auc: 7.0 / 9, ap: 29.0 / 36,
			// (0.01+0.64+0.09+0.16+0.25+0.16)/6
			brier:    1.31 / 6,
			logLoss:  -(math.Log(0.9) + math.Log(0.2) + math.Log(0.7) + math.Log(0.6) + math.Log(0.5) + math.Log(0.6)) / 6,
			meanPred: 3.9 / 6, topRate: 1, lift: 2,
		},
		{
			name:   "tie across classes counts one half",
			scores: []float64{0.2, 0.6, 0.6, 0.9}, labels: []float64{0, 1, 0, 1},
			// pairs: (0.6+,0.2-)=1, (0.6+,0.6-)=1/2, (0.9+, both)=2 -> 3.5/4
			prob: true, auc: 0.875, ap: 0.5 + 0.5*2.0/3,
			brier:    (0.04 + 0.16 + 0.36 + 0.01) / 4,
			logLoss:  -(math.Log(0.8) + math.Log(0.6) + math.Log(0.4) + math.Log(0.9)) / 4,
			meanPred: 0.575, topRate: 1, lift: 2,
		},
		{
			name:   "ranker in days: ranking metrics only",
			scores: []float64{10, 200, 35, 90}, labels: []float64{0, 1, 0, 1},
			prob: false, auc: 1, ap: 1, topRate: 1, lift: 2,
		},
		{
			name:   "inverted ranking",
			scores: []float64{0.9, 0.8, 0.2, 0.1}, labels: []float64{0, 0, 1, 1},
			prob: true, auc: 0, ap: 0.5*1.0/3 + 0.5*2.0/4,
			brier: (0.81 + 0.64 + 0.64 + 0.81) / 4, logLoss: -(math.Log(0.1) + math.Log(0.2)) / 2,
			meanPred: 0.5, topRate: 0, lift: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := EvaluateBinary(tc.name, tc.scores, tc.labels)
			if r.Probabilistic != tc.prob {
				t.Fatalf("Probabilistic = %v, want %v", r.Probabilistic, tc.prob)
			}
			for _, c := range []struct {
				what      string
				got, want float64
			}{
				{"ROCAUC", r.ROCAUC, tc.auc}, {"PRAUC", r.PRAUC, tc.ap},
				{"Brier", r.Brier, tc.brier}, {"LogLoss", r.LogLoss, tc.logLoss},
				{"MeanPredicted", r.MeanPredicted, tc.meanPred},
				{"TopDecileRate", r.TopDecileRate, tc.topRate}, {"LiftTop10", r.LiftTop10, tc.lift},
				{"BaseRate", r.BaseRate, 0.5},
			} {
				if !near(c.got, c.want) {
					t.Errorf("%s = %.12g, want %.12g", c.what, c.got, c.want)
				}
			}
			if !tc.prob && (r.Calibration != nil || r.ECE != 0) {
				t.Errorf("ranker got a calibration table %v / ECE %v", r.Calibration, r.ECE)
			}
		})
	}
}

func TestTopDecileBoundaryTies(t *testing.T) {
	// 20 rows -> top 2. Scores: one 0.9 churner, then three tied at 0.8 of
	// which one churned: 1 + 1*(1/3) hits in 2 slots.
	scores := make([]float64, 20)
	labels := make([]float64, 20)
	scores[0], labels[0] = 0.9, 1
	scores[1], scores[2], scores[3] = 0.8, 0.8, 0.8
	labels[3] = 1
	labels[10], labels[11] = 1, 1 // base rate 4/20
	for i := 4; i < 20; i++ {
		scores[i] = 0.1
	}
	r := EvaluateBinary("ties", scores, labels)
	if want := (1 + 1.0/3) / 2; !near(r.TopDecileRate, want) {
		t.Errorf("TopDecileRate = %v, want %v", r.TopDecileRate, want)
	}
	if want := (1 + 1.0/3) / 2 / 0.2; !near(r.LiftTop10, want) {
		t.Errorf("LiftTop10 = %v, want %v", r.LiftTop10, want)
	}
}

func TestCalibrationTable(t *testing.T) {
	p := []float64{0.05, 0.15, 0.12, 0.3, 1.0, 0.95}
	y := []float64{0, 1, 0, 1, 1, 0}
	got := CalibrationTable(p, y)
	if len(got) != CalibrationBins {
		t.Fatalf("%d bins, want %d", len(got), CalibrationBins)
	}
	want := map[int]CalibrationBin{
		0: {Count: 1, MeanPredicted: 0.05, ObservedRate: 0},
		1: {Count: 2, MeanPredicted: 0.135, ObservedRate: 0.5},
		3: {Count: 1, MeanPredicted: 0.3, ObservedRate: 1}, // 0.3 falls in [0.3, 0.4)
		9: {Count: 2, MeanPredicted: 0.975, ObservedRate: 0.5},
	}
	for b, bin := range got {
		w := want[b]
		if bin.Count != w.Count || !near(bin.MeanPredicted, w.MeanPredicted) || !near(bin.ObservedRate, w.ObservedRate) {
			t.Errorf("bin %d = %+v, want %+v", b, bin, w)
		}
		if !near(bin.Lower, float64(b)/10) || !near(bin.Upper, float64(b+1)/10) {
			t.Errorf("bin %d edges [%v, %v)", b, bin.Lower, bin.Upper)
		}
	}
	r := EvaluateBinary("cal", p, y)
	// (1/6)(0.05) + (2/6)(0.365) + (1/6)(0.7) + (2/6)(0.475)
	if want := 2.43 / 6; !near(r.ECE, want) {
		t.Errorf("ECE = %v, want %v", r.ECE, want)
	}
}

func TestLogLossClipsCertainMistakes(t *testing.T) {
	r := EvaluateBinary("clip", []float64{0, 1}, []float64{1, 0})
	if want := -math.Log(1e-15); !near(r.LogLoss, want) || math.IsInf(r.LogLoss, 0) {
		t.Errorf("LogLoss = %v, want %v", r.LogLoss, want)
	}
	if r.Brier != 1 {
		t.Errorf("Brier = %v, want 1", r.Brier)
	}
}

func TestEvaluateBinaryDegenerateIsNaNFree(t *testing.T) {
	tests := []struct {
		name           string
		scores, labels []float64
	}{
		{"empty", nil, nil},
		{"only churners", []float64{0.2, 0.7}, []float64{1, 1}},
		{"no churners", []float64{0.2, 0.7}, []float64{0, 0}},
		{"ranker no churners", []float64{20, 70}, []float64{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := EvaluateBinary(tc.name, tc.scores, tc.labels)
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("report does not encode: %v (%+v)", err, r)
			}
			if r.ROCAUC != 0 {
				t.Errorf("ROCAUC = %v for a single class, want 0", r.ROCAUC)
			}
		})
	}
}

func TestEvaluateBinaryOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 500
	scores := make([]float64, n)
	labels := make([]float64, n)
	for i := range scores {
		scores[i] = float64(rng.IntN(20)) / 20 // many ties
		if rng.Float64() < scores[i] {
			labels[i] = 1
		}
	}
	a := EvaluateBinary("x", scores, labels)
	rng.Shuffle(n, func(i, j int) {
		scores[i], scores[j] = scores[j], scores[i]
		labels[i], labels[j] = labels[j], labels[i]
	})
	b := EvaluateBinary("x", scores, labels)
	// Sums may differ in the last bit after reordering; compare rounded.
	round := func(r BinaryReport) BinaryReport {
		f := func(v float64) float64 { return math.Round(v*1e9) / 1e9 }
		r.MeanPredicted, r.Brier, r.LogLoss, r.ECE = f(r.MeanPredicted), f(r.Brier), f(r.LogLoss), f(r.ECE)
		r.ROCAUC, r.PRAUC, r.TopDecileRate, r.LiftTop10 = f(r.ROCAUC), f(r.PRAUC), f(r.TopDecileRate), f(r.LiftTop10)
		for i := range r.Calibration {
			r.Calibration[i].MeanPredicted = f(r.Calibration[i].MeanPredicted)
			r.Calibration[i].ObservedRate = f(r.Calibration[i].ObservedRate)
		}
		return r
	}
	if !reflect.DeepEqual(round(a), round(b)) {
		t.Errorf("report depends on order:\n%+v\n%+v", a, b)
	}
	// Brute-force Mann–Whitney check of the rank formula.
	var wins, pairs float64
	for i := range n {
		for j := range n {
			if labels[i] == 1 && labels[j] == 0 {
				pairs++
				switch {
				case scores[i] > scores[j]:
					wins++
				case scores[i] == scores[j]:
					wins += 0.5
				}
			}
		}
	}
	if !near(a.ROCAUC, wins/pairs) {
		t.Errorf("ROCAUC = %v, brute force %v", a.ROCAUC, wins/pairs)
	}
}

func TestEvaluateBinaryPanicsOnProgrammerErrors(t *testing.T) {
	tests := []struct {
		name           string
		scores, labels []float64
	}{
		{"length mismatch", []float64{0.1}, []float64{0, 1}},
		{"label not 0/1", []float64{0.1}, []float64{0.5}},
		{"NaN score", []float64{math.NaN()}, []float64{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			EvaluateBinary(tc.name, tc.scores, tc.labels)
		})
	}
}
