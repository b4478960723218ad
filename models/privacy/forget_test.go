package privacy

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/patron-crm/patron/models/registry"
)

// publishBundle writes a bundle with rows of customers ids in every
// customer table and an item table, and returns its version.
func publishBundle(t *testing.T, reg *registry.Registry, ids []string, activate bool) registry.Version {
	t.Helper()
	m, err := buildBundle(t, reg, ids).Publish(activate)
	if err != nil {
		t.Fatal(err)
	}
	return m.Version
}

// buildBundle is publishBundle's bundle, not yet published.
func buildBundle(t *testing.T, reg *registry.Registry, ids []string) *registry.Builder {
	t.Helper()
	// The cleaning summary shows a line of the first customer.
	ingest := `{"reasons":[{"reason":"duplicate","count":1,"examples":[{"line":3,"text":"o1,` + ids[0] + `,i1"}]}]}`
	b, err := reg.NewBuilder(registry.Manifest{CodeVersion: "test", Ingest: json.RawMessage(ingest)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tab := range CustomerTables {
		for _, id := range ids {
			if err := b.Put(tab, []byte(id), []byte("row of "+id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Put("items", []byte("i1"), []byte("aggregate")); err != nil {
		t.Fatal(err)
	}
	return b
}

// rowsOf counts the rows of id in bundle v's customer tables.
func rowsOf(t *testing.T, reg *registry.Registry, v registry.Version, id string) int {
	t.Helper()
	b, err := reg.OpenBundle(v)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	n := 0
	for _, tab := range CustomerTables {
		err := b.Get(tab, []byte(id), func([]byte) error { return nil })
		switch {
		case err == nil:
			n++
		case !errors.Is(err, registry.ErrNotFound):
			t.Fatal(err)
		}
	}
	return n
}

func TestForget(t *testing.T) {
	dir := t.TempDir()
	reg, err := registry.Open(dir, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := publishBundle(t, reg, []string{"c1", "c2"}, true) // retained
	act := publishBundle(t, reg, []string{"c1", "c2"}, true) // active
	other := publishBundle(t, reg, []string{"c2"}, false)    // retained, without c1 rows or examples
	_ = other

	res, err := Forget(reg, []string{"c1", "c1"}, "cli:tester")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Customers) != 1 || !res.Customers[0].Known || res.Customers[0].AlreadySuppressed {
		t.Fatalf("customers %+v", res.Customers)
	}
	// 4 rows in the active bundle, 4 in the old one.
	if res.RowsRemoved != 8 || res.Customers[0].RowsRemoved != 8 {
		t.Errorf("rows removed %d (customer %d), want 8", res.RowsRemoved, res.Customers[0].RowsRemoved)
	}
	if res.Replaced != act || res.NewVersion <= other {
		t.Errorf("replaced v%d by v%d, want v%d replaced by a new version", res.Replaced, res.NewVersion, act)
	}
	if got, _ := reg.Active(); got != res.NewVersion {
		t.Errorf("active v%d, want v%d", got, res.NewVersion)
	}
	if _, err := reg.Manifest(act); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("old active bundle still there: %v", err)
	}
	// The bundle without rows or examples of c1 is left alone.
	if len(res.Rewritten) != 1 || res.Rewritten[0] != old {
		t.Errorf("rewritten %v, want [%d]", res.Rewritten, old)
	}
	ms, err := reg.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if n := rowsOf(t, reg, m.Version, "c1"); n != 0 {
			t.Errorf("bundle v%d holds %d rows of c1", m.Version, n)
		}
		if strings.Contains(string(m.Ingest), "c1") {
			t.Errorf("bundle v%d manifest mentions c1: %s", m.Version, m.Ingest)
		}
		if n := rowsOf(t, reg, m.Version, "c2"); n != len(CustomerTables) {
			t.Errorf("bundle v%d holds %d rows of c2, want %d", m.Version, n, len(CustomerTables))
		}
	}
	if m, _ := reg.Manifest(res.NewVersion); m.Derived == nil || m.Derived.From != act || m.Derived.RowsRemoved != 4 {
		t.Errorf("new manifest derived %+v, want from v%d, 4 rows", m.Derived, act)
	}

	// Again: nothing left to remove, one more audit line.
	res2, err := Forget(reg, []string{"c1"}, "api-key:ops")
	if err != nil {
		t.Fatal(err)
	}
	if res2.NewVersion != 0 || len(res2.Rewritten) != 0 || res2.Customers[0].Known || !res2.Customers[0].AlreadySuppressed {
		t.Errorf("second forget %+v", res2)
	}

	f, err := os.Open(AuditPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []AuditRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"c1"`) {
			t.Errorf("audit line holds the id: %s", sc.Text())
		}
		var r AuditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 2 {
		t.Fatalf("%d audit lines, want 2", len(recs))
	}
	if r := recs[0]; r.CustomerIDSHA256 != HashID("c1").String() || r.Who != "cli:tester" || r.Action != "forget_customer" ||
		!r.Known || r.RowsRemoved != 8 || r.NewVersion != int64(res.NewVersion) || r.Time.IsZero() {
		t.Errorf("first audit record %+v", r)
	}
	if r := recs[1]; r.Who != "api-key:ops" || r.Known || !r.AlreadySuppressed {
		t.Errorf("second audit record %+v", r)
	}
}

// TestForgetRefusesEmptyID: an empty id is refused before anything is
// written (it would otherwise hash like any id and "mention" every line).
func TestForgetRefusesEmptyID(t *testing.T) {
	dir := t.TempDir()
	reg, err := registry.Open(dir, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	publishBundle(t, reg, []string{"c1"}, true)
	if _, err := Forget(reg, []string{"c1", ""}, "cli:tester"); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty id: %v", err)
	}
	if l, err := Load(dir); err != nil || l.Len() != 0 {
		t.Fatalf("suppression list after a refused forget: %d ids, %v", l.Len(), err)
	}
	if _, err := os.Stat(AuditPath(dir)); err == nil {
		t.Error("audit log written for a refused forget")
	}
}
