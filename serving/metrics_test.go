package serving

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	dto "github.com/prometheus/client_model/go"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// family returns the metric family called name from the server's registry.
func family(t *testing.T, s *Server, name string) *dto.MetricFamily {
	t.Helper()
	fams, err := s.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// labels renders a metric's labels as "k=v,k=v".
func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

// histCount is the observation count of the series of name with exactly
// the labels want ("k=v,k=v"), 0 when there is none.
func histCount(t *testing.T, s *Server, name, want string) uint64 {
	t.Helper()
	f := family(t, s, name)
	for _, m := range f.GetMetric() {
		if labels(m) == want {
			return m.GetHistogram().GetSampleCount()
		}
	}
	return 0
}

func gaugeValue(t *testing.T, s *Server, name string) float64 {
	t.Helper()
	f := family(t, s, name)
	if f == nil || len(f.GetMetric()) != 1 {
		t.Fatalf("metric %s: %v, want one series", name, f)
	}
	m := f.GetMetric()[0]
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	}
	t.Fatalf("metric %s is neither a gauge nor a counter", name)
	return 0
}

func TestMetricsMoveWithRequests(t *testing.T) {
	reg := openRegistry(t)
	m := train(t, reg, ordersV1, false)
	ts := start(t, reg, Options{Poll: time.Hour})
	ts.waitVersion(t, m.Version)
	ctx := context.Background()

	if got := gaugeValue(t, ts.Server, "patron_model_version"); got != float64(m.Version) {
		t.Errorf("patron_model_version = %v, want %d", got, m.Version)
	}
	if got := gaugeValue(t, ts.Server, "patron_bundle_loads_total"); got != 1 {
		t.Errorf("patron_bundle_loads_total = %v, want 1", got)
	}
	if got, want := gaugeValue(t, ts.Server, "patron_model_age_seconds"), time.Since(asOf).Seconds(); got < want-60 || got > want+60 {
		t.Errorf("patron_model_age_seconds = %v, want about %v (since the as-of date)", got, want)
	}

	grpcOK := "code=OK,method=" + patronv1.CustomerService_GetCustomer_FullMethodName
	grpcNF := "code=NotFound,method=" + patronv1.CustomerService_GetCustomer_FullMethodName
	restOK := "code=200,route=GET /v1/customers/{customer_id=*}"
	for i := range 3 {
		if _, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c1"}); err != nil {
			t.Fatal(err)
		}
		if code, body := ts.get(t, "/v1/customers/c1"); code != http.StatusOK {
			t.Fatalf("GET /v1/customers/c1: %d %s", code, body)
		}
		if got := histCount(t, ts.Server, "patron_grpc_request_duration_seconds", grpcOK); got != uint64(i+1) {
			t.Errorf("after %d gRPC calls, %s count = %d", i+1, grpcOK, got)
		}
		if got := histCount(t, ts.Server, "patron_http_request_duration_seconds", restOK); got != uint64(i+1) {
			t.Errorf("after %d REST calls, %s count = %d", i+1, restOK, got)
		}
	}
	ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "nobody"})
	if got := histCount(t, ts.Server, "patron_grpc_request_duration_seconds", grpcNF); got != 1 {
		t.Errorf("%s count = %d, want 1", grpcNF, got)
	}

	// A refused bundle counts as a refusal and leaves the version alone.
	m2 := train(t, reg, ordersV2, true)
	editManifest(t, filepath.Join(reg.Dir(), "models", m2.Version.String()), func(man map[string]any) { man["format"] = 99 })
	setActive(t, reg, m2.Version)
	ts.checkNow(t)
	if got := gaugeValue(t, ts.Server, "patron_bundle_refusals_total"); got != 1 {
		t.Errorf("patron_bundle_refusals_total = %v, want 1", got)
	}
	if got := gaugeValue(t, ts.Server, "patron_model_version"); got != float64(m.Version) {
		t.Errorf("after a refusal patron_model_version = %v, want %d still", got, m.Version)
	}

	// The exposition over HTTP holds the same figures (no keys: open).
	code, body := ts.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	for _, want := range []string{
		`patron_http_request_duration_seconds_count{code="200",route="GET /v1/customers/{customer_id=*}"} 3`,
		`patron_grpc_request_duration_seconds_count{code="OK",method="/patron.v1.CustomerService/GetCustomer"} 3`,
		`patron_bundle_load_duration_seconds_count 2`,
		fmt.Sprintf("patron_model_version %d", m.Version),
		"go_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestMetricsNeedAdmin(t *testing.T) {
	reg := openRegistry(t)
	ts := start(t, reg, Options{Keys: testKeySet(t)})
	for _, c := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"no key", nil, http.StatusUnauthorized},
		{"unknown key", []string{"Authorization: Bearer nope"}, http.StatusUnauthorized},
		{"storefront key", []string{"Authorization: Bearer " + keyFor("shop1")}, http.StatusForbidden},
		{"CRM key", []string{"Authorization: Bearer " + keyFor("both")}, http.StatusForbidden},
		{"admin key", []string{"Authorization: Bearer " + keyFor("ops")}, http.StatusOK},
	} {
		resp, body := ts.rest(t, "GET", "/metrics", "", c.headers...)
		if resp.StatusCode != c.want {
			t.Errorf("%s: GET /metrics %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
		if c.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
		if c.want == http.StatusOK && !strings.Contains(string(body), "patron_model_version 0") {
			t.Errorf("%s: body lacks patron_model_version 0 (no bundle yet):\n%s", c.name, body)
		}
		if c.want != http.StatusOK && strings.Contains(string(body), "patron_") {
			t.Errorf("%s: refused call leaked metrics: %s", c.name, body)
		}
	}
	if resp, _ := ts.rest(t, "POST", "/metrics", "", "Authorization: Bearer "+keyFor("ops")); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d, want 405", resp.StatusCode)
	}
}

