package serving

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/patron-crm/patron/features/synth"
	"github.com/patron-crm/patron/models/registry"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
	"github.com/patron-crm/patron/training"
)

// valueAsOf is the training date of the customer-value test bundles: the
// end of the synthetic shop's two years.
var valueAsOf = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// vipID is a hand-checkable customer added to the synthetic shop, with
// characters that need escaping in a URL path:
//
//	v1 2025-03-01: 2 x 10.00             = 20.00
//	v2 2025-06-01 09:00: 1 x 5.00        =  5.00 \ same day: one transaction
//	v3 2025-06-01 15:00: 1 x 2.50        =  2.50 /
//	Cv4 2025-07-01: return 1 x 5.00      = -5.00
//	v5 2025-11-15 10:00: 3 x 4.00        = 12.00
//
// 4 orders, 2 repeat transactions, historic value 20 + 5 + 2.5 + 12 - 5 = 34.50.
const vipID = "vip/1 ü?"

const vipOrders = `v1,vip/1 ü?,h-lamp,2,10.00,2025-03-01 10:00:00,Hand Lamp,Hand,France
v2,vip/1 ü?,h-cup,1,5.00,2025-06-01 09:00:00,Hand Cup,Hand,France
v3,vip/1 ü?,h-pen,1,2.50,2025-06-01 15:00:00,Hand Pen,Hand,France
Cv4,vip/1 ü?,h-cup,-1,5.00,2025-07-01 12:00:00,Hand Cup,Hand,France
v5,vip/1 ü?,h-mug,3,4.00,2025-11-15 10:00:00,Hand Mug,Hand,France
`

// vipLast is the time of vipID's last order.
var vipLast = time.Date(2025, 11, 15, 10, 0, 0, 0, time.UTC)

// valueShopCSV is a synthetic shop of 300 customers (BG/NBD with the
// default parameters, so many repeat buyers) plus vipOrders.
func valueShopCSV(t testing.TB) string {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories, cfg.Seed = 300, 40, 8, 7
	var b bytes.Buffer
	if _, _, err := synth.Generate(context.Background(), cfg, synth.Output{Orders: &b}); err != nil {
		t.Fatal(err)
	}
	if !cfg.End.Equal(valueAsOf) {
		t.Fatalf("synthetic shop ends %s, want %s", cfg.End, valueAsOf)
	}
	return b.String() + vipOrders
}

// trainAt publishes and activates a bundle of orders trained at asOf.
func trainAt(t testing.TB, reg *registry.Registry, orders string, at time.Time) (registry.Manifest, *training.Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "orders.csv")
	if err := os.WriteFile(path, []byte(orders), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := training.Train(context.Background(), reg, training.Config{Orders: path, AsOf: at, Seed: 1, CodeVersion: "test"})
	if err != nil {
		t.Fatalf("train: %v", err)
	}
	return res.Manifest, &res
}

// valueServer trains the value shop and serves it.
func valueServer(t *testing.T) (*testServer, int64) {
	t.Helper()
	reg := openRegistry(t)
	m, res := trainAt(t, reg, valueShopCSV(t), valueAsOf)
	if res.ValueSkipped != "" || res.Value == nil || res.Value.RepeatBuyers < 20 {
		t.Fatalf("training fitted no usable customer-value model: skipped %q, report %+v", res.ValueSkipped, res.Value)
	}
	ts := start(t, reg, Options{})
	ts.waitVersion(t, m.Version)
	return ts, int64(m.Version)
}

// tierNames and segmentNames are the names the API documents.
var (
	tierNames    = []string{"platinum", "gold", "silver", "bronze"}
	segmentNames = []string{"Champions", "Loyal", "Potential Loyalists", "New", "Promising", "Need Attention",
		"About to Sleep", "At Risk", "Can't Lose Them", "Hibernating"}
)

