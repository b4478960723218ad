package serving

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/privacy"
	"github.com/patron-crm/patron/models/registry"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// listIDs pages through every customer of the active bundle and returns
// their ids and the reported total.
func listIDs(t *testing.T, ctx context.Context, c patronv1.CustomerServiceClient) ([]string, int64) {
	t.Helper()
	var ids []string
	var total int64
	token := ""
	for {
		resp, err := c.ListCustomers(ctx, &patronv1.ListCustomersRequest{PageSize: 1000, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range resp.Customers {
			ids = append(ids, v.CustomerId)
		}
		total = resp.TotalSize
		if token = resp.NextPageToken; token == "" {
			return ids, total
		}
	}
}

// checkUnknown checks that every endpoint answers id as an unknown customer.
func checkUnknown(t *testing.T, ts *testServer, ctx context.Context, id string) {
	t.Helper()
	c := ts.customers()
	_, err := c.GetCustomerValue(ctx, &patronv1.GetCustomerValueRequest{CustomerId: id})
	checkGRPCError(t, err, codes.NotFound, "not found")
	_, err = c.GetCustomerChurn(ctx, &patronv1.GetCustomerChurnRequest{CustomerId: id})
	checkGRPCError(t, err, codes.NotFound, "not found")
	_, err = c.GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: id})
	checkGRPCError(t, err, codes.NotFound, "not found")
	bv, err := c.BatchGetCustomerValues(ctx, &patronv1.BatchGetCustomerValuesRequest{CustomerIds: []string{id}})
	if err != nil || len(bv.Values) != 0 || !slices.Equal(bv.NotFoundCustomerIds, []string{id}) {
		t.Errorf("batch values: %v, %v", bv, err)
	}
	bc, err := c.BatchGetCustomerChurn(ctx, &patronv1.BatchGetCustomerChurnRequest{CustomerIds: []string{id}})
	if err != nil || len(bc.Scores) != 0 || !slices.Equal(bc.NotFoundCustomerIds, []string{id}) {
		t.Errorf("batch churn: %v, %v", bc, err)
	}
	recs, err := patronv1.NewRecommendationServiceClient(ts.conn).GetRecommendations(ctx, &patronv1.GetRecommendationsRequest{CustomerId: id})
	if err != nil || !recs.ColdStart {
		t.Errorf("recommendations: cold start %v, err %v; want cold start", recs.GetColdStart(), err)
	}
	ids, _ := listIDs(t, ctx, c)
	if slices.Contains(ids, id) {
		t.Errorf("customer lists still hold the customer")
	}
	path := "/v1/customers/" + url.PathEscape(id) + "/value"
	hr, body := ts.rest(t, "GET", path, "", "Authorization: Bearer "+keyFor("ops"))
	checkRESTError(t, path, hr.StatusCode, body, http.StatusNotFound, codes.NotFound, "not found")
}

