package main

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/patron-crm/patron/features"
)

func TestGenWritesFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		out   string
		extra []string
		truth string // directory of the truth files
	}{
		{"csv", "orders.csv", nil, dir},
		{"gzip", "orders.csv.gz", []string{"--malformed-share", "0.005"}, dir},
		{"truth dir", "o2.csv", []string{"--truth-dir", filepath.Join(dir, "truth")}, filepath.Join(dir, "truth")},
	}
	if err := os.Mkdir(filepath.Join(dir, "truth"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.out)
			args := append([]string{"gen", "--out", out, "--customers", "300", "--items", "200", "--categories", "5", "--seed", "3"}, tt.extra...)
			stdout, _, err := runCLI(t, "", args...)
			if err != nil {
				t.Fatalf("gen: %v", err)
			}
			if !strings.Contains(stdout, "generated ") || !strings.Contains(stdout, out) {
				t.Errorf("summary does not say what was written:\n%s", stdout)
			}
			base := strings.TrimSuffix(strings.TrimSuffix(tt.out, ".gz"), ".csv")
			for _, f := range []string{out, filepath.Join(tt.truth, base+".truth.customers.csv"),
				filepath.Join(tt.truth, base+".truth.items.csv"), filepath.Join(tt.truth, base+".truth.json")} {
				if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
					t.Errorf("%s: %v", f, err)
				}
			}
			// The order file ingests with the default options.
			stdout, _, err = runCLI(t, "", "ingest", "--orders", out, "--json")
			if err != nil {
				t.Fatalf("ingest: %v", err)
			}
			var s features.Summary
			if err := json.Unmarshal([]byte(stdout), &s); err != nil {
				t.Fatal(err)
			}
			malformed := slices.Contains(tt.extra, "--malformed-share")
			if s.Lines == 0 || s.Dropped != 0 || (s.Rejected > 0) != malformed || (!malformed && s.Customers != 300) {
				t.Errorf("ingest: lines %d, dropped %d, rejected %d, customers %d", s.Lines, s.Dropped, s.Rejected, s.Customers)
			}
		})
	}
}

func TestGenJSONAndStdout(t *testing.T) {
	stdout, stderr, err := runCLI(t, "", "gen", "--out", "-", "--customers", "50", "--items", "40", "--categories", "4")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout, "order_id,customer_id,item_id,") {
		t.Errorf("stdout does not start with the CSV header: %.80q", stdout)
	}
	if !strings.Contains(stderr, "truth files are not written") {
		t.Errorf("no note about the truth files on stderr: %q", stderr)
	}

	out := filepath.Join(t.TempDir(), "o.csv")
	stdout, _, err = runCLI(t, "", "gen", "--out", out, "--lines", "2000", "--items", "100", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Counts struct {
			Lines     int64 `json:"lines"`
			Customers int   `json:"customers"`
		} `json:"counts"`
		Files struct {
			Orders string `json:"orders"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if res.Counts.Lines < 1600 || res.Counts.Lines > 2400 || res.Files.Orders != out {
		t.Errorf("--lines 2000: %+v", res)
	}
}

func TestGenBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no out", []string{"gen"}, "--out is required"},
		{"customers and lines", []string{"gen", "--out", "x.csv", "--customers", "5", "--lines", "100"}, "not both"},
		{"negative lines", []string{"gen", "--out", "x.csv", "--lines", "-1"}, "--lines"},
		{"seasonality", []string{"gen", "--out", "x.csv", "--seasonality", "1.5"}, "seasonality"},
		{"bad date", []string{"gen", "--out", "x.csv", "--start", "yesterday"}, "--start"},
		{"end before start", []string{"gen", "--out", "x.csv", "--start", "2025-01-01", "--end", "2024-01-01"}, "not after start"},
		{"json to stdout", []string{"gen", "--out", "-", "--json"}, "--json with --out -"},
		{"unknown flag", []string{"gen", "--out", "x.csv", "--colour", "red"}, "colour"},
	}
	for _, tt := range tests {
		_, _, err := runCLI(t, "", tt.args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want a usage error mentioning %q", tt.name, err, tt.want)
		}
	}
	_, stderr, err := runCLI(t, "", "gen", "--help")
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	if !strings.Contains(stderr, "patron gen --out orders.csv.gz") {
		t.Errorf("--help shows no example:\n%s", stderr)
	}
}
