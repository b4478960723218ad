package benchmarks

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
)

// BenchmarkIngestOnlineRetail runs `patron ingest` on the bundled UCI Online
// Retail file (541,909 lines, gzip): targets under 1.5 s wall and under
// 300 MB peak RSS.
func BenchmarkIngestOnlineRetail(b *testing.B) {
	path := filepath.Join(repoRoot(b), "data", "online_retail.csv.gz")
	patronBin(b)
	var runs []run
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runs = append(runs, runPatron(b, "ingest", "--orders", path, "--json"))
	}
	b.StopTimer()
	var s features.Summary
	if err := json.Unmarshal(runs[0].Stdout, &s); err != nil || s.Lines != 541909 {
		b.Fatalf("unexpected summary (%v): %d lines", err, s.Lines)
	}
	report(b, "", runs)
	b.ReportMetric(float64(s.Lines)/(float64(runs[0].Wall)/float64(time.Second)), "lines/s")
}

// canonicalFile returns a canonical CSV of about n lines made by `patron gen`,
// cached between runs in the system temp directory.
func canonicalFile(b *testing.B, n int) string {
	dir := filepath.Join(os.TempDir(), "patron-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "canonical-"+strconv.Itoa(n)+".csv")
	if _, err := os.Stat(path); err != nil {
		b.Logf("generating %s", path)
		runPatron(b, "gen", "--lines", strconv.Itoa(n), "--seed", "1", "--out", path)
	}
	return path
}

// BenchmarkIngestCanonical measures reader throughput on a plain canonical
// CSV from `patron gen` (target: at least 1M lines/s), in process (the
// library) and as the `patron ingest` command.
func BenchmarkIngestCanonical(b *testing.B) {
	path := canonicalFile(b, 3_000_000)
	b.Run("library", func(b *testing.B) {
		var lines int64
		start := time.Now()
		for i := 0; i < b.N; i++ {
			ds, err := features.ReadFile(context.Background(), path, features.Options{})
			if err != nil {
				b.Fatal(err)
			}
			lines += ds.Summary.Lines
		}
		b.ReportMetric(float64(lines)/time.Since(start).Seconds(), "lines/s")
	})
	b.Run("command", func(b *testing.B) {
		var runs []run
		for i := 0; i < b.N; i++ {
			runs = append(runs, runPatron(b, "ingest", "--orders", path, "--json"))
		}
		var s features.Summary
		if err := json.Unmarshal(runs[0].Stdout, &s); err != nil {
			b.Fatal(err)
		}
		report(b, "", runs)
		b.ReportMetric(float64(s.Lines)/runs[0].Wall.Seconds(), "lines/s")
	})
}

// BenchmarkGen10M generates 10M lines (about 1M customers, 100k items) with
// `patron gen`, then ingests them, reporting wall time and peak RSS of both.
func BenchmarkGen10M(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		path := filepath.Join(dir, "orders-10M.csv")
		gen := runPatron(b, "gen", "--lines", "10000000", "--items", "100000", "--seed", "1", "--out", path)
		ing := runPatron(b, "ingest", "--orders", path, "--json")
		var s features.Summary
		if err := json.Unmarshal(ing.Stdout, &s); err != nil {
			b.Fatal(err)
		}
		report(b, "gen-", []run{gen})
		report(b, "ingest-", []run{ing})
		b.ReportMetric(float64(s.Lines), "lines")
		b.ReportMetric(float64(s.Lines)/ing.Wall.Seconds(), "ingest-lines/s")
		os.Remove(path)
	}
}
