package benchmarks

import (
	"path/filepath"
	"testing"
)

// BenchmarkTrainOnlineRetail runs `patron train` on the bundled Online
// Retail file: read, profiles, the validation search and every
// recommendation model, publish. Target (issue 3): under 5 s wall on two
// cores, both used (cores-used = CPU time / wall time).
func BenchmarkTrainOnlineRetail(b *testing.B) {
	path := filepath.Join(repoRoot(b), "data", "online_retail.csv.gz")
	patronBin(b)
	var runs []run
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runs = append(runs, runPatron(b, "train", "--orders", path, "--data-dir", b.TempDir(), "--json"))
	}
	b.StopTimer()
	report(b, "", runs)
}

// BenchmarkTrain10M generates 10M lines (about 1M customers, 100k items)
// and trains on them: wall time and peak RSS (targets: 5 minutes, 8 GB).
func BenchmarkTrain10M(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "orders-10M.csv")
	runPatron(b, "gen", "--lines", "10000000", "--items", "100000", "--seed", "1", "--out", path)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := runPatron(b, "train", "--orders", path, "--data-dir", filepath.Join(dir, "data"), "--json")
		report(b, "train-", []run{r})
	}
}
