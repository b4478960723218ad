package benchmarks

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the repository root (the parent of this package).
func repoRoot(tb testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// patronBin builds cmd/patron once per benchmark run.
func patronBin(tb testing.TB) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "patron-bench-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "patron")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/patron")
		cmd.Dir = repoRoot(tb)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			tb.Logf("%s", out)
		}
	})
	if buildErr != nil {
		tb.Fatalf("build patron: %v", buildErr)
	}
	return binPath
}

// run is one finished subprocess: its wall time and peak resident memory.
type run struct {
	Wall    time.Duration
	CPU     time.Duration // user + system time of the child
	PeakRSS int64         // bytes
	Stdout  []byte
}

// runPatron runs the patron binary with args and measures it.
func runPatron(tb testing.TB, args ...string) run {
	tb.Helper()
	cmd := exec.Command(patronBin(tb), args...)
	cmd.Dir = repoRoot(tb)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		tb.Fatalf("patron %v: %v\n%s", args, err, stderr.Bytes())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return run{Wall: wall, CPU: cpu, PeakRSS: ru.Maxrss * 1024, Stdout: stdout.Bytes()}
}

// report adds wall time and peak RSS of the runs to the benchmark result.
func report(b *testing.B, prefix string, runs []run) {
	var wall, cpu time.Duration
	var rss int64
	for _, r := range runs {
		wall += r.Wall
		cpu += r.CPU
		rss = max(rss, r.PeakRSS)
	}
	b.ReportMetric(float64(wall.Milliseconds())/float64(len(runs)), prefix+"wall-ms")
	b.ReportMetric(float64(cpu)/float64(wall), prefix+"cores-used")
	b.ReportMetric(float64(rss)/(1<<20), prefix+"peak-RSS-MB")
}
