package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/privacy"
)

func TestCustomersForget(t *testing.T) {
	dir := t.TempDir()
	good := strings.Replace(cliOrders, "oops", "3.00", 1)
	if _, _, err := runCLI(t, good, "train", "--orders", "-", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(ids, []byte("# erasure requests\nc1\n\nunknown-9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "", "customers", "forget", "--ids-file", ids, "--data-dir", dir, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Customers []struct {
			Hash  string `json:"customer_id_sha256"`
			Known bool   `json:"known"`
		} `json:"customers"`
		NewVersion int64 `json:"new_version"`
		Rows       int64 `json:"rows_removed"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bad JSON %v:\n%s", err, out)
	}
	if len(res.Customers) != 2 || !res.Customers[0].Known || res.Customers[1].Known || res.NewVersion != 2 || res.Rows == 0 ||
		res.Customers[0].Hash != privacy.HashID("c1").String() {
		t.Fatalf("forget --json: %+v", res)
	}
	if strings.Contains(out, `"c1"`) {
		t.Errorf("output names the id:\n%s", out)
	}

	// Text output; again: nothing left to remove.
	out, _, err = runCLI(t, "", "customers", "forget", "c1", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "0 rows removed") || !strings.Contains(out, "audit record in") {
		t.Fatalf("forget again: %v\n%s", err, out)
	}

	// Ingest and train with the data directory leave c1's lines out, counted.
	out, _, err = runCLI(t, good, "ingest", "--orders", "-", "--data-dir", dir, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var s features.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil || s.Reason(features.ReasonSuppressed).Count != 2 || s.Customers != 1 {
		t.Fatalf("ingest with the suppression list: %v, suppressed %d, customers %d", err, s.Reason(features.ReasonSuppressed).Count, s.Customers)
	}
	out, _, err = runCLI(t, good, "train", "--orders", "-", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "left out 2 lines of forgotten customers") || !strings.Contains(out, "customers 1,") {
		t.Fatalf("train with the suppression list: %v\n%s", err, out)
	}
	audit, err := os.ReadFile(privacy.AuditPath(dir))
	if err != nil || strings.Count(string(audit), "\n") != 3 || strings.Contains(string(audit), `"c1"`) ||
		!strings.Contains(string(audit), `"who":"cli:`) {
		t.Fatalf("audit log: %v\n%s", err, audit)
	}
}

func TestCustomersUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"customers"}, "name a subcommand: forget"},
		{[]string{"customers", "erase"}, `unknown subcommand "erase"`},
		{[]string{"customers", "forget", "--data-dir", dir}, "--ids-file FILE"},
		{[]string{"customers", "forget", strings.Repeat("x", 300), "--data-dir", dir}, "at most 256 bytes"},
	}
	for _, tc := range tests {
		_, _, err := runCLI(t, "", tc.args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
	_, _, err := runCLI(t, "", "customers", "forget", "c1", "--data-dir", filepath.Join(dir, "missing"))
	if err == nil || !strings.Contains(err.Error(), "give the directory `patron train` wrote") {
		t.Errorf("missing data dir: %v", err)
	}
}
