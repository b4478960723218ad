package privacy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHashID(t *testing.T) {
	// sha256("12748"), computed independently (printf 12748 | sha256sum).
	const want = "29e9d2413b4c4d7362d6711018889c17f79b11664258e197aac5af943baa760a"
	if got := HashID("12748").String(); got != want {
		t.Fatalf("HashID(12748) = %s, want %s", got, want)
	}
}

func TestAddLoadContains(t *testing.T) {
	dir := t.TempDir()
	steps := []struct {
		name      string
		add       []string
		wantAdded int
		wantIn    []string
		wantOut   []string
	}{
		{"first ids", []string{"c1", "a/b ü"}, 2, []string{"c1", "a/b ü"}, []string{"c2", "", "C1"}},
		{"again: idempotent", []string{"c1"}, 0, []string{"c1", "a/b ü"}, []string{"c2"}},
		{"duplicates in one call", []string{"c2", "c2"}, 1, []string{"c1", "c2", "a/b ü"}, []string{"c3"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			added, err := Add(dir, st.add)
			if err != nil {
				t.Fatal(err)
			}
			if added != st.wantAdded {
				t.Errorf("added %d, want %d", added, st.wantAdded)
			}
			l, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range st.wantIn {
				if !l.Contains(id) || !l.ContainsBytes([]byte(id)) {
					t.Errorf("%q not on the list", id)
				}
			}
			for _, id := range st.wantOut {
				if l.Contains(id) {
					t.Errorf("%q on the list", id)
				}
			}
		})
	}
	b, err := os.ReadFile(SuppressedPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"c1", "c2", "a/b"} {
		if strings.Contains(string(b), id) {
			t.Errorf("the list file holds the id %q:\n%s", id, b)
		}
	}
	if fi, _ := os.Stat(SuppressedPath(dir)); fi.Mode().Perm() != 0o600 {
		t.Errorf("list mode %v, want 0600", fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestLoad(t *testing.T) {
	h := HashID("x").String()
	tests := []struct {
		name    string
		file    string // "" = no file
		wantLen int
		wantErr string
	}{
		{"missing file is empty", "", 0, ""},
		{"comments and blanks", "# c\n\n" + h + "\n", 1, ""},
		{"upper-case hex", strings.ToUpper(h) + "\n", 1, ""},
		{"short line", "abc\n", 0, "line 1: want a SHA-256 in hex"},
		{"not hex", "# c\n" + strings.Repeat("z", 64) + "\n", 0, "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(SuppressedPath(dir), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			l, err := Load(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Len() != tc.wantLen {
				t.Errorf("len %d, want %d", l.Len(), tc.wantLen)
			}
		})
	}
	var nilList *List
	if nilList.Contains("x") || nilList.Len() != 0 {
		t.Error("a nil list is not empty")
	}
}

func TestScrubIngest(t *testing.T) {
	sum := `{"lines":9,"reasons":[{"reason":"duplicate","count":3,"examples":[` +
		`{"line":2,"detail":"same as line 1","text":"o1,c1,i1"},{"line":5,"detail":"same as line 4","text":"o2,c2,i1"}]},` +
		`{"reason":"order_customer_conflict","count":1,"examples":[{"line":7,"detail":"order o3 belongs to c1, this line to c3","text":"o3,c3,i2"}]},` +
		`{"reason":"bad_quantity","count":1,"examples":[{"line":8,"detail":"quantity x","text":"o4,17850.0,i3,x"}]}]}`
	tests := []struct {
		name        string
		ids         []string
		wantChanged bool
		wantLines   []float64
	}{
		{"text", []string{"c2"}, true, []float64{2, 7, 8}},
		{"detail", []string{"c1"}, true, []float64{5, 8}},
		{"absent", []string{"c9"}, false, []float64{2, 5, 7, 8}},
		// "i" is in i1, i2, line and this, but no example has it as a field.
		{"short id inside other words", []string{"i"}, false, []float64{2, 5, 7, 8}},
		{"id with a separator", []string{"c3,i2"}, true, []float64{2, 5, 8}},
		// The reader keeps the customer of "17850.0" as 17850.
		{"id written as a float", []string{"17850"}, true, []float64{2, 5, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, changed := scrubIngest(json.RawMessage(sum), tc.ids)
			if changed != tc.wantChanged {
				t.Fatalf("changed %v, want %v", changed, tc.wantChanged)
			}
			var s struct {
				Lines   int
				Reasons []struct {
					Count    int
					Examples []struct{ Line float64 }
				}
			}
			if err := json.Unmarshal(out, &s); err != nil {
				t.Fatal(err)
			}
			var lines []float64
			for _, r := range s.Reasons {
				for _, e := range r.Examples {
					lines = append(lines, e.Line)
				}
			}
			if len(lines) != len(tc.wantLines) {
				t.Fatalf("example lines %v, want %v", lines, tc.wantLines)
			}
			for i := range lines {
				if lines[i] != tc.wantLines[i] {
					t.Fatalf("example lines %v, want %v", lines, tc.wantLines)
				}
			}
			if s.Lines != 9 || s.Reasons[0].Count != 3 {
				t.Errorf("counts changed: %s", out)
			}
		})
	}
}

// BenchmarkContains is the per-read cost a server pays for its
// suppression list: nothing much when empty, one SHA-256 and a map lookup
// otherwise.
func BenchmarkContains(b *testing.B) {
	for _, n := range []int{0, 10_000} {
		dir := b.TempDir()
		ids := make([]string, n)
		for i := range ids {
			ids[i] = "forgotten-" + strings.Repeat("x", i%7) + string(rune('a'+i%26))
		}
		if n > 0 {
			if _, err := Add(dir, ids); err != nil {
				b.Fatal(err)
			}
		}
		l, err := Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		id := []byte("17850")
		b.Run(map[bool]string{true: "empty", false: "10k"}[n == 0], func(b *testing.B) {
			for b.Loop() {
				if l.ContainsBytes(id) {
					b.Fatal("found")
				}
			}
		})
	}
}