// checkValue checks the invariants of one customer's value.
func checkValue(t *testing.T, what string, v *patronv1.CustomerValue, version int64, horizon int32) {
	t.Helper()
	ok := v.CustomerId != "" && v.HorizonDays == horizon &&
		0 <= v.POrderInHorizon && v.POrderInHorizon <= v.PAlive+1e-12 && v.PAlive <= 1 &&
		v.Clv >= 0 && v.ExpectedOrders >= 0 && v.ExpectedOrderValue >= 0 && v.HistoricValue >= 0 &&
		v.OrderCount >= 1 && v.DaysSinceLastOrder >= 0 &&
		slices.Contains(tierNames, v.Tier) && slices.Contains(segmentNames, v.Segment) &&
		1 <= v.RecencyScore && v.RecencyScore <= 5 && 1 <= v.FrequencyScore && v.FrequencyScore <= 5 &&
		v.ModelVersion == version && v.AsOfTime.AsTime().Equal(valueAsOf)
	for _, x := range []float64{v.Clv, v.ExpectedOrders, v.PAlive, v.POrderInHorizon, v.ExpectedOrderValue, v.HistoricValue, v.DaysSinceLastOrder} {
		ok = ok && !math.IsNaN(x) && !math.IsInf(x, 0)
	}
	if next := v.GetExpectedNextOrderTime(); next != nil && next.AsTime().Before(valueAsOf.AddDate(0, 0, -1)) {
		ok = false
	}
	if !ok {
		t.Errorf("%s: implausible value (horizon %d, version %d): %v", what, horizon, version, v)
	}
}

// restInto GETs or POSTs a REST path, fails the test unless 200, and
// decodes the body into msg.
func (ts *testServer) restInto(t *testing.T, method, path, body string, msg proto.Message) {
	t.Helper()
	code, b := ts.do(t, method, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	if err := protojson.Unmarshal(b, msg); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, b)
	}
}

// valuePath is the REST path of a customer's value.
func valuePath(id string, query string) string {
	p := "/v1/customers/" + url.PathEscape(id) + "/value"
	if query != "" {
		p += "?" + query
	}
	return p
}

// listAll pages through a gRPC listing with page size size and returns
// every customer, checking total_size and the model version on each page.
func listAll(t *testing.T, ts *testServer, req *patronv1.ListCustomersRequest, version int64) []*patronv1.CustomerValue {
	t.Helper()
	ctx := context.Background()
	var out []*patronv1.CustomerValue
	total := int64(-1)
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("ListCustomers %v: no end after %d pages", req, pages)
		}
		r, err := ts.customers().ListCustomers(ctx, req)
		if err != nil {
			t.Fatalf("ListCustomers %v: %v", req, err)
		}
		if total >= 0 && r.TotalSize != total {
			t.Errorf("ListCustomers %v: total_size changed from %d to %d", req, total, r.TotalSize)
		}
		total = r.TotalSize
		if r.ModelVersion != version {
			t.Errorf("ListCustomers %v: model_version %d, want %d", req, r.ModelVersion, version)
		}
		if len(r.Customers) > int(max(req.PageSize, 0)) && req.PageSize > 0 {
			t.Errorf("ListCustomers %v: %d customers on a page of %d", req, len(r.Customers), req.PageSize)
		}
		out = append(out, r.Customers...)
		if r.NextPageToken == "" {
			break
		}
		req = proto.Clone(req).(*patronv1.ListCustomersRequest)
		req.PageToken = r.NextPageToken
	}
	if int64(len(out)) != total {
		t.Errorf("ListCustomers %v: visited %d customers, total_size %d", req, len(out), total)
	}
	return out
}

func customerIDs(vs []*patronv1.CustomerValue) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.CustomerId
	}
	return out
}