func TestMetricsCardinalityBounded(t *testing.T) {
	reg := openRegistry(t)
	m := train(t, reg, ordersV1, false)
	ts := start(t, reg, Options{Poll: time.Hour})
	ts.waitVersion(t, m.Version)
	ctx := context.Background()
	for i := range 200 {
		id := fmt.Sprintf("random-%d-%x", i, i*7919)
		ts.get(t, "/v1/customers/"+id)
		ts.get(t, "/v1/customers/"+id+"/churn")
		ts.get(t, "/no/such/path/"+id)
		ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: id})
	}
	httpSeries := family(t, ts.Server, "patron_http_request_duration_seconds").GetMetric()
	grpcSeries := family(t, ts.Server, "patron_grpc_request_duration_seconds").GetMetric()
	if len(httpSeries) > 5 || len(grpcSeries) > 3 {
		t.Errorf("600 REST and 200 gRPC calls with random ids made %d HTTP and %d gRPC series, want a handful", len(httpSeries), len(grpcSeries))
	}
	for _, m := range httpSeries {
		if strings.Contains(labels(m), "random-") {
			t.Errorf("HTTP series labelled by a raw id: %s", labels(m))
		}
	}
	if got := histCount(t, ts.Server, "patron_http_request_duration_seconds", "code=404,route=unmatched"); got != 200 {
		t.Errorf("unmatched 404 count = %d, want 200", got)
	}
}

// TestGatewayRouteMethod: each request's route label has its own method,
// also when the first request a route saw came by another one (the gateway
// serves a form-encoded POST with the GET handler of its path).
func TestGatewayRouteMethod(t *testing.T) {
	handler := func(w http.ResponseWriter, r *http.Request, _ map[string]string) { w.WriteHeader(http.StatusOK) }
	mux := runtime.NewServeMux(runtime.WithMiddlewares(gatewayRoute))
	if err := mux.HandlePath("GET", "/v1/customers/{customer_id}", handler); err != nil {
		t.Fatal(err)
	}
	s := New(nil, Options{})
	h := s.instrument(mux)
	post := httptest.NewRequest("POST", "/v1/customers/c1", strings.NewReader(""))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, req := range []*http.Request{post, httptest.NewRequest("GET", "/v1/customers/c1", nil), httptest.NewRequest("GET", "/v1/customers/c2", nil)} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("%s %s: %d", req.Method, req.URL, w.Code)
		}
	}
	for route, want := range map[string]uint64{"POST /v1/customers/{customer_id=*}": 1, "GET /v1/customers/{customer_id=*}": 2} {
		if got := histCount(t, s, "patron_http_request_duration_seconds", "code=200,route="+route); got != want {
			t.Errorf("%s: %d requests, want %d", route, got, want)
		}
	}
}

// BenchmarkHTTPMetrics measures what instrument and the gateway route
// middleware add to a REST call: the same gateway route served bare and
// instrumented, with a handler that does nothing.
func BenchmarkHTTPMetrics(b *testing.B) {
	handler := func(w http.ResponseWriter, r *http.Request, _ map[string]string) { w.WriteHeader(http.StatusOK) }
	bare := runtime.NewServeMux()
	timed := runtime.NewServeMux(runtime.WithMiddlewares(gatewayRoute))
	for _, mux := range []*runtime.ServeMux{bare, timed} {
		if err := mux.HandlePath("GET", "/v1/customers/{customer_id}", handler); err != nil {
			b.Fatal(err)
		}
	}
	s := New(nil, Options{})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"instrumented", s.instrument(timed)}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/customers/c1", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// TestPprofNeedsAdmin: Go's profiles are served under /debug/pprof/ to admin keys only.
func TestPprofNeedsAdmin(t *testing.T) {
	ts := start(t, openRegistry(t), Options{Keys: testKeySet(t)})
	for _, c := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"no key", nil, http.StatusUnauthorized},
		{"storefront key", []string{"Authorization: Bearer " + keyFor("shop1")}, http.StatusForbidden},
		{"admin key", []string{"Authorization: Bearer " + keyFor("ops")}, http.StatusOK},
	} {
		resp, body := ts.rest(t, "GET", "/debug/pprof/", "", c.headers...)
		if resp.StatusCode != c.want || (c.want == http.StatusOK && !strings.Contains(string(body), "goroutine")) {
			t.Errorf("%s: GET /debug/pprof/ %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
	resp, body := ts.rest(t, "GET", "/debug/pprof/goroutine?debug=1", "", "Authorization: Bearer "+keyFor("ops"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("goroutine profile: %d", resp.StatusCode)
	}
}
