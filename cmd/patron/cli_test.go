package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patron-crm/patron/features"
)

// runCLI runs the patron command line in process with the given stdin.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin), version: "test"}
	err = a.main(context.Background(), args)
	return out.String(), errb.String(), err
}

const cliOrders = `order_id,customer_id,item_id,quantity,unit_price,ordered_at
o1,c1,A1,2,1.50,2021-01-05 10:00:00
o2,c2,A1,1,1.50,2021-01-10 09:00:00
o3,c1,B1,1,oops,2021-01-11 09:00:00
`

func TestIngestStdin(t *testing.T) {
	out, _, err := runCLI(t, cliOrders, "ingest", "--orders", "-", "--json", "--max-error-rate", "-1")
	if err != nil {
		t.Fatal(err)
	}
	var s features.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("bad JSON %v:\n%s", err, out)
	}
	if s.Lines != 3 || s.Rejected != 1 || s.Source != "stdin" {
		t.Fatalf("summary: lines %d rejected %d source %q", s.Lines, s.Rejected, s.Source)
	}
	// With the default 1% limit the bad line fails the run, after the summary is printed.
	out, _, err = runCLI(t, cliOrders, "ingest", "--orders", "-")
	if !errors.Is(err, features.ErrTooManyRejects) || !strings.Contains(out, "bad_unit_price") {
		t.Fatalf("err %v, out:\n%s", err, out)
	}
}

func TestTrainAndModelsCommands(t *testing.T) {
	dir := t.TempDir()
	good := strings.Replace(cliOrders, "oops", "3.00", 1)
	out, _, err := runCLI(t, good, "train", "--orders", "-", "--data-dir", dir, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Version int64            `json:"version"`
		Counts  map[string]int64 `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Version != 1 || res.Counts["customers"] != 2 {
		t.Fatalf("train --json: %v %+v\n%s", err, res, out)
	}
	runCLI(t, good, "train", "--orders", "-", "--data-dir", dir, "--no-activate")

	out, _, err = runCLI(t, "", "models", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "VERSION") || strings.Count(out, "\n") != 3 {
		t.Fatalf("models list: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "", "models", "show", "active", "--data-dir", dir)
	if err != nil || !strings.Contains(out, `"version": 1`) {
		t.Fatalf("models show active: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "", "models", "activate", "2", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runCLI(t, "", "models", "list", "--data-dir", dir, "--json")
	var list []struct {
		Version int64 `json:"version"`
		Active  bool  `json:"active"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 || !list[1].Active || list[0].Active {
		t.Fatalf("models list --json after activate 2: %v %+v", err, list)
	}
	if _, _, err := runCLI(t, "", "models", "delete", "2", "--data-dir", dir); err == nil {
		t.Fatal("deleting the active bundle succeeded")
	}
	if _, _, err := runCLI(t, "", "models", "delete", "1", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "models", "1")); !os.IsNotExist(err) {
		t.Fatalf("bundle 1 still there: %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"ingest without orders", []string{"ingest"}, "--orders is required"},
		{"bad flag", []string{"ingest", "--nope"}, "not defined"},
		{"stray argument", []string{"ingest", "--orders", "x.csv", "extra"}, "unexpected argument"},
		{"models without subcommand", []string{"models"}, "subcommand"},
		{"models bad version", []string{"models", "show", "abc"}, "bad model version"},
		{"train bad keep", []string{"train", "--orders", "x.csv", "--keep", "0"}, "--keep"},
		{"demo on a public address", []string{"demo", "--http-addr", "0.0.0.0:8080"}, "loopback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, "", tc.args...)
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want a usage error containing %q", err, tc.want)
			}
		})
	}
}

