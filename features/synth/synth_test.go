package synth

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
)

// small returns a quick configuration: 2,000 customers, about 20k lines.
func small() Config {
	cfg := DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories = 2000, 1000, 12
	return cfg
}

type output struct {
	orders, customers, items bytes.Buffer
	cfg                      Config
	stats                    Stats
}

func generate(t *testing.T, cfg Config) *output {
	t.Helper()
	o := &output{}
	var err error
	o.cfg, o.stats, err = Generate(context.Background(), cfg, Output{Orders: &o.orders, Customers: &o.customers, Items: &o.items})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return o
}

func read(t *testing.T, o *output) *features.Dataset {
	t.Helper()
	ds, err := features.Read(context.Background(), bytes.NewReader(o.orders.Bytes()), features.Options{Source: "synth"})
	if err != nil {
		t.Fatalf("read generated orders: %v", err)
	}
	return ds
}

func TestDeterministic(t *testing.T) {
	base := small()
	base.MalformedShare = 0.01
	want := generate(t, base)
	tests := []struct {
		name    string
		workers int
		seed    uint64
		same    bool
	}{
		{"one worker", 1, base.Seed, true},
		{"two workers", 2, base.Seed, true},
		{"seven workers", 7, base.Seed, true},
		{"other seed", 2, base.Seed + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			cfg.Workers, cfg.Seed = tt.workers, tt.seed
			got := generate(t, cfg)
			for _, f := range []struct {
				name      string
				got, want []byte
			}{
				{"orders", got.orders.Bytes(), want.orders.Bytes()},
				{"customers", got.customers.Bytes(), want.customers.Bytes()},
				{"items", got.items.Bytes(), want.items.Bytes()},
			} {
				if same := bytes.Equal(f.got, f.want); same != tt.same {
					t.Errorf("%s: identical = %v, want %v (%d vs %d bytes)", f.name, same, tt.same, len(f.got), len(f.want))
				}
			}
		})
	}
}

// TestReadBack reads the files back with the reader's default options: no
// line is rejected or dropped unless it was made malformed, and then the
// reader rejects exactly the labelled lines, by reason.
func TestReadBack(t *testing.T) {
	for _, share := range []float64{0, 0.008} {
		t.Run(strconv.FormatFloat(share, 'g', -1, 64), func(t *testing.T) {
			cfg := small()
			cfg.MalformedShare = share
			paths := TruthPaths(filepath.Join(t.TempDir(), "orders.csv.gz"), "")
			cfg, st, err := WriteFiles(context.Background(), cfg, paths, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{paths.Customers, paths.Items, paths.JSON} {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("truth file: %v", err)
				}
			}
			ds, err := features.ReadFile(context.Background(), paths.Orders, features.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := ds.Summary
			if !s.Gzip {
				t.Errorf("orders.csv.gz was not gzip")
			}
			if s.Lines != st.Lines || s.Rejected != st.MalformedLines() || s.Dropped != 0 {
				t.Errorf("reader: lines %d, rejected %d, dropped %d; generator: lines %d, malformed %d",
					s.Lines, s.Rejected, s.Dropped, st.Lines, st.MalformedLines())
			}
			if share > 0 && len(st.Malformed) != len(malformedKinds) {
				t.Errorf("malformed kinds %v: want all %d kinds", st.Malformed, len(malformedKinds))
			}
			for _, kind := range malformedKinds {
				if got, want := s.Reason(kind).Count, st.Malformed[kind]; got != want {
					t.Errorf("reason %s: reader counts %d, generator made %d", kind, got, want)
				}
			}
			checks := []struct {
				name      string
				got, want int64
			}{
				{"purchase lines", s.PurchaseLines + s.GuestPurchaseLines, st.PurchaseLines},
				{"return lines", s.ReturnLines + s.GuestReturnLines, st.ReturnLines},
				{"guest lines", s.GuestPurchaseLines + s.GuestReturnLines, st.GuestLines},
				{"orders", int64(s.Orders), st.Orders},
				{"guest orders", int64(s.GuestOrders), st.GuestOrders},
				{"return orders", int64(s.ReturnOrders), st.ReturnOrders},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: reader %d, generator %d", c.name, c.got, c.want)
				}
			}
			if share == 0 && s.Customers != cfg.Customers {
				t.Errorf("customers: reader %d, generator %d", s.Customers, cfg.Customers)
			}
		})
	}
}

