package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patron-crm/patron/models/profiles"
	"github.com/patron-crm/patron/models/registry"
)

// childArgsEnv carries the arguments of a patron command run as a child
// process by TestPatronChild, separated by newlines.
const childArgsEnv = "PATRON_TEST_CHILD_ARGS"

// TestPatronChild runs main with the arguments in $PATRON_TEST_CHILD_ARGS
// and exits, so tests can run the patron command in a process of its own
// (with resource limits) without building a binary. It does nothing in a
// normal test run.
func TestPatronChild(t *testing.T) {
	args := os.Getenv(childArgsEnv)
	if args == "" {
		t.Skip("child process of TestTrainDiskFull")
	}
	os.Args = append([]string{"patron"}, strings.Split(args, "\n")...)
	main() // exits non-zero on failure
	os.Exit(0)
}

// TestTrainDiskFull trains once, then again in a process whose file size
// limit (RLIMIT_FSIZE, set with `ulimit -f`) makes Badger's writes fail as
// on a full disk (Go ignores SIGXFSZ, so a write past the limit fails with
// EFBIG; chmod cannot simulate this, as tests run as root). The failed run
// must exit non-zero with a message naming the problem and what to do, leave
// bundle v1 active and readable and no new bundle, and the next run must
// succeed and leave no staging leftovers.
func TestTrainDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to set the file size limit with")
	}
	dir := t.TempDir()
	orders := filepath.Join(dir, "orders.csv")
	data := filepath.Join(dir, "data")
	if _, _, err := runCLI(t, "", "gen", "--out", orders, "--customers", "200", "--items", "80", "--seed", "5"); err != nil {
		t.Fatalf("gen: %v", err)
	}
	if _, _, err := runCLI(t, "", "train", "--orders", orders, "--data-dir", data); err != nil {
		t.Fatalf("train: %v", err)
	}
	reg, err := registry.Open(data, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	customer := anyCustomer(t, reg, 1)

	// 2000 blocks (1 MB with dash's 512-byte blocks, 2 MB with bash's) hold
	// the orders but not Badger's preallocated memtable (32 MiB) or value log.
	cmd := exec.Command(sh, "-c", `ulimit -f 2000 && exec "$0" -test.run='^TestPatronChild$'`, os.Args[0])
	cmd.Env = append(os.Environ(), childArgsEnv+"="+strings.Join([]string{"train", "--orders", orders, "--data-dir", data}, "\n"))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("train under a 2000-block file size limit: %v, want exit status 1; output:\n%s", err, out)
	}
	msg := string(out)
	t.Logf("what the user sees:\n%s", msg)
	for _, want := range []string{"patron: no room to write the new bundle in " + data, "file too large", "free space", "run `patron train` again", "bundle v1 is still active (running servers keep serving it)", "cause: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("message does not say %q:\n%s", want, msg)
		}
	}
	if first, _, _ := strings.Cut(msg, "\n"); strings.Contains(first, "err: ") {
		t.Errorf("the first line of the message is Badger's chain, not ours:\n%s", msg)
	}

	if v, err := reg.Active(); err != nil || v != 1 {
		t.Fatalf("active %d, %v after the failed run; want 1", v, err)
	}
	if got := anyCustomer(t, reg, 1); got != customer {
		t.Fatalf("bundle v1 reads customer %q after the failed run, %q before", got, customer)
	}
	if ms, err := reg.List(); err != nil || len(ms) != 1 {
		t.Fatalf("bundles after the failed run: %d, %v; want v1 only", len(ms), err)
	}

	// The next run, with room, publishes v2 and leaves nothing behind.
	if _, _, err := runCLI(t, "", "train", "--orders", orders, "--data-dir", data); err != nil {
		t.Fatalf("train after the failed run: %v", err)
	}
	if v, err := reg.Active(); err != nil || v != 2 {
		t.Fatalf("active %d, %v after the next run; want 2", v, err)
	}
	anyCustomer(t, reg, 2)
	entries, err := os.ReadDir(filepath.Join(data, "models"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover %s in the models directory after the next run", e.Name())
		}
	}
}

// TestTrainUnwritableDataDir: data directories that cannot be written in
// ways that work as root (a path under a regular file, ENOTDIR) fail with a
// message naming the directory and the problem: a data directory under a
// regular file, and one whose models directory is a regular file (the
// registry's own write fails; the message then says what to do).
func TestTrainUnwritableDataDir(t *testing.T) {
	dir := t.TempDir()
	orders := filepath.Join(dir, "orders.csv")
	if err := os.WriteFile(orders, []byte(strings.Replace(cliOrders, "oops", "3.00", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	blocked := filepath.Join(dir, "blocked")
	if err := os.MkdirAll(blocked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocked, "models"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"under a file", filepath.Join(file, "data"), []string{"not a directory"}},
		{"models is a file", blocked, []string{"cannot write the new bundle in " + blocked, "not a directory", "--data-dir", "no bundle was active before"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, "", "train", "--orders", orders, "--data-dir", tc.data)
			if err == nil {
				t.Fatal("train succeeded")
			}
			t.Logf("patron: %v", err)
			for _, want := range append(tc.want, tc.data) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message does not say %q: %v", want, err)
				}
			}
		})
	}
}

// anyCustomer reads the first customer of bundle v, checking that it opens
// and reads.
func anyCustomer(t *testing.T, reg *registry.Registry, v registry.Version) string {
	t.Helper()
	b, err := reg.OpenBundle(v)
	if err != nil {
		t.Fatalf("open bundle v%d: %v", v, err)
	}
	defer b.Close()
	var first string
	errStop := errors.New("stop")
	err = b.Scan(profiles.CustomerTable, func(key, val []byte) error {
		first = string(key)
		return errStop
	})
	if !errors.Is(err, errStop) || first == "" {
		t.Fatalf("bundle v%d: no customer read: %v", v, err)
	}
	return first
}

// TestTrainSpaceCheck: with too little free space for a bundle the size of
// the active one, `patron train` refuses before writing anything (on a real
// full disk Badger's memory-mapped logs would kill it with SIGBUS), says how
// much is free and needed and what to do, and v1 stays active; when free
// space cannot be measured, training goes ahead.
func TestTrainSpaceCheck(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	good := strings.Replace(cliOrders, "oops", "3.00", 1)
	if _, _, err := runCLI(t, good, "train", "--orders", "-", "--data-dir", data); err != nil {
		t.Fatal(err)
	}
	saved := freeSpace
	t.Cleanup(func() { freeSpace = saved })

	freeSpace = func(string) (uint64, error) { return 5 << 20, nil }
	_, _, err := runCLI(t, good, "train", "--orders", "-", "--data-dir", data)
	if err == nil {
		t.Fatal("train with 5 MiB free succeeded")
	}
	t.Logf("patron: %v", err)
	for _, want := range []string{"not enough free space to train into " + data, "5.0 MiB free", "needed", "free space there", "bundle v1 is still active"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message does not say %q: %v", want, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(data, "models"))
	for _, e := range entries {
		if e.Name() != "1" && e.Name() != "LAST" {
			t.Errorf("the refused run left %s in the models directory", e.Name())
		}
	}

	freeSpace = func(string) (uint64, error) { return 0, errors.New("statfs not supported") }
	if out, _, err := runCLI(t, good, "train", "--orders", "-", "--data-dir", data); err != nil || !strings.Contains(out, "bundle v2") {
		t.Fatalf("train when free space cannot be measured: %v\n%s", err, out)
	}
}
