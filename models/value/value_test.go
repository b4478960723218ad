package value_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/features/synth"
	"github.com/patron-crm/patron/models/registry"
	"github.com/patron-crm/patron/models/segments"
	"github.com/patron-crm/patron/models/value"
)

// open fits the value model on a generated history and serves it from a
// real bundle.
func open(t *testing.T) (*value.Fitted, *value.Values, *features.Dataset, time.Time) {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories, cfg.Seed = 3000, 100, 5, 3
	ds, err := synth.Dataset(context.Background(), cfg, features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f, err := value.Fit(ds, asOf, value.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := registry.Open(t.TempDir(), registry.Options{})
	b, _ := reg.NewBuilder(registry.Manifest{})
	if err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(true); err != nil {
		t.Fatal(err)
	}
	bundle, err := reg.OpenBundle(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bundle.Close() })
	v, err := value.Open(bundle, 1)
	if err != nil {
		t.Fatal(err)
	}
	return f, v, ds, asOf
}

func TestFitAndServe(t *testing.T) {
	f, v, ds, _ := open(t)
	r := f.Report
	if (r.Kind != "bgnbd" && r.Kind != "mbgnbd") || r.Selection == nil || len(r.Selection.Candidates) != 3 {
		t.Fatalf("purchase model not chosen on validation: kind %q, selection %+v", r.Kind, r.Selection)
	}
	if r.Customers < 2000 || r.RepeatBuyers == 0 || r.TierCounts["platinum"] != int(math.Round(0.01*float64(r.Customers))) {
		t.Fatalf("report %+v", r)
	}
	// The top 5% hold far more than 5% of predicted value.
	if r.TopShare < 0.15 {
		t.Fatalf("top 5%% hold %.2f of CLV", r.TopShare)
	}
	id := ds.Customers.Name(0)
	val, err := v.Get(id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if val.HorizonDays != 365 || val.CLV < 0 || val.PAlive <= 0 || val.PAlive > 1 || val.POrderInHorizon > val.PAlive+1e-12 || val.Tier == "" || val.Segment == "" {
		t.Fatalf("value %+v", val)
	}
	// Another horizon is recomputed: longer horizons expect more orders and more value.
	long, err := v.Get(id, 730)
	if err != nil {
		t.Fatal(err)
	}
	if long.ExpectedOrders < val.ExpectedOrders || long.CLV < val.CLV || long.HorizonDays != 730 {
		t.Fatalf("730 days %+v vs 365 days %+v", long, val)
	}
	// Recomputing at the default horizon gives the stored numbers.
	same, _ := v.Get(id, 365)
	if math.Abs(same.CLV-val.CLV) > 1e-9 {
		t.Fatalf("recomputed %v, stored %v", same.CLV, val.CLV)
	}
	if _, err := v.Get("nobody", 0); !errors.Is(err, value.ErrUnknownCustomer) {
		t.Fatalf("unknown: %v", err)
	}
	for _, h := range []int{-1, value.MaxHorizonDays + 1} {
		if _, err := v.Get(id, h); !errors.Is(err, value.ErrBadRequest) {
			t.Fatalf("horizon %d: %v", h, err)
		}
	}
	vals, missing, err := v.BatchGet([]string{id, "nobody", ds.Customers.Name(1)}, 0)
	if err != nil || len(vals) != 2 || len(missing) != 1 || missing[0] != "nobody" || vals[0].CustomerID != id {
		t.Fatalf("batch: %d values, missing %v, %v", len(vals), missing, err)
	}
	if _, _, err := v.BatchGet(make([]string, value.MaxBatch+1), 0); !errors.Is(err, value.ErrBadRequest) {
		t.Fatalf("oversized batch: %v", err)
	}
}

// TestListPaging: pages cover every matching customer exactly once, in
// order, with the total; bad tokens and filters are errors.
func TestListPaging(t *testing.T) {
	f, v, _, _ := open(t)
	for _, tc := range []value.ListRequest{
		{PageSize: 500},
		{Tier: "gold", PageSize: 7},
		{Segment: segments.Champions, OrderBy: value.OrderByHistoric, PageSize: 50},
		{Tier: "silver", Segment: segments.AtRisk, OrderBy: value.OrderByPAlive, PageSize: 3},
	} {
		seen := map[string]bool{}
		var prev float64 = math.Inf(1)
		req := tc
		total := -1
		for pages := 0; ; pages++ {
			pg, err := v.List(req)
			if err != nil {
				t.Fatal(err)
			}
			total = pg.TotalSize
			for _, c := range pg.Customers {
				if seen[c.CustomerID] {
					t.Fatalf("%+v: %s twice", tc, c.CustomerID)
				}
				seen[c.CustomerID] = true
				if tc.Tier != "" && c.Tier != tc.Tier || tc.Segment != "" && c.Segment != tc.Segment {
					t.Fatalf("%+v: %s is %s/%s", tc, c.CustomerID, c.Tier, c.Segment)
				}
				key := c.CLV
				if tc.OrderBy == value.OrderByHistoric {
					key = c.HistoricValue
				} else if tc.OrderBy == value.OrderByPAlive {
					key = c.PAlive
				}
				if key > prev+1e-12 {
					t.Fatalf("%+v: not descending", tc)
				}
				prev = key
			}
			if pg.NextPageToken == "" {
				break
			}
			req.PageToken = pg.NextPageToken
		}
		if len(seen) != total {
			t.Fatalf("%+v: listed %d, total %d", tc, len(seen), total)
		}
		if tc.Tier == "" && tc.Segment == "" && total != f.Report.Customers {
			t.Fatalf("unfiltered total %d, customers %d", total, f.Report.Customers)
		}
	}
	pg, _ := v.List(value.ListRequest{Tier: "gold", PageSize: 2})
	for _, bad := range []value.ListRequest{
		{Tier: "diamond"},
		{Segment: "Sleepers"},
		{OrderBy: "name"},
		{PageSize: value.MaxPageSize + 1},
		{PageSize: -1},
		{PageToken: "%%%"},
		{Tier: "silver", PageToken: pg.NextPageToken}, // a token of another listing
	} {
		if _, err := v.List(bad); !errors.Is(err, value.ErrBadRequest) || !strings.Contains(err.Error(), "") {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
}