func TestTimeSorted(t *testing.T) {
	o := generate(t, small())
	lines := strings.Split(strings.TrimSuffix(o.orders.String(), "\n"), "\n")
	if lines[0] != Header {
		t.Fatalf("header %q", lines[0])
	}
	prev := ""
	for i, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 9 {
			t.Fatalf("line %d: %d fields: %q", i+2, len(f), l)
		}
		if _, err := time.Parse(time.DateTime, f[5]); err != nil {
			t.Fatalf("line %d: %v", i+2, err)
		}
		if f[5] < prev {
			t.Fatalf("line %d: %s after %s", i+2, f[5], prev)
		}
		prev = f[5]
	}
}

func TestGuestsAndReturns(t *testing.T) {
	tests := []struct{ guest, ret float64 }{
		{0, 0},
		{0.1, 0.03},
		{0.3, 0.2},
	}
	for _, tt := range tests {
		cfg := small()
		cfg.GuestShare, cfg.ReturnRate = tt.guest, tt.ret
		st := generate(t, cfg).stats
		guest := float64(st.GuestOrders) / float64(st.Orders)
		// Returns that would fall after End are not written: a little fewer.
		ret := float64(st.ReturnLines) / float64(st.PurchaseLines)
		if math.Abs(guest-tt.guest) > 0.02 {
			t.Errorf("guest share %v: got %.3f", tt.guest, guest)
		}
		if ret > tt.ret || ret < 0.9*tt.ret-0.003 {
			t.Errorf("return rate %v: got %.4f", tt.ret, ret)
		}
	}
}

// truthCustomers parses the customers' truth file.
type truthCustomer struct {
	lambda, p float64
	first     time.Time
	dropped   bool
	orders    int
}

func parseTruth(t *testing.T, b []byte) []truthCustomer {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []truthCustomer
	for _, r := range recs[1:] {
		var c truthCustomer
		var err error
		c.lambda, _ = strconv.ParseFloat(r[1], 64)
		c.p, _ = strconv.ParseFloat(r[2], 64)
		if c.first, err = time.Parse(time.DateTime, r[3]); err != nil {
			t.Fatal(err)
		}
		c.dropped = r[4] != ""
		if c.dropped != (r[5] == "false") {
			t.Fatalf("customer %s: dropout_at %q but alive_at_end %s", r[0], r[4], r[5])
		}
		c.orders, _ = strconv.Atoi(r[6])
		out = append(out, c)
	}
	return out
}

// TestPurchaseRate checks the rate in the data: with (almost) no dropout
// and no season, repeat orders per day of exposure estimate E[λ] = r/α.
func TestPurchaseRate(t *testing.T) {
	tests := []struct{ r, alpha float64 }{
		{1, 50},
		{0.5, 20},
	}
	for _, tt := range tests {
		cfg := small()
		cfg.Customers, cfg.LinesPerOrder = 5000, 1
		cfg.R, cfg.Alpha, cfg.A, cfg.B = tt.r, tt.alpha, 0.01, 1e4
		cfg.Seasonality, cfg.GuestShare, cfg.ReturnRate = 0, 0, 0
		o := generate(t, cfg)
		ds := read(t, o)
		truth := parseTruth(t, o.customers.Bytes())
		repeat, exposure, meanLambda := 0.0, 0.0, 0.0
		for c := range ds.Customers.Len() {
			id, _ := strconv.Atoi(ds.Customers.Name(int32(c)))
			orders := ds.CustomerOrders.Of(c)
			first := ds.Orders[orders[0]].Time
			if first != truth[id-1].first.Unix() {
				t.Fatalf("customer %d: first order %d, truth %v", id, first, truth[id-1].first)
			}
			repeat += float64(len(orders) - 1)
			exposure += float64(cfg.End.Unix()-first) / 86400
		}
		for _, c := range truth {
			meanLambda += c.lambda / float64(len(truth))
		}
		want := tt.r / tt.alpha
		if got := repeat / exposure; math.Abs(got/want-1) > 0.06 {
			t.Errorf("r=%v alpha=%v: orders per day %.5f, want %.5f", tt.r, tt.alpha, got, want)
		}
		if math.Abs(meanLambda/want-1) > 0.06 {
			t.Errorf("r=%v alpha=%v: truth mean λ %.5f, want %.5f", tt.r, tt.alpha, meanLambda, want)
		}
	}
}

