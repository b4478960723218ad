package registry

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// publish writes a bundle whose table "t" holds rows k0..k(n-1) = "v<i>-<tag>".
func publish(t testing.TB, r *Registry, tag string, n int, activate bool) Manifest {
	t.Helper()
	b, err := r.NewBuilder(Manifest{CodeVersion: tag, Params: map[string]string{"tag": tag}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := b.Put("t", []byte(fmt.Sprintf("k%05d", i)), []byte(fmt.Sprintf("v%d-%s", i, tag))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Put("other", []byte("x"), []byte("y")); err != nil {
		t.Fatal(err)
	}
	m, err := b.Publish(activate)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func get(t testing.TB, b *Bundle, table, key string) (string, error) {
	t.Helper()
	var out string
	err := b.Get(table, []byte(key), func(v []byte) error { out = string(v); return nil })
	return out, err
}

func TestPublishListActivate(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Active(); !errors.Is(err, ErrNoActive) {
		t.Fatalf("Active on empty dir: %v, want ErrNoActive", err)
	}
	if ms, err := r.List(); err != nil || len(ms) != 0 {
		t.Fatalf("List on empty dir: %v %v", ms, err)
	}
	m1 := publish(t, r, "a", 100, true)
	m2 := publish(t, r, "b", 50, false)
	if m1.Version != 1 || m2.Version != 2 {
		t.Fatalf("versions %d %d, want 1 2", m1.Version, m2.Version)
	}
	if a, err := r.Active(); err != nil || a != 1 {
		t.Fatalf("active %d %v, want 1 (second publish did not activate)", a, err)
	}
	want := []TableInfo{{"other", 1}, {"t", 50}}
	if fmt.Sprint(m2.Tables) != fmt.Sprint(want) {
		t.Fatalf("tables %v, want %v", m2.Tables, want)
	}
	ms, err := r.List()
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].Params["tag"] != "b" {
		t.Fatalf("List: %+v %v", ms, err)
	}
	if ms[0].Format != FormatVersion || ms[0].CreatedAt.IsZero() || ms[0].Encrypted {
		t.Fatalf("manifest fields: %+v", ms[0])
	}

	b, err := r.OpenBundle(2)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if v, err := get(t, b, "t", "k00049"); err != nil || v != "v49-b" {
		t.Fatalf("get: %q %v", v, err)
	}
	if _, err := get(t, b, "t", "k00050"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	if _, err := get(t, b, "other", "k00001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("key of another table: %v", err)
	}
	var keys []string
	if err := b.Scan("t", func(k, v []byte) error { keys = append(keys, string(k)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 50 || keys[0] != "k00000" || keys[49] != "k00049" {
		t.Fatalf("scan: %d keys, first %q", len(keys), keys[0])
	}
	if !b.HasTable("t") || b.HasTable("nope") {
		t.Fatal("HasTable")
	}

	if err := r.Activate(2); err != nil {
		t.Fatal(err)
	}
	if a, _ := r.Active(); a != 2 {
		t.Fatalf("active %d after Activate(2)", a)
	}
	if err := r.Activate(9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Activate(9): %v", err)
	}
	if err := r.Delete(2); err == nil || !strings.Contains(err.Error(), "active") {
		t.Fatalf("Delete(active): %v", err)
	}
	if err := r.Delete(1); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete twice: %v", err)
	}
	// Versions are never reused, even after the newest is deleted.
	if err := r.Activate(2); err != nil {
		t.Fatal(err)
	}
	m3 := publish(t, r, "c", 1, true)
	if err := r.Activate(3); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(2); err != nil {
		t.Fatal(err)
	}
	if err := r.Activate(3); err != nil {
		t.Fatal(err)
	}
	if m3.Version != 3 {
		t.Fatalf("v%d", m3.Version)
	}
	m4 := publish(t, r, "d", 1, false)
	if err := r.Delete(4); err != nil {
		t.Fatal(err)
	}
	if m5 := publish(t, r, "e", 1, false); m5.Version != 5 || m4.Version != 4 {
		t.Fatalf("version reused: %d after deleting %d", m5.Version, m4.Version)
	}
}

func TestRetentionKeepsActive(t *testing.T) {
	r, _ := Open(t.TempDir(), Options{Keep: 2})
	publish(t, r, "1", 3, true) // v1 stays active throughout
	for i := 2; i <= 5; i++ {
		publish(t, r, strconv.Itoa(i), 3, false)
	}
	ms, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []Version
	for _, m := range ms {
		got = append(got, m.Version)
	}
	// Keep 2 bundles, but never the active one: v1 survives beside the newest.
	if fmt.Sprint(got) != "[1 5]" {
		t.Fatalf("kept %v, want [1 5]", got)
	}
	// Keep 1: a bundle published inactive beside the active one stays (to be
	// activated next), one over the bound until the next publish.
	r1, _ := Open(t.TempDir(), Options{Keep: 1})
	publish(t, r1, "a", 3, true)
	if m := publish(t, r1, "b", 3, false); func() error { _, err := r1.Manifest(m.Version); return err }() != nil {
		t.Fatalf("Keep 1 removed the bundle %d it had just published", m.Version)
	}
	entries, _ := os.ReadDir(filepath.Join(r.Dir(), "models"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestReadersAlongsideWriter(t *testing.T) {
	dir := t.TempDir()
	r, _ := Open(dir, Options{})
	publish(t, r, "a", 10, true)
	b1, err := r.OpenBundle(1)
	if err != nil {
		t.Fatal(err)
	}
	defer b1.Close()
	// A second reader of the same bundle, as another server process would be.
	b2, err := r.OpenBundle(1)
	if err != nil {
		t.Fatalf("second read-only open: %v", err)
	}
	defer b2.Close()
	// A writer publishes while readers hold bundle 1 open.
	publish(t, r, "b", 10, true)
	if v, err := get(t, b1, "t", "k00003"); err != nil || v != "v3-a" {
		t.Fatalf("old bundle after publish: %q %v", v, err)
	}
	b3, err := r.OpenBundle(2)
	if err != nil {
		t.Fatal(err)
	}
	defer b3.Close()
	if v, _ := get(t, b3, "t", "k00003"); v != "v3-b" {
		t.Fatalf("new bundle: %q", v)
	}
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b1.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestEncryption(t *testing.T) {
	dir := t.TempDir()
	key := []byte("0123456789abcdef0123456789abcdef")
	r, err := Open(dir, Options{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	m := publish(t, r, "secret-value", 20, true)
	if !m.Encrypted || m.KeyFingerprint != Fingerprint(key) {
		t.Fatalf("manifest: encrypted=%v fp=%q", m.Encrypted, m.KeyFingerprint)
	}
	b, err := r.OpenBundle(1)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := get(t, b, "t", "k00001"); err != nil || v != "v1-secret-value" {
		t.Fatalf("get: %q %v", v, err)
	}
	b.Close()
	// The plaintext must not be on disk.
	filepath.Walk(filepath.Join(dir, "models", "1", "db"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			data, _ := os.ReadFile(p)
			if strings.Contains(string(data), "secret-value") {
				t.Errorf("plaintext found in %s", p)
			}
		}
		return nil
	})

	tests := []struct {
		name string
		key  []byte
	}{
		{"missing key", nil},
		{"wrong key", []byte("fedcba9876543210fedcba9876543210")},
		{"wrong key length", []byte("fedcba9876543210")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r2, _ := Open(dir, Options{EncryptionKey: tc.key})
			_, err := r2.OpenBundle(1)
			if !errors.Is(err, ErrEncryptionKey) {
				t.Fatalf("err %v, want ErrEncryptionKey", err)
			}
		})
	}
	// A wrong key that passes the fingerprint check (a forged manifest) still
	// fails cleanly inside Badger rather than panicking.
	mf := filepath.Join(dir, "models", "1", manifestName)
	data, _ := os.ReadFile(mf)
	wrong := []byte("fedcba9876543210fedcba9876543210")
	os.WriteFile(mf, []byte(strings.Replace(string(data), Fingerprint(key), Fingerprint(wrong), 1)), 0o644)
	r3, _ := Open(dir, Options{EncryptionKey: wrong})
	if _, err := r3.OpenBundle(1); !errors.Is(err, ErrEncryptionKey) {
		t.Fatalf("forged fingerprint: %v, want ErrEncryptionKey", err)
	}
	if _, err := Open(dir, Options{EncryptionKey: []byte("short")}); !errors.Is(err, ErrEncryptionKey) {
		t.Fatalf("short key: %v", err)
	}
}

func TestReadKeyFile(t *testing.T) {
	raw := []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f")
	tests := []struct {
		name, content string
		want          []byte
		ok            bool
	}{
		{"raw", string(raw), raw, true},
		{"hex", "000102030405060708090a0b0c0d0e0f\n", raw, true},
		{"base64", "AAECAwQFBgcICQoLDA0ODw==\n", raw, true},
		{"32 raw printable bytes", "0123456789abcdefghijklmnopqrstu!", []byte("0123456789abcdefghijklmnopqrstu!"), true},
		{"32 base64 characters decode as base64", "0123456789abcdefghijklmnopqrstuv", []byte{0xd3, 0x5d, 0xb7, 0xe3, 0x9e, 0xbb, 0xf3, 0xd6, 0x9b, 0x71, 0xd7, 0x9f, 0x82, 0x18, 0xa3, 0x92, 0x59, 0xa7, 0xa2, 0x9a, 0xab, 0xb2, 0xdb, 0xaf}, true},
		{"too short", "abc", nil, false},
		{"empty", "", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "key")
			os.WriteFile(p, []byte(tc.content), 0o600)
			got, err := ReadKeyFile(p)
			if tc.ok != (err == nil) || string(got) != string(tc.want) {
				t.Fatalf("got %x %v", got, err)
			}
			if err != nil && !strings.Contains(err.Error(), p) {
				t.Fatalf("error does not name the file: %v", err)
			}
		})
	}
	if _, err := ReadKeyFile(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestIncompatibleAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	r, _ := Open(dir, Options{})
	publish(t, r, "a", 5, true)
	publish(t, r, "b", 5, false)
	mf := filepath.Join(dir, "models", "2", manifestName)
	data, _ := os.ReadFile(mf)
	os.WriteFile(mf, []byte(strings.Replace(string(data), `"format": 1`, `"format": 99`, 1)), 0o644)
	if _, err := r.OpenBundle(2); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("format 99: %v", err)
	}
	if err := r.Activate(2); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("Activate(format 99): %v", err)
	}
	os.WriteFile(mf, []byte("{not json"), 0o644)
	if _, err := r.OpenBundle(2); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("bad json: %v", err)
	}
	if a, _ := r.Active(); a != 1 {
		t.Fatalf("active changed to %d", a)
	}
	os.WriteFile(filepath.Join(dir, "ACTIVE"), []byte("seven\n"), 0o644)
	if _, err := r.Active(); err == nil {
		t.Fatal("garbage ACTIVE accepted")
	}
}

func TestAbort(t *testing.T) {
	dir := t.TempDir()
	r, _ := Open(dir, Options{})
	b, err := r.NewBuilder(Manifest{})
	if err != nil {
		t.Fatal(err)
	}
	b.Put("t", []byte("k"), []byte("v"))
	if err := b.Abort(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "models"))
	if len(entries) != 0 {
		t.Fatalf("abort left %v", entries)
	}
	if err := b.Put("t", nil, nil); err == nil {
		t.Fatal("Put after Abort accepted")
	}
}

// TestCrashDuringPublish kills a real publishing process (SIGKILL) at each
// step of Publish and while it is still writing rows, then checks that the
// previous bundle is still active and readable, that the data directory holds
// no half-made bundle, and that the next publish works and cleans up.
func TestCrashDuringPublish(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	steps := []string{"writing", "flushed", "closed", "manifest-written", "renamed", "write-active", "activated"}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			r, _ := Open(dir, Options{})
			publish(t, r, "old", 20, true)

			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
			cmd.Env = append(os.Environ(), "PATRON_CRASH_DIR="+dir, "PATRON_CRASH_STEP="+step)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed: %v\n%s", err, out)
			}

			active, err := r.Active()
			if err != nil {
				t.Fatalf("after crash at %s: %v", step, err)
			}
			wantActive := Version(1)
			if step == "activated" {
				wantActive = 2 // the crash came after the switch
			}
			if active != wantActive {
				t.Fatalf("active %d after crash at %s, want %d", active, step, wantActive)
			}
			b, err := r.OpenBundle(active)
			if err != nil {
				t.Fatalf("active bundle does not open after crash at %s: %v", step, err)
			}
			want := "v7-old"
			if active == 2 {
				want = "v7-new"
			}
			if v, err := get(t, b, "t", "k00007"); err != nil || v != want {
				t.Fatalf("read %q %v, want %q", v, err, want)
			}
			b.Close()
			ms, err := r.List()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				bb, err := r.OpenBundle(m.Version)
				if err != nil {
					t.Fatalf("listed bundle %d does not open: %v", m.Version, err)
				}
				bb.Close()
			}
			// The next publish gets a fresh version and removes the leftovers.
			m := publish(t, r, "next", 3, true)
			if int(m.Version) != len(ms)+1 {
				t.Fatalf("next version %d with %d bundles listed", m.Version, len(ms))
			}
			entries, _ := os.ReadDir(filepath.Join(dir, "models"))
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					t.Errorf("leftover %s after the next publish", e.Name())
				}
			}
		})
	}
}

// TestCrashChild is the child process of TestCrashDuringPublish; it does
// nothing in a normal test run.
func TestCrashChild(t *testing.T) {
	dir, step := os.Getenv("PATRON_CRASH_DIR"), os.Getenv("PATRON_CRASH_STEP")
	if dir == "" {
		t.Skip("child process of TestCrashDuringPublish")
	}
	kill := func() { syscall.Kill(os.Getpid(), syscall.SIGKILL); time.Sleep(time.Minute) }
	r, _ := Open(dir, Options{})
	r.crashPoint = func(s string) {
		if s == step {
			kill()
		}
	}
	b, err := r.NewBuilder(Manifest{CodeVersion: "new"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20000; i++ {
		b.Put("t", []byte(fmt.Sprintf("k%05d", i)), []byte(fmt.Sprintf("v%d-new", i)))
		if step == "writing" && i == 10000 {
			kill()
		}
	}
	if _, err := b.Publish(true); err != nil {
		t.Fatal(err)
	}
	t.Fatal("not killed")
}
