package training

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/features/synth"
	"github.com/patron-crm/patron/models/churn"
	"github.com/patron-crm/patron/training/eval"
)

// TestChurnOnGeneratedData: on a BG/NBD-like history with real dropout, the
// churn models rank churners better than recency alone and their
// probabilities are calibrated near the observed rate.
func TestChurnOnGeneratedData(t *testing.T) {
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories, cfg.Seed = 4000, 60, 4, 11
	cfg.Seasonality = 0
	ds, err := synth.Dataset(context.Background(), cfg, features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := EvaluateChurn(ds, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), cfg.End, 90, 1)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]float64{}
	var chosen struct{ auc, mean, rate float64 }
	for _, r := range ev.Test {
		byName[r.Name] = r.ROCAUC
		if r.Name == ev.Chosen {
			chosen.auc, chosen.mean, chosen.rate = r.ROCAUC, r.MeanPredicted, r.BaseRate
		}
	}
	if chosen.auc < byName["recency alone"] || chosen.auc < 0.7 {
		t.Fatalf("chosen %s AUC %.3f, recency alone %.3f", ev.Chosen, chosen.auc, byName["recency alone"])
	}
	if d := chosen.mean - chosen.rate; d > 0.05 || d < -0.05 {
		t.Fatalf("mean predicted %.3f vs churn rate %.3f", chosen.mean, chosen.rate)
	}
	if s := ev.Seasonality[1]; s < 0.8 || s > 1.25 {
		t.Fatalf("seasonal index %.3f on data generated without seasons", s)
	}
}

// TestChurnRefusesCensoredWindows: a test window that runs past the data
// would count the missing days as churn; the evaluation refuses it, and
// training at an as-of date after the data skips churn with the reason.
func TestChurnRefusesCensoredWindows(t *testing.T) {
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories, cfg.Seed = 600, 30, 3, 5
	ds, err := synth.Dataset(context.Background(), cfg, features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EvaluateChurn(ds, cfg.End.AddDate(0, 0, -30), cfg.End, 90, 1); err == nil || !strings.Contains(err.Error(), "runs past the data") {
		t.Fatalf("censored test window: %v", err)
	}
	_, _, err = trainChurn(ds, cfg.End.AddDate(0, 3, 0), 90, 1, churn.DefaultThresholds, nil, discard{})
	if !errors.Is(err, churn.ErrNoModel) || !strings.Contains(err.Error(), "after the last order") {
		t.Fatalf("as-of after the data: %v", err)
	}
}

// TestCrossValidatedCeiling: the ceiling scores each customer with a model
// that never saw them. On labels unrelated to the features an in-sample fit
// still ranks them (it memorises the noise), the cross-validated one must
// not; on labels that follow a feature both rank them well.
func TestCrossValidatedCeiling(t *testing.T) {
	const n, d = 300, 40
	for _, tc := range []struct {
		name         string
		signal       float64 // weight of feature 0 in the labels
		minIn, minCV float64
		maxCV        float64
	}{
		{"noise", 0, 0.65, 0, 0.60},
		{"signal", 3, 0.85, 0.85, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			w := churnWindow{f: &features.ChurnFeatures{Names: make([]string, d)}}
			for i := range n {
				w.f.Customers = append(w.f.Customers, int32(i))
				for range d {
					w.f.X = append(w.f.X, rng.NormFloat64())
				}
				y := 0.0
				if tc.signal*w.f.X[i*d]+rng.NormFloat64() > 0 {
					y = 1
				}
				w.y = append(w.y, y)
			}
			cv, err := crossValidated(w, 1e-3, 5, 1)
			if err != nil {
				t.Fatal(err)
			}
			m, err := churn.FitLogistic(w.f.X, n, d, w.y, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			in := make([]float64, n)
			for i := range in {
				in[i] = m.LogOdds(w.f.X[i*d : (i+1)*d])
			}
			inAUC := eval.EvaluateBinary("", in, w.y).ROCAUC
			if inAUC < tc.minIn || cv.ROCAUC < tc.minCV || cv.ROCAUC > tc.maxCV || cv.N != n {
				t.Fatalf("in-sample ROC AUC %.3f (want >= %.2f), cross-validated %.3f over %d (want %.2f-%.2f over %d)",
					inAUC, tc.minIn, cv.ROCAUC, cv.N, tc.minCV, tc.maxCV, n)
			}
		})
	}
}

// TestCrossValidatedCeilingNeedsBothClasses: a window where no one (or
// everyone) churned has no ceiling to report, and says so.
func TestCrossValidatedCeilingNeedsBothClasses(t *testing.T) {
	w := churnWindow{f: &features.ChurnFeatures{Names: []string{"a"}}}
	for i := range 50 {
		w.f.Customers = append(w.f.Customers, int32(i))
		w.f.X = append(w.f.X, float64(i))
		w.y = append(w.y, 1)
	}
	if _, err := crossValidated(w, 1e-3, 5, 1); err == nil || !strings.Contains(err.Error(), "too few of each") {
		t.Fatalf("all churned: %v", err)
	}
}

type discard struct{}

func (discard) Put(string, []byte, []byte) error { return nil }
