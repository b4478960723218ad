package training

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/features/synth"
)

// TestChurnOnGeneratedData: on a BG/NBD-like history with real dropout, the
// churn models rank churners better than recency alone and their
// probabilities are calibrated near the observed rate.
func TestChurnOnGeneratedData(t *testing.T) {
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories, cfg.Seed = 4000, 60, 4, 11
	cfg.Seasonality = 0
	var buf bytes.Buffer
	if _, _, err := synth.Generate(context.Background(), cfg, synth.Output{Orders: &buf}); err != nil {
		t.Fatal(err)
	}
	ds, err := features.Read(context.Background(), &buf, features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := EvaluateChurn(ds, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), 90, 1)
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
