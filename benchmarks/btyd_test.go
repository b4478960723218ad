package benchmarks

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/features/synth"
	"github.com/patron-crm/patron/models/btyd"
)

// cdnowMaster reads data/cdnow/CDNOW_master.txt.gz (customer_id, YYYYMMDD,
// CDs, dollars) into a Dataset: one order per line, price = dollars/CDs,
// zero-dollar lines (free CDs, transactions in the papers) priced at 1e-9
// because the reader drops non-positive prices.
func cdnowMaster(b *testing.B) *features.Dataset {
	b.Helper()
	f, err := os.Open(filepath.Join(repoRoot(b), "data", "cdnow", "CDNOW_master.txt.gz"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	out.WriteString("order_id,customer_id,item_id,quantity,unit_price,ordered_at\n")
	sc := bufio.NewScanner(zr)
	line := 0
	for sc.Scan() {
		line++
		fl := strings.Fields(sc.Text())
		if line == 1 || len(fl) == 0 {
			continue // header
		}
		cds, err1 := strconv.Atoi(fl[2])
		value, err2 := strconv.ParseFloat(fl[3], 64)
		if len(fl) != 4 || err1 != nil || err2 != nil || cds <= 0 || len(fl[1]) != 8 {
			b.Fatalf("CDNOW_master line %d: %q", line, fl)
		}
		if value == 0 {
			value = 1e-9 * float64(cds)
		}
		d := fl[1]
		fmt.Fprintf(&out, "%d,%s,cd,%d,%s,%s-%s-%s\n", line, fl[0], cds, strconv.FormatFloat(value/float64(cds), 'g', -1, 64), d[:4], d[4:6], d[6:])
	}
	ds, err := features.Read(context.Background(), &out, features.Options{Source: "CDNOW_master", MaxErrorRate: features.NoMalformedLines})
	if err != nil {
		b.Fatal(err)
	}
	return ds
}

// BenchmarkFitCDNOWMaster: summary (calibration through 1997-09-30, weeks)
// and the BG/NBD + Gamma-Gamma fits on all 23,570 CDNOW customers.
// Target (issue 4): under 0.5 s.
func BenchmarkFitCDNOWMaster(b *testing.B) {
	ds := cdnowMaster(b)
	through := time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	var m *btyd.Model
	var s *btyd.Summary
	for i := 0; i < b.N; i++ {
		var err error
		s, err = btyd.Summarize(ds, btyd.SummaryOptions{Through: through, Unit: btyd.Week})
		if err != nil {
			b.Fatal(err)
		}
		if m, err = btyd.Fit(s, btyd.FitOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	p, g := m.Purchases, m.Spend.GammaGamma
	b.ReportMetric(float64(len(s.Customers)), "customers")
	b.Logf("%d customers, %d rows: r=%.4f alpha=%.4f a=%.4f b=%.4f LL=%.1f (%s); p=%.3f q=%.3f gamma=%.3f",
		len(s.Customers), m.PurchaseFit.Rows, p.R, p.Alpha, p.A, p.B, m.PurchaseFit.LogLik, m.PurchaseFit.Method, g.P, g.Q, g.Gamma)
}

// BenchmarkFitScore1M: 1M synthetic BG/NBD customers (features/synth,
// generated and read once, outside the timer): summary, BG/NBD and
// Gamma-Gamma fits, and P(alive), expected orders and 1-year CLV for every
// customer. Target (issue 4): under 20 s; peak RSS (getrusage, the whole
// process including generation) and live heap after scoring are reported.
func BenchmarkFitScore1M(b *testing.B) {
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories = 1_000_000, 1000, 10
	cfg.Seasonality, cfg.GuestShare, cfg.ReturnRate = 0, 0, 0.03
	cfg.LinesPerOrder = 1
	start := time.Now()
	ds, err := synth.Dataset(context.Background(), cfg, features.Options{Source: "synth-1M"})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated and read %d orders of %d customers in %v", len(ds.Orders), ds.Customers.Len(), time.Since(start).Round(time.Millisecond))
	runtime.GC()
	through := cfg.End.AddDate(0, 0, -1)
	b.ResetTimer()
	var scores []btyd.Score
	var m *btyd.Model
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		s, err := btyd.Summarize(ds, btyd.SummaryOptions{Through: through})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if m, err = btyd.Fit(s, btyd.FitOptions{}); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if scores, err = m.ScoreAll(s, btyd.DefaultCLVOptions(), 0); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		b.ReportMetric(t1.Sub(t0).Seconds(), "summary-s")
		b.ReportMetric(t2.Sub(t1).Seconds(), "fit-s")
		b.ReportMetric(t3.Sub(t2).Seconds(), "score-s")
		b.Logf("summary %v, fit %v (BG/NBD %d rows, %s, %d evals), score %v",
			t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), m.PurchaseFit.Rows,
			m.PurchaseFit.Method, m.PurchaseFit.Evaluations, t3.Sub(t2).Round(time.Millisecond))
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MB") // Linux: KiB
	}
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MB")
	b.ReportMetric(float64(len(scores)), "customers")
	p := m.Purchases
	b.Logf("r=%.3f alpha=%.2f a=%.3f b=%.3f (truth %v %v %v %v); boundary %v; spend fallback %v",
		p.R, p.Alpha, p.A, p.B, cfg.R, cfg.Alpha, cfg.A, cfg.B, m.PurchaseFit.Boundary, m.Spend.Fallback)
}