// TestCustomerValueEndpoints asks every value endpoint over gRPC and REST on
// a bundle of a synthetic shop with a hand-checked customer.
func TestCustomerValueEndpoints(t *testing.T) {
	ts, version := valueServer(t)
	ctx := context.Background()
	cs := ts.customers()
	h := func(n int32) *int32 { return &n }

	// Every customer, by clv (the default order), in pages of 3.
	all := listAll(t, ts, &patronv1.ListCustomersRequest{PageSize: 3}, version)
	if len(all) < 250 {
		t.Fatalf("listing has %d customers, want about 300", len(all))
	}
	seen := map[string]bool{}
	for _, v := range all {
		if seen[v.CustomerId] {
			t.Errorf("ListCustomers page_size 3: customer %q listed twice", v.CustomerId)
		}
		seen[v.CustomerId] = true
		checkValue(t, "ListCustomers "+v.CustomerId, v, version, 365)
	}
	if !seen[vipID] {
		t.Errorf("ListCustomers does not list %q", vipID)
	}
	one := all[len(all)/2].CustomerId // an ordinary synthetic customer

	t.Run("get", func(t *testing.T) {
		v, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: vipID})
		if err != nil {
			t.Fatalf("GetCustomerValue %q: %v", vipID, err)
		}
		checkValue(t, "GetCustomerValue "+vipID, v, version, 365)
		if v.CustomerId != vipID || !near(v.HistoricValue, 34.5) || v.OrderCount != 4 ||
			!near(v.DaysSinceLastOrder, valueAsOf.Sub(vipLast).Hours()/24) {
			t.Errorf("GetCustomerValue %q = %v; want historic value 34.50 (spend net of returns), 4 orders, %.4f days since the last",
				vipID, v, valueAsOf.Sub(vipLast).Hours()/24)
		}
		// A recent repeat buyer: clearly alive, and expected to buy again.
		if v.PAlive < 0.5 || v.ExpectedOrders <= 0 || v.Clv <= 0 || v.ExpectedOrderValue <= 0 || v.GetExpectedNextOrderTime() == nil {
			t.Errorf("GetCustomerValue %q = %v; want a likely-alive customer with positive expected orders, CLV and a next order date", vipID, v)
		}
		// The listing and the single read agree.
		for _, lv := range all {
			if lv.CustomerId == vipID && !proto.Equal(lv, v) {
				t.Errorf("listed %v, GetCustomerValue gave %v", lv, v)
			}
		}

		// Horizon: unset, 0 and 365 are the default; longer horizons expect more.
		for _, hd := range []*int32{h(0), h(365)} {
			w, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: vipID, HorizonDays: hd})
			if err != nil || !proto.Equal(w, v) {
				t.Errorf("GetCustomerValue horizon_days %d = %v, %v; want the default answer %v", *hd, w, err, v)
			}
		}
		short, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: vipID, HorizonDays: h(30)})
		if err != nil {
			t.Fatal(err)
		}
		long, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: vipID, HorizonDays: h(730)})
		if err != nil {
			t.Fatal(err)
		}
		checkValue(t, "horizon 30", short, version, 30)
		checkValue(t, "horizon 730", long, version, 730)
		if !(short.ExpectedOrders < v.ExpectedOrders && v.ExpectedOrders < long.ExpectedOrders) ||
			!(short.Clv < v.Clv && v.Clv < long.Clv) ||
			!(short.POrderInHorizon < v.POrderInHorizon && v.POrderInHorizon < long.POrderInHorizon) {
			t.Errorf("horizons 30 / 365 / 730: expected orders %v / %v / %v, CLV %v / %v / %v, P(order) %v / %v / %v; want each increasing",
				short.ExpectedOrders, v.ExpectedOrders, long.ExpectedOrders, short.Clv, v.Clv, long.Clv,
				short.POrderInHorizon, v.POrderInHorizon, long.POrderInHorizon)
		}
		// What does not depend on the horizon stays put.
		if short.PAlive != v.PAlive || short.HistoricValue != v.HistoricValue || short.Tier != v.Tier || short.Segment != v.Segment ||
			short.ExpectedOrderValue != v.ExpectedOrderValue || !proto.Equal(short.ExpectedNextOrderTime, v.ExpectedNextOrderTime) {
			t.Errorf("horizon 30 changed horizon-free fields: %v vs %v", short, v)
		}
		// A horizon one day off the default is recomputed, and lands next to the stored one.
		near364, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: vipID, HorizonDays: h(364)})
		if err != nil || !(near364.ExpectedOrders < v.ExpectedOrders) || v.ExpectedOrders-near364.ExpectedOrders > 0.01*v.ExpectedOrders {
			t.Errorf("horizon 364: %v, %v; want expected orders just under %v (365 days)", near364, err, v.ExpectedOrders)
		}

		// REST gives the same answers.
		for _, c := range []struct {
			query string
			grpc  *patronv1.CustomerValue
		}{{"", v}, {"horizon_days=30", short}, {"horizonDays=730", long}} {
			var r patronv1.CustomerValue
			ts.restInto(t, "GET", valuePath(vipID, c.query), "", &r)
			if !proto.Equal(&r, c.grpc) {
				t.Errorf("REST value ?%s = %v, gRPC gave %v", c.query, &r, c.grpc)
			}
		}
		_, body := ts.do(t, "GET", valuePath(vipID, ""), "")
		for _, f := range []string{`"customerId":"vip/1 ü?"`, `"pAlive":`, `"historicValue":34.5`, `"pOrderInHorizon":`, `"horizonDays":365`} {
			if !strings.Contains(string(body), f) {
				t.Errorf("REST value JSON lacks %s: %s", f, body)
			}
		}
	})

	t.Run("batch", func(t *testing.T) {
		ids := []string{one, "nobody", vipID, all[0].CustomerId, "nobody else"}
		r, err := cs.BatchGetCustomerValues(ctx, &patronv1.BatchGetCustomerValuesRequest{CustomerIds: ids, HorizonDays: h(90)})
		if err != nil {
			t.Fatalf("BatchGetCustomerValues: %v", err)
		}
		if got := customerIDs(r.Values); !slices.Equal(got, []string{one, vipID, all[0].CustomerId}) ||
			!slices.Equal(r.NotFoundCustomerIds, []string{"nobody", "nobody else"}) || r.ModelVersion != version {
			t.Errorf("BatchGetCustomerValues %q = values of %q, not found %q, version %d; want request order and the unknown ids listed",
				ids, got, r.NotFoundCustomerIds, r.ModelVersion)
		}
		for _, v := range r.Values {
			w, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: v.CustomerId, HorizonDays: h(90)})
			if err != nil || !proto.Equal(v, w) {
				t.Errorf("batch gave %v, GetCustomerValue %v, %v", v, w, err)
			}
		}
		// Only unknown ids: an empty answer, not an error.
		if r, err := cs.BatchGetCustomerValues(ctx, &patronv1.BatchGetCustomerValuesRequest{CustomerIds: []string{"nobody"}}); err != nil ||
			len(r.Values) != 0 || !slices.Equal(r.NotFoundCustomerIds, []string{"nobody"}) {
			t.Errorf("batch of one unknown id: %v, %v", r, err)
		}
		// The most allowed: 1,000 ids (as documented).
		big := make([]string, 1000)
		for i := range big {
			big[i] = all[i%len(all)].CustomerId
		}
		if r, err := cs.BatchGetCustomerValues(ctx, &patronv1.BatchGetCustomerValuesRequest{CustomerIds: big}); err != nil || len(r.Values) != len(big) {
			t.Errorf("batch of %d ids: %d values, %v", len(big), len(r.GetValues()), err)
		}

		// REST gives the same answer.
		body, _ := json.Marshal(map[string]any{"customerIds": ids, "horizonDays": 90})
		var rr patronv1.BatchGetCustomerValuesResponse
		ts.restInto(t, "POST", "/v1/customers:batchGetValues", string(body), &rr)
		if !proto.Equal(&rr, r) {
			t.Errorf("REST batch = %v, gRPC gave %v", &rr, r)
		}
	})

	t.Run("list", func(t *testing.T) {
		// Filters: each tier and segment lists exactly its customers; together they partition the list.
		byTier, bySeg := map[string][]string{}, map[string][]string{}
		for _, v := range all {
			byTier[v.Tier] = append(byTier[v.Tier], v.CustomerId)
			bySeg[v.Segment] = append(bySeg[v.Segment], v.CustomerId)
		}
		if len(byTier["platinum"]) == 0 || len(byTier["gold"]) == 0 || len(byTier["silver"]) == 0 || len(byTier["bronze"]) == 0 {
			t.Errorf("tiers of %d customers: %v; want every tier used", len(all), mapLens(byTier))
		}
		// The top 1% and next 4% by CLV, as documented.
		if n := len(byTier["platinum"]) + len(byTier["gold"]); math.Abs(float64(n)-0.05*float64(len(all))) > 2 {
			t.Errorf("platinum + gold = %d customers of %d, want about 5%%", n, len(all))
		}
		if len(bySeg) < 5 {
			t.Errorf("segments used: %v; want most of them", mapLens(bySeg))
		}
		for _, tier := range tierNames {
			got := customerIDs(listAll(t, ts, &patronv1.ListCustomersRequest{Tier: tier, PageSize: 7}, version))
			if !slices.Equal(got, byTier[tier]) {
				t.Errorf("tier %s: listed %d customers, want %d in clv order", tier, len(got), len(byTier[tier]))
			}
		}
		for _, seg := range segmentNames {
			got := customerIDs(listAll(t, ts, &patronv1.ListCustomersRequest{Segment: seg, PageSize: 1000}, version))
			if !slices.Equal(got, bySeg[seg]) {
				t.Errorf("segment %s: listed %d customers, want %d in clv order", seg, len(got), len(bySeg[seg]))
			}
		}
		vip := all[slices.IndexFunc(all, func(v *patronv1.CustomerValue) bool { return v.CustomerId == vipID })]
		// Both filters at once (names are case-insensitive).
		var both []string
		for _, w := range all {
			if w.Tier == vip.Tier && w.Segment == vip.Segment {
				both = append(both, w.CustomerId)
			}
		}
		got := customerIDs(listAll(t, ts, &patronv1.ListCustomersRequest{Tier: strings.ToUpper(vip.Tier), Segment: strings.ToLower(vip.Segment), PageSize: 2}, version))
		if !slices.Equal(got, both) || !slices.Contains(got, vipID) {
			t.Errorf("tier %s segment %s: listed %q, want %q", strings.ToUpper(vip.Tier), strings.ToLower(vip.Segment), got, both)
		}

		// Each ordering is descending (ties by customer id) and pages the same as one big page.
		key := map[string]func(*patronv1.CustomerValue) float64{
			"clv":                   func(v *patronv1.CustomerValue) float64 { return v.Clv },
			"historic_value":        func(v *patronv1.CustomerValue) float64 { return v.HistoricValue },
			"p_alive":               func(v *patronv1.CustomerValue) float64 { return v.PAlive },
			"expected_orders":       func(v *patronv1.CustomerValue) float64 { return v.ExpectedOrders },
			"days_since_last_order": func(v *patronv1.CustomerValue) float64 { return v.DaysSinceLastOrder },
		}
		for _, by := range []string{"clv", "historic_value", "p_alive", "expected_orders", "days_since_last_order"} {
			list := listAll(t, ts, &patronv1.ListCustomersRequest{OrderBy: by, PageSize: 1000}, version)
			if len(list) != len(all) {
				t.Errorf("order_by %s: %d customers, want %d", by, len(list), len(all))
			}
			k := key[by]
			distinct := 0
			for i := 1; i < len(list); i++ {
				a, b := list[i-1], list[i]
				// clv and historic_value are served rounded to cents, so
				// only the unrounded fields show ties by id.
				rounded := by == "clv" || by == "historic_value"
				if k(a) < k(b) || (!rounded && k(a) == k(b) && a.CustomerId > b.CustomerId) {
					t.Errorf("order_by %s: %q (%v) before %q (%v)", by, a.CustomerId, k(a), b.CustomerId, k(b))
					break
				}
				if k(a) != k(b) {
					distinct++
				}
			}
			if distinct < 10 {
				t.Errorf("order_by %s: only %d distinct keys in %d customers", by, distinct, len(list))
			}
			paged := listAll(t, ts, &patronv1.ListCustomersRequest{OrderBy: by, PageSize: 3}, version)
			if !slices.Equal(customerIDs(paged), customerIDs(list)) {
				t.Errorf("order_by %s: pages of 3 list another order than one page", by)
			}
		}
		if got := customerIDs(listAll(t, ts, &patronv1.ListCustomersRequest{OrderBy: "clv", PageSize: 1000}, version)); !slices.Equal(got, customerIDs(all)) {
			t.Errorf("order_by clv differs from the default order")
		}

		// The default page size is 100.
		r, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{})
		if err != nil || len(r.Customers) != 100 || r.NextPageToken == "" || r.TotalSize != int64(len(all)) {
			t.Errorf("ListCustomers with defaults: %d customers, next %q, total %d, %v; want 100, a token, %d",
				len(r.GetCustomers()), r.GetNextPageToken(), r.GetTotalSize(), err, len(all))
		}

		// REST gives the same pages, following the same tokens.
		req := &patronv1.ListCustomersRequest{Tier: "silver", OrderBy: "p_alive", PageSize: 4}
		for page := 0; page < 3; page++ {
			g, err := cs.ListCustomers(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			q := url.Values{"tier": {req.Tier}, "order_by": {req.OrderBy}, "page_size": {fmt.Sprint(req.PageSize)}}
			if req.PageToken != "" {
				q.Set("page_token", req.PageToken)
			}
			var rr patronv1.ListCustomersResponse
			ts.restInto(t, "GET", "/v1/customers?"+q.Encode(), "", &rr)
			if !proto.Equal(&rr, g) {
				t.Errorf("REST list page %d = %v, gRPC gave %v", page, &rr, g)
			}
			if g.NextPageToken == "" {
				break
			}
			req.PageToken = g.NextPageToken
		}
		var seg patronv1.ListCustomersResponse
		ts.restInto(t, "GET", "/v1/customers?segment="+url.QueryEscape(vip.Segment)+"&pageSize=1000", "", &seg)
		if int(seg.TotalSize) != len(bySeg[vip.Segment]) || !slices.Equal(customerIDs(seg.Customers), bySeg[vip.Segment]) {
			t.Errorf("REST segment %q: %d customers, total %d; want %d", vip.Segment, len(seg.Customers), seg.TotalSize, len(bySeg[vip.Segment]))
		}
	})
}

