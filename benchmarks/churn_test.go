package benchmarks

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/training"
)

// BenchmarkChurnOnlineRetail runs the churn protocol on the bundled Online
// Retail file as of 2011-09-09 (features and labels of three windows, BG/NBD
// fits, logistic regression, boosted trees, calibration, the golearn
// reference): target under 3 s.
func BenchmarkChurnOnlineRetail(b *testing.B) {
	ds, err := features.ReadFile(context.Background(), filepath.Join(repoRoot(b), "data", "online_retail.csv.gz"), features.Options{})
	if err != nil {
		b.Fatal(err)
	}
	asOf := time.Date(2011, 9, 9, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := training.EvaluateChurn(ds, asOf, dayAfterLast(ds), 90, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChurn1M runs the same protocol on about a million generated
// customers (`patron gen --customers 1000000`): target under 60 s.
func BenchmarkChurn1M(b *testing.B) {
	path := filepath.Join(os.TempDir(), "patron-bench", "churn-1M.csv")
	if _, err := os.Stat(path); err != nil {
		runPatron(b, "gen", "--customers", "1000000", "--items", "20000", "--seed", "1", "--out", path)
	}
	ds, err := features.ReadFile(context.Background(), path, features.Options{})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	asOf := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := training.EvaluateChurn(ds, asOf, dayAfterLast(ds), 90, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MB")
}

// dayAfterLast is midnight UTC after the last order of ds.
func dayAfterLast(ds *features.Dataset) time.Time {
	l := ds.Summary.Last
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, time.UTC)
}