// TestForgetCustomer forgets a customer over REST on a served data
// directory with a retained bundle: the customer is unknown everywhere, no
// bundle holds a row of theirs, a retrain leaves them out, and the audit
// log and the server log name them by hash only.
func TestForgetCustomer(t *testing.T) {
	reg := openRegistry(t)
	orders := valueShopCSV(t)
	retained, _ := trainAt(t, reg, orders, valueAsOf.AddDate(0, -1, 0))
	m, _ := trainAt(t, reg, orders, valueAsOf)
	ts := start(t, reg, Options{Keys: testKeySet(t)})
	ts.waitVersion(t, m.Version)
	ops := withKey(keyFor("ops"))
	c := ts.customers()

	if _, err := c.GetCustomerValue(ops, &patronv1.GetCustomerValueRequest{CustomerId: vipID}); err != nil {
		t.Fatalf("before: %v", err)
	}
	before, total := listIDs(t, ops, c)
	if !slices.Contains(before, vipID) || int64(len(before)) != total {
		t.Fatalf("before: %d listed of %d, vip listed %v", len(before), total, slices.Contains(before, vipID))
	}

	// Only admin keys may forget.
	for _, k := range []string{"shop1", "crm", "both"} {
		_, err := c.ForgetCustomer(withKey(keyFor(k)), &patronv1.ForgetCustomerRequest{CustomerId: vipID})
		checkGRPCError(t, err, codes.PermissionDenied, `needs scope "admin"`)
		path := "/v1/customers/" + url.PathEscape(vipID) + ":forget"
		hr, body := ts.rest(t, "POST", path, "", "Authorization: Bearer "+keyFor(k))
		checkRESTError(t, path, hr.StatusCode, body, http.StatusForbidden, codes.PermissionDenied, `needs scope "admin"`)
	}
	_, err := c.ForgetCustomer(ops, &patronv1.ForgetCustomerRequest{})
	checkGRPCError(t, err, codes.InvalidArgument, "customer_id is required")
	_, err = c.ForgetCustomer(ops, &patronv1.ForgetCustomerRequest{CustomerId: strings.Repeat("x", MaxIDBytes+1)})
	checkGRPCError(t, err, codes.InvalidArgument, "at most")

	// A customer put on the suppression list disappears at the server's
	// next look at it, before any bundle is rewritten.
	other := before[0]
	if other == vipID {
		other = before[1]
	}
	if _, err := privacy.Add(reg.Dir(), []string{other}); err != nil {
		t.Fatal(err)
	}
	ts.checkNow(t)
	checkUnknown(t, ts, ops, other)
	if ids, n := listIDs(t, ops, c); n != total-1 || int64(len(ids)) != n {
		t.Errorf("after suppressing one: %d listed, total %d; want %d", len(ids), n, total-1)
	}
	if act, _ := ts.Active(); act.Version != m.Version {
		t.Errorf("suppression alone changed the bundle to v%d", act.Version)
	}

	// Forget vip over REST.
	path := "/v1/customers/" + url.PathEscape(vipID) + ":forget"
	hr, body := ts.rest(t, "POST", path, "", "Authorization: Bearer "+keyFor("ops"))
	if hr.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, hr.StatusCode, body)
	}
	var fr struct {
		Known            bool
		BundlesRewritten []string
		NewVersion       string
		RowsRemoved      string
		CustomerIDHash   string `json:"customerIdHash"`
	}
	if err := json.Unmarshal(body, &fr); err != nil {
		t.Fatal(err)
	}
	hash := privacy.HashID(vipID).String()
	if !fr.Known || fr.NewVersion == "" || fr.RowsRemoved == "0" || fr.CustomerIDHash != hash || len(fr.BundlesRewritten) != 2 {
		t.Fatalf("forget answered %s", body)
	}
	// The server answered after loading the new bundle.
	act, _ := ts.Active()
	if act.Version == m.Version || act.Derived == nil || act.Derived.From != m.Version {
		t.Fatalf("serving v%d (derived %+v) after the forget, want a copy of v%d", act.Version, act.Derived, m.Version)
	}
	checkUnknown(t, ts, ops, vipID)
	checkUnknown(t, ts, ops, other)
	after, n := listIDs(t, ops, c)
	if int64(len(after)) != n || n != total-2 {
		t.Errorf("after: %d listed, total %d; want %d", len(after), n, total-2)
	}

	// No bundle holds a row of vip: the new active one, the rewritten retained one.
	ms, err := reg.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != retained.Version || ms[1].Version != act.Version {
		t.Fatalf("bundles %v, want v%d (retained) and v%d", ms, retained.Version, act.Version)
	}
	for _, man := range ms {
		checkNoRows(t, reg, man.Version, vipID)
	}

	// Retraining from the same orders leaves both customers out, counted.
	m3, res := trainAt(t, reg, orders, valueAsOf)
	if got := res.Summary.Reason(features.ReasonSuppressed).Count; got < 6 {
		t.Errorf("retrain: %d suppressed lines, want vip's 5 and some of the other's", got)
	}
	checkNoRows(t, reg, m3.Version, vipID)
	checkNoRows(t, reg, m3.Version, other)

	// One audit line, naming the caller and the hash, never the id.
	f, err := os.Open(privacy.AuditPath(reg.Dir()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 1 || !strings.Contains(lines[0], hash) || !strings.Contains(lines[0], `"who":"api-key:ops"`) ||
		strings.Contains(lines[0], "vip") {
		t.Errorf("audit log:\n%s", strings.Join(lines, "\n"))
	}
	// The server log names neither customer nor holds any of their records.
	logs := ts.logs.String()
	// (other is a short synthetic id, so it is looked for as a value.)
	for _, s := range []string{vipID, url.PathEscape(vipID), "vip/1", "=" + other + " ", `"` + other + `"`, "/" + other} {
		if strings.Contains(logs, s) {
			t.Errorf("server log holds %q:\n%s", s, logs)
		}
	}
	if !strings.Contains(logs, "customer forgotten") || !strings.Contains(logs, hash) {
		t.Errorf("server log lacks the forget record:\n%s", logs)
	}
}

// checkNoRows fails when bundle v holds a row of id in a customer table.
func checkNoRows(t *testing.T, reg *registry.Registry, v registry.Version, id string) {
	t.Helper()
	b, err := reg.OpenBundle(v)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, table := range privacy.CustomerTables {
		if err := b.Get(table, []byte(id), func([]byte) error { return nil }); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("bundle v%d table %s: row of %q (err %v)", v, table, id, err)
		}
	}
}
