package serving

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFastRecommendationsMatchGateway: the fast REST recommendations
// handler answers every request as the generated gateway handler does:
// status, the JSON body, the headers a client reads, and the route the
// metrics label it with, for good requests and for every kind of bad one.
func TestFastRecommendationsMatchGateway(t *testing.T) {
	reg := openRegistry(t)
	train(t, reg, ordersV1, false)
	keys := testKeySet(t)
	handler := func(noFast bool) http.Handler {
		s := New(reg, Options{Keys: keys, Poll: time.Hour, RateLimit: 1000, RateBurst: 1000, Logger: slog.New(slog.DiscardHandler)})
		s.noFastPaths = noFast
		return servedHandler(t, s)
	}
	fast, slow := handler(false), handler(true)
	shop, crm := "Bearer "+keyFor("shop1"), "Bearer "+keyFor("crm")
	for _, c := range []struct {
		target  string
		headers []string // name, value pairs
	}{
		{"/v1/customers/c1/recommendations", []string{"Authorization", shop}},
		{"/v1/customers/c1/recommendations?limit=3&include_purchased=true", []string{"Authorization", shop}},
		{"/v1/customers/c1/recommendations?includePurchased=1&excludeItemIds=i1&exclude_item_ids=i2", []string{"Authorization", shop}},
		{"/v1/customers/c1/recommendations?category=kitchen", []string{"Authorization", shop}},
		{"/v1/customers/cust%2F7%20x%3F%25/recommendations", []string{"Authorization", shop}},
		{"/v1/customers/..%2Fc9/recommendations", []string{"Authorization", shop}},
		{"/v1/customers/nobody/recommendations", []string{"Authorization", shop}},
		{"/v1/customers/c1/recommendations?limit=0", []string{"Authorization", shop}},
		{"/v1/customers/c1/recommendations?limit=101", []string{"Authorization", shop}},
		{"/v1/customers/c1/recommendations?limit=x", []string{"Authorization", shop}},
		{"/v1/customers/c1/recommendations?include_purchased=maybe", []string{"Authorization", shop}},
		{"/v1/customers/c1/recommendations?no_such_field=1", []string{"Authorization", shop}},
		{"/v1/customers/c1/recommendations?limit=%zz", []string{"Authorization", shop}},
		{"/v1/customers/" + strings.Repeat("x", 300) + "/recommendations", []string{"Authorization", shop}},
		{"/v1/customers/c%00/recommendations", []string{"Authorization", shop}},
		{"/v1/customers/c1/recommendations", nil},
		{"/v1/customers/c1/recommendations", []string{"Authorization", "Bearer wrong"}},
		{"/v1/customers/c1/recommendations", []string{"Authorization", "Basic abc"}},
		{"/v1/customers/c1/recommendations", []string{"Authorization", shop, "Authorization", shop}},
		{"/v1/customers/c1/recommendations", []string{"Authorization", crm}},
		{"/v1/customers/c1/recommendations", []string{"Authorization", shop + "\u00e9"}},
		{"/v1/customers/c1/recommendations", []string{"Authorization", shop, "Grpc-Timeout", "5S"}},
		{"/v1/customers/c1/recommendations", []string{"Authorization", shop, "Grpc-Timeout", "soon"}},
		{"/v1/customers/c1/recommendations", []string{"Authorization", shop, "Grpc-Timeout", "1n"}},
		{"/v1/customers/c1/recommendations", []string{"Authorization", crm, "Grpc-Timeout", "99999999999999999999H"}},
		{"/v1/customers/c1/recommendations", []string{"Authorization", shop, "Grpc-Metadata-Authorization", crm}},
		{"/v1/customers/c1/recommendations", []string{"Authorization", shop, "TE", "trailers"}},
		{"/v1/customers/c1/recommendations?limit=x", []string{"Authorization", shop, "TE", "trailers"}},
	} {
		do := func(h http.Handler) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", c.target, nil)
			for i := 0; i+1 < len(c.headers); i += 2 {
				r.Header.Add(c.headers[i], c.headers[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		f, g := do(fast), do(slow)
		if f.Code != g.Code {
			t.Errorf("%s %v: fast %d %s, gateway %d %s", c.target, c.headers, f.Code, f.Body, g.Code, g.Body)
			continue
		}
		sameJSON(t, f.Body.Bytes(), g.Body.Bytes())
		for _, h := range []string{"Content-Type", "Www-Authenticate", "Retry-After", "Cache-Control", "Transfer-Encoding", "Content-Length"} {
			if f.Header().Get(h) != g.Header().Get(h) {
				t.Errorf("%s: header %s fast %q, gateway %q", c.target, h, f.Header().Get(h), g.Header().Get(h))
			}
		}
		t.Logf("%s %v: %d", c.target, c.headers, f.Code)
	}
	// Both are timed under the route's pattern.
	for name, h := range map[string]http.Handler{"fast": fast, "gateway": slow} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.Header.Set("Authorization", "Bearer "+keyFor("ops"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if want := `route="GET /v1/customers/{customer_id=*}/recommendations"`; !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: no series with %s in /metrics (%d)", name, want, w.Code)
		}
	}
}
