package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/patron-crm/patron/features/synth"
)

func runGen(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("gen", "gen --out FILE [flags]",
		`  patron gen --out orders.csv.gz
  patron gen --out big.csv --lines 10000000 --seed 7
  patron gen --out orders.csv --customers 5000 --items 2000 --malformed-share 0.005 --json
  patron gen --out - --customers 100 --truth-dir truth | patron ingest --orders -`)
	d := synth.DefaultConfig()
	out := fs.String("out", "", "order file to write (CSV; gzip when it ends in .gz); - writes stdout (required)")
	truthDir := fs.String("truth-dir", "", "directory for the truth files (default: beside --out, as <base>.truth.*)")
	customers := fs.Int("customers", d.Customers, "number of registered customers")
	lines := fs.Int64("lines", 0, "target number of lines instead of --customers (about 10 lines per customer with the defaults)")
	items := fs.Int("items", d.Items, "number of items in the catalog")
	categories := fs.Int("categories", d.Categories, "number of item categories")
	seed := fs.Uint64("seed", d.Seed, "random seed: the same flags and seed give the same bytes")
	start := fs.String("start", d.Start.Format(time.DateOnly), "first day of the order history (YYYY-MM-DD, UTC)")
	end := fs.String("end", d.End.Format(time.DateOnly), "day after the last order (YYYY-MM-DD, UTC)")
	r := fs.Float64("r", d.R, "BG/NBD: shape of the Gamma distribution of purchase rates")
	alpha := fs.Float64("alpha", d.Alpha, "BG/NBD: rate (in days) of the Gamma distribution of purchase rates; mean rate r/alpha per day")
	betaA := fs.Float64("a", d.A, "BG/NBD: Beta(a, b) distribution of the dropout probability after each repeat purchase")
	betaB := fs.Float64("b", d.B, "BG/NBD: see -a")
	season := fs.Float64("seasonality", d.Seasonality, "amplitude of the yearly cycle in [0,1), peak in early December; 0 = none")
	guest := fs.Float64("guest-share", d.GuestShare, "share of orders placed by guests (no customer id)")
	ret := fs.Float64("return-rate", d.ReturnRate, "probability that an order line is returned")
	malformed := fs.Float64("malformed-share", d.MalformedShare, "share of lines made malformed, counted by kind in the truth JSON")
	jsonOut := fs.Bool("json", false, "print the counts as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out is required: give the order file to write (e.g. orders.csv.gz) or - for stdout"}
	}
	if *out == "-" && *jsonOut {
		return usageError{"--json with --out -: stdout carries the orders; write to a file, or use --truth-dir for the counts"}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg := d
	cfg.Items, cfg.Categories, cfg.Seed = *items, *categories, *seed
	cfg.R, cfg.Alpha, cfg.A, cfg.B = *r, *alpha, *betaA, *betaB
	cfg.Seasonality, cfg.GuestShare, cfg.ReturnRate, cfg.MalformedShare = *season, *guest, *ret, *malformed
	cfg.Customers = *customers
	if set["lines"] {
		if set["customers"] {
			return usageError{"give --customers or --lines, not both"}
		}
		if *lines <= 0 {
			return usageError{fmt.Sprintf("--lines %d: want a positive number of lines", *lines)}
		}
		cfg.Customers, cfg.Lines = 0, *lines
	}
	var err error
	if cfg.Start, err = parseDate("start", *start, time.UTC); err != nil {
		return err
	}
	if cfg.End, err = parseDate("end", *end, time.UTC); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}

	p := a.newProgress(*jsonOut)
	progress := func(pr synth.Progress) {
		switch pr.Stage {
		case "customers":
			p.Printf("simulating customers: %s of %s", commaInt(pr.Done), commaInt(pr.Total))
		case "writing":
			p.Printf("writing %s: %s of %s lines", *out, commaInt(pr.Done), commaInt(pr.Total))
		}
	}
	began := time.Now()
	paths := synth.TruthPaths(*out, *truthDir)
	if *out == "-" {
		if *truthDir == "" {
			fmt.Fprintln(a.stderr, "patron gen: writing to stdout without --truth-dir: the truth files are not written")
			paths = synth.Paths{Orders: "-"}
		} else {
			paths = synth.TruthPaths("synth", *truthDir)
			paths.Orders = "-"
		}
	}
	cfg, st, err := synth.WriteFiles(ctx, cfg, paths, a.stdout, progress)
	p.Done()
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	took := time.Since(began)
	if *jsonOut {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Stats    synth.Stats   `json:"counts"`
			Seed     uint64        `json:"seed"`
			Files    synth.Paths   `json:"files"`
			Duration time.Duration `json:"duration_ns"`
		}{st, cfg.Seed, paths, took})
	}
	w := a.stdout
	if *out == "-" {
		w = a.stderr // stdout holds the data
	}
	fmt.Fprintf(w, "generated %s lines in %s: %s orders (%s by guests), %s returns, %s malformed\n",
		commaInt(st.Lines), took.Round(10*time.Millisecond), commaInt(st.Orders), commaInt(st.GuestOrders),
		commaInt(st.ReturnLines), commaInt(st.MalformedLines()))
	fmt.Fprintf(w, "  customers %s (%s dropped out by %s), items %s, seed %d\n",
		commaInt(int64(st.Customers)), commaInt(st.Dropped), cfg.End.Format(time.DateOnly), commaInt(int64(st.Items)), cfg.Seed)
	fmt.Fprintf(w, "  orders: %s\n", paths.Orders)
	if paths.JSON != "" {
		fmt.Fprintf(w, "  truth:  %s, %s, %s\n", paths.Customers, paths.Items, paths.JSON)
	}
	return nil
}
