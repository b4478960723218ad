package training

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/features/synth"
	"github.com/patron-crm/patron/models/churn"
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

type discard struct{}

func (discard) Put(string, []byte, []byte) error { return nil }
