package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/patron-crm/patron/serving"
)

func TestKeysNewAndList(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys.txt")
	out, errOut, err := runCLI(t, "", "keys", "new", "--name", "shop1", "--scopes", "recommend", "--keys-file", file)
	if err != nil {
		t.Fatalf("keys new: %v", err)
	}
	// stdout is the key and nothing else, so it can be captured with $(...).
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}\n$`).MatchString(out) {
		t.Fatalf("keys new printed %q, want one 43-character base64url key", out)
	}
	key := strings.TrimSpace(out)
	if !strings.Contains(errOut, `added key "shop1"`) || !strings.Contains(errOut, "shown only this once") || strings.Contains(errOut, key) {
		t.Errorf("keys new stderr: %q", errOut)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("keys file mode %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(file)
	if strings.Contains(string(data), key) {
		t.Fatal("the keys file holds the key")
	}
	if want := "shop1 recommend " + serving.HashKey(key) + "\n"; string(data) != want {
		t.Errorf("keys file %q, want %q", data, want)
	}

	// A second key, appended after a hand-written line with no newline.
	if err := os.WriteFile(file, append(data, "# ops below"...), 0o600); err != nil {
		t.Fatal(err)
	}
	out2, _, err := runCLI(t, "", "keys", "new", "--name", "crm", "--scopes", "customers:read,recommend", "--keys-file", file)
	if err != nil {
		t.Fatalf("keys new crm: %v", err)
	}
	if strings.TrimSpace(out2) == key {
		t.Fatal("two keys are the same")
	}
	ks, err := serving.LoadKeys(file)
	if err != nil || ks.Len() != 2 {
		t.Fatalf("LoadKeys after two new keys: %v %v", ks, err)
	}

	out, _, err = runCLI(t, "", "keys", "list", "--keys-file", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NAME", "SCOPES", "shop1", "recommend", "crm", "customers:read,recommend"} {
		if !strings.Contains(out, want) {
			t.Errorf("keys list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, key) || strings.Contains(out, serving.HashKey(key)) {
		t.Errorf("keys list shows a key or hash:\n%s", out)
	}
	out, _, err = runCLI(t, "", "keys", "list", "--keys-file", file, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var list []serving.KeyInfo
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 || list[1].Name != "crm" || len(list[1].Scopes) != 2 {
		t.Errorf("keys list --json: %v %s", err, out)
	}

	// The same name again is refused, and nothing is appended.
	before, _ := os.ReadFile(file)
	if _, _, err := runCLI(t, "", "keys", "new", "--name", "crm", "--scopes", "admin", "--keys-file", file); err == nil || !strings.Contains(err.Error(), `already has a key named "crm"`) {
		t.Errorf("duplicate name: %v", err)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Error("a refused keys new changed the file")
	}
}

func TestKeysErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("shop1 recommend "+serving.HashKey("x")+"\nbroken line\n"), 0o600)
	for _, c := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"keys"}, true, "name a subcommand"},
		{[]string{"keys", "rotate"}, true, `unknown subcommand "rotate"`},
		{[]string{"keys", "new", "--name", "a", "--keys-file", "k"}, true, "--name, --scopes and --keys-file are required"},
		{[]string{"keys", "new", "--name", "a b", "--scopes", "admin", "--keys-file", filepath.Join(dir, "k")}, true, `key name "a b"`},
		{[]string{"keys", "new", "--name", "a", "--scopes", "read", "--keys-file", filepath.Join(dir, "k")}, true, `unknown scope "read"; scopes are recommend, customers:read, admin`},
		{[]string{"keys", "new", "--name", "a", "--scopes", "admin", "--keys-file", bad}, false, "bad.txt line 2: 2 fields, want 3"},
		{[]string{"keys", "list", "--keys-file", bad}, false, "bad.txt line 2"},
		{[]string{"keys", "list"}, true, "--keys-file is required"},
		{[]string{"keys", "list", "--keys-file", filepath.Join(dir, "missing")}, false, "missing"},
	} {
		_, _, err := runCLI(t, "", c.args...)
		var ue usageError
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.As(err, &ue) != c.usage {
			t.Errorf("%v: %v, want an error with %q (usage error: %v)", c.args, err, c.want, c.usage)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "k")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused keys new created the file")
	}
	_, stderr, err := runCLI(t, "", "keys", "new", "--help")
	if !strings.Contains(stderr, "Examples:") || !strings.Contains(stderr, "patron keys new --name shop1 --scopes recommend --keys-file keys.txt") {
		t.Errorf("keys new --help: %v\n%s", err, stderr)
	}
}