func mapLens(m map[string][]string) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}

// TestCustomerValueBadRequests checks each invalid value request over gRPC
// and REST: status, HTTP code and a message naming the problem.
func TestCustomerValueBadRequests(t *testing.T) {
	ts, _ := valueServer(t)
	ctx := context.Background()
	cs := ts.customers()
	h := func(n int32) *int32 { return &n }
	long := strings.Repeat("x", MaxIDBytes+1)
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("c", i)
		}
		return out
	}
	batchBody := func(ids []string, extra string) string {
		b, _ := json.Marshal(ids)
		return `{"customerIds":` + string(b) + extra + `}`
	}

	// A valid token of one listing, to be used with another.
	first, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{Tier: "bronze", PageSize: 3})
	if err != nil || first.NextPageToken == "" {
		t.Fatalf("ListCustomers bronze: %v, %v; want a next page", first, err)
	}
	tok := first.NextPageToken
	forged := base64.RawURLEncoding.EncodeToString([]byte("not a token"))

	type call = func() error
	for _, c := range []struct {
		name     string
		call     call   // gRPC; nil when gRPC cannot express it
		method   string // REST equivalent; "" when REST cannot express it
		path     string
		body     string
		code     codes.Code
		httpCode int
		msg      string
	}{
		{"unknown customer", func() error {
			_, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: "no/body"})
			return err
		}, "GET", valuePath("no/body", ""), "", codes.NotFound, 404, `customer "no/body" not found in model bundle v1`},
		{"empty id", func() error {
			_, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{})
			return err
		}, "", "", "", codes.InvalidArgument, 400, "customer_id is required"},
		{"long id", func() error {
			_, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: long})
			return err
		}, "GET", valuePath(long, ""), "", codes.InvalidArgument, 400, "at most 256 bytes"},
		{"id not UTF-8", nil, "GET", "/v1/customers/%FF/value", "", codes.InvalidArgument, 400, "not valid UTF-8"},
		{"horizon negative", func() error {
			_, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: vipID, HorizonDays: h(-1)})
			return err
		}, "GET", valuePath(vipID, "horizon_days=-1"), "", codes.InvalidArgument, 400, "horizon_days -1: want 1 to 1825"},
		{"horizon too long", func() error {
			_, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: vipID, HorizonDays: h(1826)})
			return err
		}, "GET", valuePath(vipID, "horizon_days=1826"), "", codes.InvalidArgument, 400, "horizon_days 1826"},
		{"horizon not a number", nil, "GET", valuePath(vipID, "horizon_days=soon"), "", codes.InvalidArgument, 400, "horizon_days"},
		// The horizon is checked before the customer is looked up.
		{"horizon bad, customer unknown", func() error {
			_, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: "nobody", HorizonDays: h(0x7fffffff)})
			return err
		}, "", "", "", codes.InvalidArgument, 400, "horizon_days 2147483647"},

		{"batch empty", func() error {
			_, err := cs.BatchGetCustomerValues(ctx, &patronv1.BatchGetCustomerValuesRequest{})
			return err
		}, "POST", "/v1/customers:batchGetValues", `{}`, codes.InvalidArgument, 400, "customer_ids has 0 ids; send 1 to 1000"},
		{"batch too big", func() error {
			_, err := cs.BatchGetCustomerValues(ctx, &patronv1.BatchGetCustomerValuesRequest{CustomerIds: ids(1001)})
			return err
		}, "POST", "/v1/customers:batchGetValues", batchBody(ids(1001), ""), codes.InvalidArgument, 400, "customer_ids has 1001 ids"},
		{"batch empty id", func() error {
			_, err := cs.BatchGetCustomerValues(ctx, &patronv1.BatchGetCustomerValuesRequest{CustomerIds: []string{vipID, ""}})
			return err
		}, "POST", "/v1/customers:batchGetValues", batchBody([]string{vipID, ""}, ""), codes.InvalidArgument, 400, "customer_ids[1] is empty"},
		{"batch long id", func() error {
			_, err := cs.BatchGetCustomerValues(ctx, &patronv1.BatchGetCustomerValuesRequest{CustomerIds: []string{vipID, "nobody", long}})
			return err
		}, "POST", "/v1/customers:batchGetValues", batchBody([]string{vipID, "nobody", long}, ""), codes.InvalidArgument, 400, "customer_ids[2] is 257 bytes long"},
		{"batch bad horizon", func() error {
			_, err := cs.BatchGetCustomerValues(ctx, &patronv1.BatchGetCustomerValuesRequest{CustomerIds: []string{vipID}, HorizonDays: h(1826)})
			return err
		}, "POST", "/v1/customers:batchGetValues", batchBody([]string{vipID}, `,"horizonDays":1826`), codes.InvalidArgument, 400, "horizon_days 1826"},
		{"batch not JSON", nil, "POST", "/v1/customers:batchGetValues", `{"customerIds":`, codes.InvalidArgument, 400, ""},

		{"list unknown tier", func() error {
			_, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{Tier: "diamond"})
			return err
		}, "GET", "/v1/customers?tier=diamond", "", codes.InvalidArgument, 400, `unknown tier "diamond" (one of: platinum, gold, silver, bronze)`},
		{"list unknown segment", func() error {
			_, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{Segment: "Sleepy"})
			return err
		}, "GET", "/v1/customers?segment=Sleepy", "", codes.InvalidArgument, 400, `unknown segment "Sleepy" (one of: Champions,`},
		{"list unknown order", func() error {
			_, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{OrderBy: "name"})
			return err
		}, "GET", "/v1/customers?order_by=name", "", codes.InvalidArgument, 400, `order_by "name": one of clv, historic_value, p_alive, expected_orders, days_since_last_order`},
		{"list page size negative", func() error {
			_, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{PageSize: -1})
			return err
		}, "GET", "/v1/customers?page_size=-1", "", codes.InvalidArgument, 400, "page_size -1: want 1 to 1000"},
		{"list page size too big", func() error {
			_, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{PageSize: 1001})
			return err
		}, "GET", "/v1/customers?page_size=1001", "", codes.InvalidArgument, 400, "page_size 1001"},
		{"list token not base64", func() error {
			_, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{PageToken: "!!"})
			return err
		}, "GET", "/v1/customers?page_token=!!", "", codes.InvalidArgument, 400, "page_token is not one this server issued"},
		{"list token forged", func() error {
			_, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{PageToken: forged})
			return err
		}, "GET", "/v1/customers?page_token=" + forged, "", codes.InvalidArgument, 400, "page_token"},
		{"list token of another tier", func() error {
			_, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{Tier: "silver", PageSize: 3, PageToken: tok})
			return err
		}, "GET", "/v1/customers?tier=silver&page_size=3&page_token=" + tok, "", codes.InvalidArgument, 400, "page_token belongs to another listing"},
		{"list token of another order", func() error {
			_, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{Tier: "bronze", OrderBy: "p_alive", PageSize: 3, PageToken: tok})
			return err
		}, "GET", "/v1/customers?tier=bronze&order_by=p_alive&page_token=" + tok, "", codes.InvalidArgument, 400, "page_token belongs to another listing"},
		{"list token without its filter", func() error {
			_, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{PageToken: tok})
			return err
		}, "GET", "/v1/customers?page_token=" + tok, "", codes.InvalidArgument, 400, "page_token belongs to another listing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.call != nil {
				checkGRPCError(t, c.call(), c.code, c.msg)
			}
			if c.method != "" {
				code, body := ts.do(t, c.method, c.path, c.body)
				checkRESTError(t, c.method+" "+c.path, code, body, c.httpCode, c.code, c.msg)
			}
		})
	}

	// The token still works with its own listing (a page size may change).
	if r, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{Tier: "bronze", PageSize: 5, PageToken: tok}); err != nil || len(r.Customers) != 5 {
		t.Errorf("ListCustomers bronze with its token: %v, %v", r, err)
	}
}

