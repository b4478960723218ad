package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/patron-crm/patron/models/registry"
	"github.com/patron-crm/patron/training"
)

// fuzzKeys are the API keys of the fuzz server: the fuzzer picks one (or
// none) for each input with the low bits of its flags.
var fuzzKeys = []struct{ name, scopes, key string }{
	{"fuzz-admin", "admin", "fuzz-admin-key-0123456789abcdefghijklmnopqrstuv"},
	{"fuzz-shop", "recommend", "fuzz-shop-key-0123456789abcdefghijklmnopqrstuv"},
	{"fuzz-crm", "customers:read", "fuzz-crm-key-0123456789abcdefghijklmnopqrstuv"},
}

// fuzzServer starts a server with keys over a bundle of the value shop and
// ordersV1 (every model, ids that need escaping) and returns
// the HTTP handler Serve built (the gateway mux behind the probes, access
// control, request ids and metrics), to be called in process. A fuzz
// function calls it once, before f.Fuzz, so each fuzzing process trains and
// starts one server, not one per input; f's cleanup stops it.
func fuzzServer(f *testing.F) http.Handler {
	f.Helper()
	dir := f.TempDir()
	reg, err := registry.Open(filepath.Join(dir, "data"), registry.Options{})
	if err != nil {
		f.Fatal(err)
	}
	orders := filepath.Join(dir, "orders.csv")
	_, v1Lines, _ := strings.Cut(ordersV1, "\n") // without its header
	if err := os.WriteFile(orders, []byte(valueShopCSV(f)+v1Lines), 0o644); err != nil {
		f.Fatal(err)
	}
	res, err := training.Train(context.Background(), reg, training.Config{Orders: orders, AsOf: valueAsOf, Seed: 1, CodeVersion: "fuzz"})
	if err != nil {
		f.Fatalf("train: %v", err)
	}
	if res.Value == nil || res.Churn == nil {
		f.Fatalf("the fuzz bundle has no customer-value or churn model (%s; %s): their handlers would go unfuzzed", res.ValueSkipped, res.ChurnSkipped)
	}
	var lines strings.Builder
	for _, k := range fuzzKeys {
		scopes, err := ParseScopes(k.scopes)
		if err != nil {
			f.Fatal(err)
		}
		lines.WriteString(FormatKeyLine(k.name, scopes, k.key) + "\n")
	}
	keys, err := ParseKeys(strings.NewReader(lines.String()), "fuzz keys")
	if err != nil {
		f.Fatal(err)
	}
	s := New(reg, Options{Keys: keys, Poll: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	return servedHandler(f, s)
}

// servedHandler runs s.Serve on loopback listeners until tb's cleanup and
// returns the HTTP handler Serve built, once a bundle is loaded.
func servedHandler(tb testing.TB, s *Server) http.Handler {
	tb.Helper()
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, gl, hl) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if h := s.handler.Load(); h != nil {
			if _, ok := s.Active(); ok {
				return *h
			}
		}
		if time.Now().After(deadline) {
			tb.Fatal("the server did not load its bundle within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fuzzSeed is one REST call of the seed corpus.
type fuzzSeed struct {
	method, path, query, headers, body string
	flags                              uint8
}

// restSeeds are every documented endpoint (README, API), with good and bad
// ids, limits and bodies, and the plain HTTP paths beside the gateway.
func restSeeds() []fuzzSeed {
	long := strings.Repeat("x", MaxIDBytes+1)
	many := `{"customerIds":[` + strings.Repeat(`"c1",`, 1000) + `"c2"]}`
	return []fuzzSeed{
		{"GET", "/v1/models/active", "", "", "", 0},
		{"GET", "/v1/models", "", "", "", 0},
		{"GET", "/v1/customers/c1", "recent_orders=3", "", "", 0},
		{"GET", "/v1/customers/c1", "recent_orders=-1", "", "", 0},
		{"GET", "/v1/customers/c1", "recent_orders=99999999999", "", "", 0},
		{"GET", "/v1/customers/cust%2F7%20x%3F%25", "", "", "", 0},
		{"GET", "/v1/customers/..%2Fc9", "", "", "", 0},
		{"GET", "/v1/customers/%FF%FE", "", "", "", 0},
		{"GET", "/v1/customers/" + long, "", "", "", 0},
		{"GET", "/v1/customers/", "", "", "", 0},
		{"GET", "/v1/items/i1", "", "", "", 1},
		{"GET", "/v1/items/a%2Fb%20c", "", "", "", 1},
		{"GET", "/v1/items/nope", "", "", "", 1},
		{"GET", "/v1/customers/c1/recommendations", "limit=10&include_purchased=false&exclude_item_ids=i1&category=kitchen", "", "", 1},
		{"GET", "/v1/customers/c1/recommendations", "limit=101", "", "", 1},
		{"GET", "/v1/customers/c1/recommendations", "limit=2147483648", "", "", 1},
		{"GET", "/v1/customers/c1/recommendations", "limit=-5&include_purchased=maybe", "", "", 1},
		{"GET", "/v1/customers/unknown/recommendations", "exclude_item_ids=&exclude_item_ids=i2", "", "", 1},
		{"GET", "/v1/items/i1/similar", "limit=10", "", "", 1},
		{"GET", "/v1/items/nope/similar", "limit=0", "", "", 1},
		{"POST", "/v1/recommendations:basket", "", "Content-Type: application/json", `{"itemIds":["i1"],"customerId":"c1","limit":10}`, 1},
		{"POST", "/v1/recommendations:basket", "", "", `{"itemIds":["i1"`, 1},
		{"POST", "/v1/recommendations:basket", "", "", `{"itemIds":"i1","limit":"ten"}`, 1},
		{"POST", "/v1/recommendations:basket", "", "", `[]`, 1},
		{"POST", "/v1/recommendations:basket", "", "", "", 1 | 4},
		{"GET", "/v1/recommendations:basket", "", "", "", 1},
		{"GET", "/v1/items:popular", "limit=10&category=kitchen", "", "", 1},
		{"GET", "/v1/items:popular", "limit=1000000", "", "", 1},
		{"GET", "/v1/customers/c1/value", "horizon_days=365", "", "", 2},
		{"GET", "/v1/customers/c1/value", "horizon_days=-1", "", "", 2},
		{"GET", "/v1/customers/c1/value", "horizon_days=100000000", "", "", 2},
		{"POST", "/v1/customers:batchGetValues", "", "", `{"customerIds":["c1","zz","vip/1 ü?"],"horizonDays":90}`, 2},
		{"POST", "/v1/customers:batchGetValues", "", "", many, 2},
		{"POST", "/v1/customers:batchGetValues", "", "", `{"customerIds":[""]}`, 2},
		{"GET", "/v1/customers", "tier=gold&segment=At%20Risk&order_by=clv&page_size=100&page_token=abc", "", "", 2},
		{"GET", "/v1/customers", "risk_band=high&order_by=value_at_risk&page_size=-1", "", "", 2},
		{"GET", "/v1/customers", "page_size=100000&page_token=%FF", "", "", 2},
		{"GET", "/v1/customers/c1/churn", "", "", "", 2},
		{"GET", "/v1/customers/" + url.PathEscape(vipID) + "/churn", "", "", "", 2},
		{"GET", "/v1/customers/" + url.PathEscape(vipID) + "/value", "horizon_days=30", "", "", 0},
		{"GET", "/v1/customers/" + url.PathEscape(vipID) + "/recommendations", "include_purchased=true&limit=3", "", "", 0},
		{"POST", "/v1/customers:batchGetChurn", "", "", `{"customerIds":["c1","c2","nope"]}`, 2},
		{"POST", "/v1/customers:batchGetChurn", "", "", `{"customerIds":[1,2]}`, 2},
		{"GET", "/healthz", "", "", "", 3},
		{"HEAD", "/readyz", "", "", "", 3},
		{"POST", "/healthz", "", "", "x", 3},
		{"GET", "/openapi.json", "", "", "", 3},
		{"GET", "/metrics", "", "", "", 0},
		{"GET", "/metrics", "", "", "", 1},
		{"GET", "/debug/pprof/", "", "", "", 0},
		{"GET", "/debug/pprof/goroutine", "debug=1", "", "", 2},
		{"DELETE", "/v1/models", "", "", "", 0},
		{"GET", "/v1/customers/c1/churn", "", "Authorization: Bearer nope", "", 3},
		{"GET", "/v1/customers/c1/churn", "", "Authorization: Basic Zm9vOmJhcg==", "", 3},
		{"GET", "/v1/customers/c1", "", "X-Request-Id: abc-1\nGrpc-Metadata-Authorization: Bearer x", "", 0},
		{"GET", "/nothing/here", "", "", "", 0},
	}
}

// knownStatus are the HTTP statuses the REST API may answer with.
var knownStatus = map[int]bool{200: true, 400: true, 401: true, 403: true, 404: true, 405: true, 413: true, 429: true, 501: true, 503: true}

// FuzzREST drives the HTTP handler the server builds with fuzzed method,
// path, query, headers and body. For every input it must not panic, must
// answer with a status the API documents (no 500, no other 5xx than 501 and
// 503), with a JSON body whenever it says it is JSON, and an error body
// (status 400 and up) must be JSON with a code and a message. Go's pprof
// handler, behind the admin check, is held to the access check only.
//
// flags: bits 0-1 choose the API key (0 admin, 1 recommend, 2
// customers:read, 3 none; an Authorization header in headers replaces it),
// bit 2 sends the body with an unknown length (chunked).
func FuzzREST(f *testing.F) {
	for _, s := range restSeeds() {
		f.Add(s.method, s.path, s.query, s.headers, []byte(s.body), s.flags)
	}
	h := fuzzServer(f)
	f.Fuzz(func(t *testing.T, method, path, query, headers string, body []byte, flags uint8) {
		req, ok := fuzzRequest(method, path, query, headers, body, flags)
		if !ok {
			return // net/http refuses it before any handler runs
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		checkFuzzResponse(t, req, w)
	})
}

// fuzzRequest builds the request net/http's server would hand the handler
// for these parts, and false when the server would refuse it on its own (a
// method or header that is not a token, a target that does not parse).
func fuzzRequest(method, path, query, headers string, body []byte, flags uint8) (*http.Request, bool) {
	if !isToken(method) {
		return nil, false
	}
	target := path
	if query != "" {
		target += "?" + query
	}
	u, err := url.ParseRequestURI(target)
	if err != nil || u.Host != "" || !strings.HasPrefix(target, "/") {
		return nil, false
	}
	// pprof's CPU profile and trace (and delta profiles with ?seconds=)
	// run for seconds by design; the handler is the standard library's.
	if strings.HasPrefix(u.Path, "/debug/pprof/") &&
		(strings.Contains(u.Path, "profile") || strings.Contains(u.Path, "trace") || strings.Contains(u.RawQuery, "seconds")) {
		return nil, false
	}
	h := http.Header{}
	for line := range strings.SplitSeq(headers, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		if !isToken(name) || !validHeaderValue(value) {
			return nil, false
		}
		h.Add(name, value)
	}
	if h.Get("Authorization") == "" && flags&3 != 3 {
		h.Set("Authorization", "Bearer "+fuzzKeys[flags&3].key)
	}
	req := &http.Request{
		Method: method, URL: u, RequestURI: target,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Host: "127.0.0.1:8080", RemoteAddr: "127.0.0.1:40000",
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
	}
	if flags&4 != 0 {
		req.ContentLength = -1
	}
	return req.WithContext(context.Background()), true
}

// checkFuzzResponse checks the properties every answer must have.
func checkFuzzResponse(t *testing.T, req *http.Request, w *httptest.ResponseRecorder) {
	t.Helper()
	what := req.Method + " " + req.RequestURI
	code := w.Code
	// Past the access check, /debug/pprof/ is the standard library's
	// profile handler, for people: its errors ("Unknown profile") are text
	// and its mux redirects unclean paths.
	if strings.HasPrefix(req.URL.Path, "/debug/pprof/") && code != http.StatusUnauthorized && code != http.StatusForbidden {
		return
	}
	if !knownStatus[code] {
		t.Fatalf("%.200q: status %d, not one the API answers with; body %.300q", what, code, w.Body.String())
	}
	ct := w.Header().Get("Content-Type")
	isJSON := strings.HasPrefix(ct, "application/json")
	if isJSON && req.Method != http.MethodHead && !json.Valid(w.Body.Bytes()) {
		t.Fatalf("%.200q: status %d says %s but the body is not JSON: %.300q", what, code, ct, w.Body.String())
	}
	if code < 400 || req.Method == http.MethodHead {
		return
	}
	var e struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if !isJSON || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Code == nil || e.Message == "" {
		t.Fatalf("%.200q: error %d without a JSON code and message (Content-Type %q): %.300q", what, code, ct, w.Body.String())
	}
	if !utf8.ValidString(e.Message) {
		t.Fatalf("%.200q: error message is not UTF-8: %q", what, e.Message)
	}
	if code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("%.200q: 401 without WWW-Authenticate", what)
	}
}

// isToken reports whether s is an HTTP token (RFC 9110), as methods and
// header names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether net/http accepts v as a header value
// (no control characters other than tab).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzValidation checks the request validation functions against their
// contracts: checkID accepts exactly the non-empty, valid UTF-8 ids of at
// most MaxIDBytes, checkLimit exactly 0 (the default) and 1..MaxLimit,
// checkFilter and checkIDs what checkID accepts, validRequestID 1-64 of
// [A-Za-z0-9._-]; every refusal is INVALID_ARGUMENT with a UTF-8 message
// that names the field.
func FuzzValidation(f *testing.F) {
	f.Add("c1", int32(10), "kitchen", "req-1")
	f.Add("", int32(0), "", "")
	f.Add(strings.Repeat("é", MaxIDBytes/2), int32(MaxLimit), "\xff", strings.Repeat("a", 65))
	f.Add("a/b c?%", int32(-1), "a/b", "bad id!")
	f.Add("\xff\xfe", int32(MaxLimit+1), strings.Repeat("x", MaxIDBytes+1), "x.y_z-1")
	f.Fuzz(func(t *testing.T, id string, limit int32, category, requestID string) {
		idOK := id != "" && len(id) <= MaxIDBytes && utf8.ValidString(id)
		checkRefusal(t, "checkID", checkID("customer_id", id), idOK, "customer_id")

		n, err := checkLimit(&limit)
		limitOK := limit == 0 || (limit >= 1 && limit <= MaxLimit)
		checkRefusal(t, "checkLimit", err, limitOK, "limit")
		if err == nil && (limit == 0 && n != DefaultLimit || limit != 0 && n != int(limit)) {
			t.Fatalf("checkLimit(%d) = %d", limit, n)
		}
		if n, err := checkLimit(nil); err != nil || n != DefaultLimit {
			t.Fatalf("checkLimit(nil) = %d, %v", n, err)
		}

		ids := []string{"i1", id}
		checkRefusal(t, "checkIDs", checkIDs("exclude_item_ids", ids), idOK, "exclude_item_ids[1]")
		catOK := category == "" || len(category) <= MaxIDBytes && utf8.ValidString(category)
		err = checkFilter(ids, category)
		if (err == nil) != (idOK && catOK) {
			t.Fatalf("checkFilter(%q, %q) = %v; id ok %v, category ok %v", ids, category, err, idOK, catOK)
		}

		want := len(requestID) >= 1 && len(requestID) <= 64
		for _, c := range []byte(requestID) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				want = false
			}
		}
		if validRequestID(requestID) != want {
			t.Fatalf("validRequestID(%q) = %v, want %v", requestID, !want, want)
		}
	})
}

// checkRefusal checks that err is nil when ok, and otherwise an
// INVALID_ARGUMENT naming field in a UTF-8 message.
func checkRefusal(t *testing.T, fn string, err error, ok bool, field string) {
	t.Helper()
	if ok {
		if err != nil {
			t.Fatalf("%s refused a valid value: %v", fn, err)
		}
		return
	}
	st, isStatus := status.FromError(err)
	if err == nil || !isStatus || st.Code() != codes.InvalidArgument {
		t.Fatalf("%s accepted or mis-refused an invalid value: %v", fn, err)
	}
	if !utf8.ValidString(st.Message()) || !strings.Contains(st.Message(), field) {
		t.Fatalf("%s: message %q does not name %s or is not UTF-8", fn, st.Message(), field)
	}
}