// TestHelpShowsExample: every command's --help names an example.
func TestHelpShowsExample(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, err := runCLI(t, "", c.name, "--help")
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("err %v, want flag.ErrHelp", err)
			}
			if !strings.Contains(stderr, "Examples:") || !strings.Contains(stderr, "patron "+c.name) {
				t.Fatalf("help of %s lacks an example:\n%s", c.name, stderr)
			}
		})
	}
}

func TestEvalCommand(t *testing.T) {
	orders := filepath.Join(t.TempDir(), "orders.csv")
	if _, _, err := runCLI(t, "", "gen", "--out", orders, "--customers", "600", "--items", "80", "--seed", "5"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "", "eval", "--orders", orders, "--cutoff", "2025-09-01", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Recs struct {
			Validation struct {
				Chosen struct{ Personal string } `json:"chosen"`
			} `json:"validation"`
			Test []struct {
				Model     string `json:"model"`
				Task      string `json:"task"`
				Customers int    `json:"customers"`
			} `json:"test"`
		} `json:"recommendations"`
		Value struct {
			Customers int `json:"customers"`
			Rows      []struct {
				Forecast string  `json:"forecast"`
				MAE      float64 `json:"mae"`
			} `json:"rows"`
		} `json:"value"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ev := report.Recs
	if report.Value.Customers == 0 || len(report.Value.Rows) != 6 {
		t.Fatalf("value evaluation: %+v", report.Value)
	}
	if len(ev.Test) != 6 || ev.Test[0].Customers == 0 || ev.Validation.Chosen.Personal == "" {
		t.Fatalf("eval report: %+v", ev)
	}
	out, _, err = runCLI(t, "", "eval", "--orders", orders, "--cutoff", "2025-09-01")
	if err != nil || !strings.Contains(out, "NDCG@10") || !strings.Contains(out, "item-knn") || !strings.Contains(out, "naive constant rate") || !strings.Contains(out, "ceiling, not a forecast") {
		t.Fatalf("eval table: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "", "eval", "--orders", orders); err == nil || !strings.Contains(err.Error(), "--cutoff") {
		t.Fatalf("eval without --cutoff: %v", err)
	}
}

func TestExportCustomers(t *testing.T) {
	dir := t.TempDir()
	orders := filepath.Join(dir, "orders.csv")
	data := filepath.Join(dir, "data")
	if _, _, err := runCLI(t, "", "gen", "--out", orders, "--customers", "400", "--items", "50", "--seed", "9"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, "", "train", "--orders", orders, "--data-dir", data); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "", "export", "customers", "--data-dir", data)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "customer_id,tier,segment,clv") || len(lines) < 300 {
		t.Fatalf("export: %d lines, header %q", len(lines), lines[0])
	}
	gold, _, err := runCLI(t, "", "export", "customers", "--data-dir", data, "--tier", "gold", "--format", "jsonl", "--horizon-days", "90")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(gold), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil || r["tier"] != "gold" || r["horizon_days"] != 90.0 {
			t.Fatalf("gold line %q: %v", l, err)
		}
	}
	for _, bad := range [][]string{{"--tier", "diamond"}, {"--format", "xml"}, {"--horizon-days", "-5"}, {"--order-by", "name"}} {
		if _, _, err := runCLI(t, "", append([]string{"export", "customers", "--data-dir", data}, bad...)...); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

func TestExportRiskBand(t *testing.T) {
	dir := t.TempDir()
	orders := filepath.Join(dir, "orders.csv")
	data := filepath.Join(dir, "data")
	if _, _, err := runCLI(t, "", "gen", "--out", orders, "--customers", "1500", "--items", "50", "--seed", "4"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, "", "train", "--orders", orders, "--data-dir", data); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "", "export", "customers", "--data-dir", data, "--risk-band", "high", "--order-by", "value_at_risk")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasSuffix(lines[0], "risk_band,churn_probability,value_at_risk") {
		t.Fatalf("export: %d lines, header %q", len(lines), lines[0])
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, ",high,") {
			t.Fatalf("line not high risk: %q", l)
		}
	}
}