// noRepeatOrders: 30 customers, each with one order, so no BG/NBD fit.
func noRepeatOrders() string {
	var b strings.Builder
	b.WriteString("order_id,customer_id,item_id,quantity,unit_price,ordered_at,item_name,category,country\n")
	for i := range 30 {
		item := fmt.Sprint("i", i%5)
		fmt.Fprintf(&b, "o%d,c%d,%s,1,%d.50,2024-%02d-%02d 10:00:00,Item %d,misc,France\n", i, i, item, 1+i%7, 1+i%3, 1+i, i%5)
	}
	return b.String()
}

// TestCustomerValueWithoutModel: a bundle whose history cannot support a
// value model (nobody bought twice) serves everything else, and the value
// endpoints say FAILED_PRECONDITION (400 through the gateway) and why.
func TestCustomerValueWithoutModel(t *testing.T) {
	reg := openRegistry(t)
	m, res := trainAt(t, reg, noRepeatOrders(), asOf)
	if res.ValueSkipped == "" || !strings.Contains(res.ValueSkipped, "repeat") {
		t.Fatalf("training on one-order customers: value skipped %q, want a reason naming repeat buyers", res.ValueSkipped)
	}
	ts := start(t, reg, Options{})
	ts.waitVersion(t, m.Version)
	ctx := context.Background()
	cs := ts.customers()

	// Other endpoints keep working.
	if c, err := cs.GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c3"}); err != nil || c.OrderCount != 1 {
		t.Errorf("GetCustomer c3 without a value model: %v, %v", c, err)
	}
	if r, err := ts.recs().ListPopularItems(ctx, &patronv1.ListPopularItemsRequest{}); err != nil || len(r.Items) == 0 {
		t.Errorf("ListPopularItems without a value model: %v, %v", r, err)
	}
	if code, body := ts.get(t, "/v1/customers/c3"); code != http.StatusOK {
		t.Errorf("GET /v1/customers/c3 without a value model: %d %s", code, body)
	}

	// The message names the missing model and training's reason for it.
	const msg = "has no customer-value model: training could not fit one: btyd: BG/NBD fit: 30 customers, none with a repeat transaction"
	for _, c := range []struct {
		name         string
		call         func() error
		method, path string
		body         string
	}{
		{"get", func() error {
			_, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: "c3"})
			return err
		}, "GET", "/v1/customers/c3/value", ""},
		{"batch", func() error {
			_, err := cs.BatchGetCustomerValues(ctx, &patronv1.BatchGetCustomerValuesRequest{CustomerIds: []string{"c3"}})
			return err
		}, "POST", "/v1/customers:batchGetValues", `{"customerIds":["c3"]}`},
		{"list", func() error {
			_, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{})
			return err
		}, "GET", "/v1/customers", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkGRPCError(t, c.call(), codes.FailedPrecondition, msg)
			code, body := ts.do(t, c.method, c.path, c.body)
			checkRESTError(t, c.method+" "+c.path, code, body, http.StatusBadRequest, codes.FailedPrecondition, msg)
		})
	}
	// Requests that are invalid anyway say so first.
	_, err := cs.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{})
	checkGRPCError(t, err, codes.InvalidArgument, "customer_id is required")
}
