// Command load is Patron's load generator (issue 6, "Load benchmarks"). It
// measures the REST recommendations endpoint and the gRPC churn method of a
// real `patron serve` over a bundle trained on Online Retail, and in the same
// run the same load against a bare net/http handler and a bare gRPC server that
// return a fixed body of the same size. The machine is small and shared, so
// the figures that matter are the ratios Patron/bare, which hold on a noisy
// machine better than absolute req/s.
//
// Everything runs on loopback. The servers are subprocesses: `patron serve`
// (built from ./cmd/patron) and this binary re-executed with -bare-server. In
// pinned mode the servers run under `taskset -c 0` and the client pins itself
// to core 1, so client and server do not compete for a core.
//
// Load is closed-loop: each of C workers sends a request, waits for the
// answer, and sends the next, for a fixed duration. Latency is measured per
// request on the client, percentiles are exact (all samples sorted).
//
// Run from the repository root; it is not part of `make test`:
//
//	go run ./benchmarks/load --duration 5s --pin both
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"
)

const usage = `Usage: go run ./benchmarks/load [flags]

Starts Patron (trained on Online Retail), a bare net/http server and a bare gRPC
server on loopback, and drives each with closed-loop workers for a fixed
duration at each concurrency. Reports req/s, p50/p99/p99.9 latency, errors and
the ratios Patron/bare that issue 6's targets use, then the RSS of 'patron serve'.

Flags:
`

const examples = `
Examples:
  go run ./benchmarks/load                                  # 10 s per run, c=1,8,64, unpinned
  go run ./benchmarks/load --duration 5s --pin both         # unpinned, then server on core 0 / client on core 1
  go run ./benchmarks/load --concurrency 64 --targets patron-rest,bare-http --json > load.json
  make bench-load                                           # the figures in the README's Measured table
  go run ./benchmarks/load --soak 2m                        # soak: load while bundles are republished
`

// config holds the command line.
type config struct {
	duration    time.Duration
	warmup      time.Duration
	concurrency []int
	targets     []string
	pin         string
	orders      string
	patronBin   string
	dataDir     string
	unknownFrac float64
	seed        int64
	jsonOut     bool
	soak        time.Duration
	soakEvery   time.Duration
	soakConc    int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-bare-server" {
		if err := runBareServer(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bare server:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if err == flag.ErrHelp {
			return
		}
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), examples)
	}
	var cfg config
	var conc, targets string
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured duration of each run (one target at one concurrency)")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured load before each run (connections, caches, GC)")
	fs.StringVar(&conc, "concurrency", "1,8,64", "comma-separated numbers of closed-loop workers")
	fs.StringVar(&targets, "targets", strings.Join(defaultTargets, ","), "comma-separated targets: "+strings.Join(allTargets, ", ")+
		" (patron-grpc-recs: GetRecommendations over gRPC, to split REST's cost into gateway and model)")
	fs.StringVar(&cfg.pin, "pin", "none", "none (unpinned), pinned (servers on core 0, client on core 1; needs taskset), or both")
	fs.StringVar(&cfg.orders, "orders", "data/online_retail.csv.gz", "order file to train the bundle on (when --data-dir is not given)")
	fs.StringVar(&cfg.patronBin, "patron-bin", "", "patron binary to serve with (default: go build ./cmd/patron into a temporary directory)")
	fs.StringVar(&cfg.dataDir, "data-dir", "", "existing data directory with an active bundle (default: train --orders into a temporary one)")
	fs.Float64Var(&cfg.unknownFrac, "unknown", 0.10, "fraction of requests for customer ids the bundle does not know (cold start / NOT_FOUND)")
	fs.Int64Var(&cfg.seed, "seed", 1, "seed of the customer id mix")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print the results as JSON instead of tables")
	fs.DurationVar(&cfg.soak, "soak", 0, "instead of the benchmark: a soak of this long (REST and gRPC load while bundles are published and activated again and again)")
	fs.DurationVar(&cfg.soakEvery, "soak-every", 10*time.Second, "soak: pause between training runs")
	fs.IntVar(&cfg.soakConc, "soak-concurrency", 8, "soak: workers per protocol")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	for _, s := range strings.Split(conc, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || c < 1 || c > 4096 {
			return cfg, fmt.Errorf("--concurrency %q: want positive integers up to 4096, e.g. 1,8,64", conc)
		}
		cfg.concurrency = append(cfg.concurrency, c)
	}
	for _, t := range strings.Split(targets, ",") {
		t = strings.TrimSpace(t)
		if !isTarget(t) {
			return cfg, fmt.Errorf("--targets: unknown target %q; use %s", t, strings.Join(allTargets, ", "))
		}
		cfg.targets = append(cfg.targets, t)
	}
	switch cfg.pin {
	case "none", "pinned", "both":
	default:
		return cfg, fmt.Errorf("--pin %q: use none, pinned or both", cfg.pin)
	}
	if cfg.soak < 0 || cfg.soakEvery <= 0 || cfg.soakConc < 1 {
		return cfg, fmt.Errorf("--soak, --soak-every and --soak-concurrency must be positive")
	}
	if cfg.duration <= 0 || cfg.warmup < 0 {
		return cfg, fmt.Errorf("--duration must be positive and --warmup not negative")
	}
	if cfg.unknownFrac < 0 || cfg.unknownFrac >= 1 {
		return cfg, fmt.Errorf("--unknown %v: want a fraction in [0, 1)", cfg.unknownFrac)
	}
	return cfg, nil
}

// report is everything one invocation measured, as printed by --json.
type report struct {
	GoVersion   string        `json:"go_version"`
	CPUs        int           `json:"cpus"`
	Duration    string        `json:"duration"`
	Customers   int           `json:"customers"`
	UnknownFrac float64       `json:"unknown_fraction"`
	Modes       []modeResults `json:"modes"`
}

func run(ctx context.Context, cfg config) error {
	modes := []string{cfg.pin}
	if cfg.pin == "both" {
		modes = []string{"none", "pinned"}
	}
	if cfg.pin != "none" {
		if _, err := exec.LookPath("taskset"); err != nil {
			return fmt.Errorf("--pin %s needs taskset (Debian package util-linux): %w", cfg.pin, err)
		}
		if runtime.NumCPU() < 2 {
			return fmt.Errorf("--pin %s needs 2 CPUs, this machine has %d", cfg.pin, runtime.NumCPU())
		}
	}
	tmp, err := os.MkdirTemp("", "patron-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	env, err := prepare(ctx, cfg, tmp)
	if err != nil {
		return err
	}
	if cfg.soak > 0 {
		return runSoak(ctx, cfg, env)
	}
	rep := report{GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), Duration: cfg.duration.String(),
		Customers: env.known, UnknownFrac: cfg.unknownFrac}
	for _, mode := range modes {
		res, err := runMode(ctx, cfg, env, mode)
		if err != nil {
			return fmt.Errorf("%s run: %w", modeLabel(mode), err)
		}
		rep.Modes = append(rep.Modes, res)
		if !cfg.jsonOut {
			printMode(os.Stdout, cfg, res)
		}
	}
	if cfg.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return nil
}

// logf reports progress on stderr, so stdout holds only the results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
