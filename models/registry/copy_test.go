package registry

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// rawRows reads every key and value of bundle v's database.
func rawRows(t *testing.T, r *Registry, v Version) map[string][]byte {
	t.Helper()
	b, err := r.OpenBundle(v)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	out := map[string][]byte{}
	err = b.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			val, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out[string(it.Item().KeyCopy(nil))] = val
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCopyWithout(t *testing.T) {
	for _, enc := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "encrypted"}[enc]
		t.Run(name, func(t *testing.T) {
			opts := Options{}
			if enc {
				opts.EncryptionKey = bytes.Repeat([]byte{7}, 32)
			}
			r, err := Open(t.TempDir(), opts)
			if err != nil {
				t.Fatal(err)
			}
			// Rows of "t" and "other", and one value above Badger's value
			// threshold (1 MiB), which lives in the value log.
			bb, err := r.NewBuilder(Manifest{CodeVersion: "a", Params: map[string]string{"tag": "a"}})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 200; i++ {
				if err := bb.Put("t", []byte(fmt.Sprintf("k%05d", i)), []byte(fmt.Sprintf("v%d-a", i))); err != nil {
					t.Fatal(err)
				}
			}
			big := bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB
			if err := bb.Put("other", []byte("x"), big); err != nil {
				t.Fatal(err)
			}
			src, err := bb.Publish(true)
			if err != nil {
				t.Fatal(err)
			}
			forgotten := map[string]bool{"k00007": true, "k00150": true}
			drop := func(table string, key []byte) bool { return table == "t" && forgotten[string(key)] }

			b, removed, err := r.CopyWithout(src.Version, drop)
			if err != nil {
				t.Fatal(err)
			}
			if removed != 2 {
				t.Errorf("removed %d, want 2", removed)
			}
			b.EditManifest(func(m *Manifest) { m.Derived.Reason = "test" })
			m, err := b.Publish(true)
			if err != nil {
				t.Fatal(err)
			}
			if m.Version != src.Version+1 || m.Derived == nil || m.Derived.From != src.Version || m.Derived.Reason != "test" {
				t.Errorf("manifest version %d derived %+v", m.Version, m.Derived)
			}
			if !m.CreatedAt.Equal(src.CreatedAt) || m.Params["tag"] != "a" || m.Encrypted != enc {
				t.Errorf("manifest lost the source's fields: %+v", m)
			}
			want := map[string]int64{"t": 198, "other": 1}
			for _, ti := range m.Tables {
				if want[ti.Name] != ti.Rows {
					t.Errorf("table %s: %d rows, want %d", ti.Name, ti.Rows, want[ti.Name])
				}
			}
			before, after := rawRows(t, r, src.Version), rawRows(t, r, m.Version)
			for k, v := range before {
				table, key, _ := strings.Cut(k, "\x00")
				if drop(table, []byte(key)) {
					if _, ok := after[k]; ok {
						t.Errorf("dropped row %q is in the copy", k)
					}
					continue
				}
				if !bytes.Equal(after[k], v) {
					t.Errorf("row %q: %q in the copy, want %q", k, after[k], v)
				}
			}
			if len(after) != len(before)-2 {
				t.Errorf("copy has %d rows, want %d", len(after), len(before)-2)
			}
		})
	}
}

func TestCopyWithoutEverythingKeepsTables(t *testing.T) {
	r, _ := Open(t.TempDir(), Options{})
	src := publish(t, r, "a", 3, true)
	b, _, err := r.CopyWithout(src.Version, func(table string, _ []byte) bool { return table == "t" })
	if err != nil {
		t.Fatal(err)
	}
	m, err := b.Publish(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Tables) != 2 || m.Tables[1].Name != "t" || m.Tables[1].Rows != 0 {
		t.Errorf("tables %+v, want t listed with 0 rows", m.Tables)
	}
}

func TestReplace(t *testing.T) {
	r, _ := Open(t.TempDir(), Options{})
	old := publish(t, r, "a", 10, true)
	act := publish(t, r, "b", 10, true)
	drop := func(table string, key []byte) bool { return string(key) == "k00003" }

	// The active bundle cannot be replaced: servers would not notice.
	b, _, err := r.CopyWithout(act.Version, drop)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Replace(act.Version); err == nil || !strings.Contains(err.Error(), "active") {
		t.Fatalf("replacing the active bundle: %v", err)
	}

	b, _, err = r.CopyWithout(old.Version, drop)
	if err != nil {
		t.Fatal(err)
	}
	m, err := b.Replace(old.Version)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != old.Version || m.Derived.From != old.Version {
		t.Errorf("replaced manifest %+v", m)
	}
	bd, err := r.OpenBundle(old.Version)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, bd, "t", "k00003"); !errors.Is(err, ErrNotFound) {
		t.Errorf("dropped row still readable: %v", err)
	}
	if v, _ := get(t, bd, "t", "k00004"); v != "v4-a" {
		t.Errorf("k00004 = %q", v)
	}
	bd.Close()
	entries, _ := os.ReadDir(r.modelsDir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover %s", filepath.Join(r.modelsDir(), e.Name()))
		}
	}
	if a, _ := r.Active(); a != act.Version {
		t.Errorf("active v%d, want v%d", a, act.Version)
	}
}

// TestPublishReplacing: a copy published in place of the active bundle
// deletes that bundle, not a retained one, when the registry is at its
// bound.
func TestPublishReplacing(t *testing.T) {
	r, _ := Open(t.TempDir(), Options{Keep: 3})
	publish(t, r, "1", 3, false)
	publish(t, r, "2", 3, false)
	act := publish(t, r, "3", 3, true)
	b, _, err := r.CopyWithout(act.Version, func(string, []byte) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	m, err := b.PublishReplacing(act.Version)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := r.List()
	var got []Version
	for _, mm := range ms {
		got = append(got, mm.Version)
	}
	if a, _ := r.Active(); a != m.Version || fmt.Sprint(got) != "[1 2 4]" {
		t.Fatalf("active %d, bundles %v; want 4 and [1 2 4]", a, got)
	}
}
