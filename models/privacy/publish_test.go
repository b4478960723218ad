package privacy

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/patron-crm/patron/models/registry"
)

// TestPublishTrained: a bundle built while a customer was forgotten is
// published without their rows (and without example lines naming them),
// activated only when asked, and audited; with no forget in between it is
// published as it is.
func TestPublishTrained(t *testing.T) {
	for _, tc := range []struct {
		name     string
		forget   []string // forgotten while the bundle was built
		activate bool
		keep     int      // bundles the registry keeps (0: its default)
		listed   []string // on the list before the run, but read all the same (a caller's own line filter)
	}{
		{"no forget", nil, true, 0, nil},
		{"forget during the run", []string{"c1"}, true, 0, nil},
		{"forget during the run, keep 1", []string{"c1"}, true, 1, nil},
		{"forget during the run, not activated", []string{"c1"}, false, 0, nil},
		{"forget of a customer the run did not read", []string{"c9"}, true, 0, nil},
		{"listed before the run, read all the same", nil, true, 0, []string{"c1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			reg, err := registry.Open(dir, registry.Options{Keep: tc.keep})
			if err != nil {
				t.Fatal(err)
			}
			publishBundle(t, reg, []string{"c1", "c2"}, true)
			if tc.listed != nil {
				if _, err := Forget(reg, tc.listed, "cli:tester"); err != nil {
					t.Fatal(err)
				}
			}
			b := buildBundle(t, reg, []string{"c1", "c2"})
			if tc.forget != nil {
				if _, err := Forget(reg, tc.forget, "cli:tester"); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := reg.Active() // the forget replaced it
			audit := func() []string {
				raw, _ := os.ReadFile(AuditPath(dir))
				return strings.Split(strings.TrimSpace(string(raw)), "\n")
			}
			logged := len(audit())
			m, err := PublishTrained(reg, b, tc.activate, slices.Values([]string{"c1", "c2"}))
			if err != nil {
				t.Fatal(err)
			}
			removed := slices.Contains(tc.forget, "c1") || slices.Contains(tc.listed, "c1")
			wantC1 := len(CustomerTables)
			if removed {
				wantC1 = 0
			}
			if n := rowsOf(t, reg, m.Version, "c1"); n != wantC1 {
				t.Errorf("bundle %d: %d rows of c1, want %d", m.Version, n, wantC1)
			}
			if n := rowsOf(t, reg, m.Version, "c2"); n != len(CustomerTables) {
				t.Errorf("bundle %d: %d rows of c2, want %d", m.Version, n, len(CustomerTables))
			}
			if got := strings.Contains(string(m.Ingest), "c1"); got == removed {
				t.Errorf("manifest examples mention c1: %v (%s)", got, m.Ingest)
			}
			if removed != (m.Derived != nil) {
				t.Errorf("derived %+v", m.Derived)
			}
			active, _ := reg.Active()
			if want := map[bool]registry.Version{true: m.Version, false: before}[tc.activate]; active != want {
				t.Errorf("active %d, want %d", active, want)
			}
			lines := audit()
			if removed {
				if len(lines) != logged+1 || !strings.Contains(lines[len(lines)-1], `"who":"train"`) || !strings.Contains(lines[len(lines)-1], HashID("c1").String()) {
					t.Errorf("audit log %q", lines)
				}
			} else if len(lines) != logged {
				t.Errorf("audit log grew: %q", lines)
			}
		})
	}
}
