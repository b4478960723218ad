package serving

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
	"github.com/patron-crm/patron/training"
)

// TestCustomerChurnEndpoints: churn scores over gRPC and REST from a bundle
// trained on the generated shop, and the error cases.
func TestCustomerChurnEndpoints(t *testing.T) {
	ts, version := valueServer(t)
	ctx := context.Background()
	cs := ts.customers()
	list, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	bands := map[string]int{}
	var ids []string
	for _, c := range list.Customers {
		sc, err := cs.GetCustomerChurn(ctx, &patronv1.GetCustomerChurnRequest{CustomerId: c.CustomerId})
		if err != nil {
			t.Fatalf("GetCustomerChurn(%s): %v", c.CustomerId, err)
		}
		if sc.Probability < 0 || sc.Probability > 1 || sc.HorizonDays != 90 || sc.ModelVersion != version || sc.Model == "" || sc.AsOfTime == nil {
			t.Fatalf("score %+v", sc)
		}
		want := "low"
		if sc.Probability >= 0.6 {
			want = "high"
		} else if sc.Probability >= 0.3 {
			want = "medium"
		}
		if sc.RiskBand != want {
			t.Fatalf("%s: probability %.3f in band %s, want %s", c.CustomerId, sc.Probability, sc.RiskBand, want)
		}
		if sc.RiskBand == "low" && len(sc.Reasons) > 0 || sc.RiskBand == "high" && len(sc.Reasons) == 0 {
			t.Fatalf("%s (%s): reasons %q", c.CustomerId, sc.RiskBand, sc.Reasons)
		}
		if sc.ValueAtRisk < 0 || sc.ValueAtRisk > c.Clv+0.01 {
			t.Fatalf("%s: value at risk %.2f with CLV %.2f", c.CustomerId, sc.ValueAtRisk, c.Clv)
		}
		bands[sc.RiskBand]++
		ids = append(ids, c.CustomerId)

		// REST gives the same answer.
		var rest patronv1.CustomerChurn
		ts.restInto(t, http.MethodGet, "/v1/customers/"+c.CustomerId+"/churn", "", &rest)
		if rest.Probability != sc.Probability || strings.Join(rest.Reasons, "|") != strings.Join(sc.Reasons, "|") {
			t.Fatalf("REST %+v vs gRPC %+v", &rest, sc)
		}
	}
	if len(bands) < 2 {
		t.Fatalf("all 50 highest-value customers in one band: %v", bands)
	}
	// Retention list: high risk, most value at risk first, consistent with the scores.
	high, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{RiskBand: "high", OrderBy: "value_at_risk", PageSize: 20})
	if err != nil {
		t.Fatal(err)
	}
	prev := 1e300
	for _, c := range high.Customers {
		sc, err := cs.GetCustomerChurn(ctx, &patronv1.GetCustomerChurnRequest{CustomerId: c.CustomerId})
		if err != nil || c.RiskBand != "high" || sc.RiskBand != "high" || c.ValueAtRisk > prev || c.ValueAtRisk != sc.ValueAtRisk {
			t.Fatalf("retention list entry %+v vs score %+v (%v)", c, sc, err)
		}
		prev = c.ValueAtRisk
	}
	if high.TotalSize == 0 || int(high.TotalSize) < len(high.Customers) {
		t.Fatalf("high-risk list: total %d, page %d", high.TotalSize, len(high.Customers))
	}
	_, err = cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{RiskBand: "severe"})
	checkGRPCError(t, err, codes.InvalidArgument, "risk_band")

	batch, err := cs.BatchGetCustomerChurn(ctx, &patronv1.BatchGetCustomerChurnRequest{CustomerIds: append([]string{"nobody"}, ids[:3]...)})
	if err != nil || len(batch.Scores) != 3 || batch.Scores[0].CustomerId != ids[0] || len(batch.NotFoundCustomerIds) != 1 {
		t.Fatalf("batch: %+v %v", batch, err)
	}
	_, err = cs.GetCustomerChurn(ctx, &patronv1.GetCustomerChurnRequest{CustomerId: "nobody"})
	checkGRPCError(t, err, codes.NotFound, "nobody")
	_, err = cs.GetCustomerChurn(ctx, &patronv1.GetCustomerChurnRequest{})
	checkGRPCError(t, err, codes.InvalidArgument, "customer_id")
	_, err = cs.BatchGetCustomerChurn(ctx, &patronv1.BatchGetCustomerChurnRequest{})
	checkGRPCError(t, err, codes.InvalidArgument, "customer_ids")
	code, body := ts.get(t, "/v1/customers/nobody/churn")
	checkRESTError(t, "unknown customer", code, body, http.StatusNotFound, codes.NotFound, "nobody")
}

// TestListsWithoutChurn: on a bundle with a value model but no churn model,
// lists by risk band or value at risk are FAILED_PRECONDITION, not empty.
func TestListsWithoutChurn(t *testing.T) {
	reg := openRegistry(t)
	path := filepath.Join(t.TempDir(), "orders.csv")
	if err := os.WriteFile(path, []byte(valueShopCSV(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A horizon longer than the history leaves no window to fit churn on.
	res, err := training.Train(context.Background(), reg, training.Config{Orders: path, AsOf: valueAsOf, Seed: 1, ChurnHorizonDays: 400})
	if err != nil || res.ChurnSkipped == "" || res.Value == nil {
		t.Fatalf("train: %v; churn skipped %q, value %v", err, res.ChurnSkipped, res.Value != nil)
	}
	ts := start(t, reg, Options{})
	ts.waitVersion(t, res.Manifest.Version)
	cs := ts.customers()
	ctx := context.Background()
	if _, err := cs.ListCustomers(ctx, &patronv1.ListCustomersRequest{Tier: "gold"}); err != nil {
		t.Fatalf("plain list: %v", err)
	}
	for _, req := range []*patronv1.ListCustomersRequest{{RiskBand: "high"}, {OrderBy: "value_at_risk"}, {OrderBy: "churn_probability"}} {
		_, err := cs.ListCustomers(ctx, req)
		checkGRPCError(t, err, codes.FailedPrecondition, "no churn scores")
	}
	_, err = cs.GetCustomerChurn(ctx, &patronv1.GetCustomerChurnRequest{CustomerId: "vip/1 ü?"})
	checkGRPCError(t, err, codes.FailedPrecondition, "no churn model")
}