// TestDropout checks the share of customers who drop out: given λ, p and
// the time T from the first order to End, the dropout times form a Poisson
// process of rate λp (thinning), so P(dropped) = 1 - exp(-λpT).
func TestDropout(t *testing.T) {
	tests := []struct{ a, b float64 }{
		{1.2, 3.6},
		{0.5, 5},
		{3, 1},
	}
	for _, tt := range tests {
		cfg := small()
		cfg.Customers, cfg.LinesPerOrder = 5000, 1
		cfg.A, cfg.B, cfg.Seasonality = tt.a, tt.b, 0
		o := generate(t, cfg)
		truth := parseTruth(t, o.customers.Bytes())
		want, variance, got, meanP := 0.0, 0.0, 0.0, 0.0
		for _, c := range truth {
			T := cfg.End.Sub(c.first).Hours() / 24
			q := 1 - math.Exp(-c.lambda*c.p*T)
			want += q
			variance += q * (1 - q)
			if c.dropped {
				got++
			}
			meanP += c.p / float64(len(truth))
		}
		if int64(got) != o.stats.Dropped {
			t.Errorf("a=%v b=%v: %v dropped in the truth file, stats say %d", tt.a, tt.b, got, o.stats.Dropped)
		}
		if math.Abs(got-want) > 4*math.Sqrt(variance) {
			t.Errorf("a=%v b=%v: %v customers dropped out, model expects %.0f ± %.0f", tt.a, tt.b, got, want, math.Sqrt(variance))
		}
		if wantP := tt.a / (tt.a + tt.b); math.Abs(meanP-wantP) > 0.02 {
			t.Errorf("a=%v b=%v: mean p %.3f, want %.3f", tt.a, tt.b, meanP, wantP)
		}
	}
}

// TestLongTail checks Zipf popularity: the top 20% of items carry most lines.
func TestLongTail(t *testing.T) {
	tests := []struct {
		exponent float64
		min, max float64 // share of purchase lines on the top 20% of items
	}{
		{1.05, 0.6, 0.95},
		{0.3, 0.25, 0.5},
	}
	for _, tt := range tests {
		cfg := small()
		cfg.ZipfExponent = tt.exponent
		ds := read(t, generate(t, cfg))
		perItem := make([]int, cfg.Items)
		total := 0
		for _, it := range ds.OrderItems.Idx {
			perItem[it]++
			total++
		}
		slices.Sort(perItem)
		slices.Reverse(perItem)
		top := 0
		for _, n := range perItem[:cfg.Items/5] {
			top += n
		}
		share := float64(top) / float64(total)
		if share < tt.min || share > tt.max {
			t.Errorf("exponent %v: top 20%% of items carry %.2f of lines, want [%v, %v]", tt.exponent, share, tt.min, tt.max)
		}
	}
}

func TestLinesTarget(t *testing.T) {
	for _, target := range []int64{20_000, 60_000} {
		cfg := small()
		cfg.Customers, cfg.Lines = 0, target
		o := generate(t, cfg)
		if r := float64(o.stats.Lines) / float64(target); r < 0.9 || r > 1.1 {
			t.Errorf("target %d lines: got %d (%d customers)", target, o.stats.Lines, o.cfg.Customers)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no size", func(c *Config) { c.Customers, c.Lines = 0, 0 }, "customers"},
		{"too few items", func(c *Config) { c.Items = 3 }, "items"},
		{"end before start", func(c *Config) { c.End = c.Start.Add(-time.Hour) }, "end"},
		{"bad r", func(c *Config) { c.R = 0 }, "Gamma"},
		{"bad b", func(c *Config) { c.B = math.NaN() }, "Beta"},
		{"seasonality 1", func(c *Config) { c.Seasonality = 1 }, "seasonality"},
		{"guest share 1", func(c *Config) { c.GuestShare = 1 }, "guest"},
		{"negative return rate", func(c *Config) { c.ReturnRate = -0.1 }, "return"},
		{"lines per order", func(c *Config) { c.LinesPerOrder = 0.5 }, "lines per order"},
	}
	for _, tt := range tests {
		cfg := small()
		tt.change(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.name, err, tt.want)
		}
		if _, _, gerr := Generate(context.Background(), cfg, Output{Orders: &bytes.Buffer{}}); gerr == nil {
			t.Errorf("%s: Generate accepted the config", tt.name)
		}
	}
	if cfg := small(); cfg.Validate() != nil {
		t.Errorf("small config: %v", cfg.Validate())
	}
}
