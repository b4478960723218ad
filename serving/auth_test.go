package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// testKeys are the keys of the access-control tests, by name, with scopes.
var testKeys = []struct {
	name, scopes string
}{
	{"shop1", "recommend"},
	{"crm", "customers:read"},
	{"ops", "admin"},
	{"both", "recommend,customers:read"},
}

// keyFor is the (made-up, fixed) key of a test key name.
func keyFor(name string) string { return "test-key-" + name + "-0123456789abcdefghijklmnopqrstuv" }

// testKeySet builds the KeySet of testKeys through the file format.
func testKeySet(t *testing.T) *KeySet {
	t.Helper()
	var b strings.Builder
	b.WriteString("# test keys\n\n")
	for _, k := range testKeys {
		scopes, err := ParseScopes(k.scopes)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(FormatKeyLine(k.name, scopes, keyFor(k.name)) + "\n")
	}
	path := filepath.Join(t.TempDir(), "keys.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ks, err := LoadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// authCall is one RPC, with the same call over gRPC and REST.
type authCall struct {
	method     string // full gRPC method name
	req, resp  proto.Message
	verb, path string
	body       string
}

// authCalls covers every Patron RPC (TestScopeTableCoversEveryRPC checks
// the scope table; TestAccessByScope checks this list against it).
func authCalls() []authCall {
	vip := url.PathEscape(vipID)
	return []authCall{
		{patronv1.RecommendationService_GetRecommendations_FullMethodName, &patronv1.GetRecommendationsRequest{CustomerId: vipID}, &patronv1.RecommendationsResponse{}, "GET", "/v1/customers/" + vip + "/recommendations", ""},
		{patronv1.RecommendationService_GetSimilarItems_FullMethodName, &patronv1.GetSimilarItemsRequest{ItemId: "h-lamp"}, &patronv1.RecommendationsResponse{}, "GET", "/v1/items/h-lamp/similar", ""},
		{patronv1.RecommendationService_RecommendBasket_FullMethodName, &patronv1.RecommendBasketRequest{ItemIds: []string{"h-lamp"}}, &patronv1.RecommendationsResponse{}, "POST", "/v1/recommendations:basket", `{"itemIds":["h-lamp"]}`},
		{patronv1.RecommendationService_ListPopularItems_FullMethodName, &patronv1.ListPopularItemsRequest{}, &patronv1.RecommendationsResponse{}, "GET", "/v1/items:popular", ""},
		{patronv1.ItemService_GetItem_FullMethodName, &patronv1.GetItemRequest{ItemId: "h-lamp"}, &patronv1.Item{}, "GET", "/v1/items/h-lamp", ""},
		{patronv1.CustomerService_GetCustomer_FullMethodName, &patronv1.GetCustomerRequest{CustomerId: vipID}, &patronv1.Customer{}, "GET", "/v1/customers/" + vip, ""},
		{patronv1.CustomerService_GetCustomerValue_FullMethodName, &patronv1.GetCustomerValueRequest{CustomerId: vipID}, &patronv1.CustomerValue{}, "GET", "/v1/customers/" + vip + "/value", ""},
		{patronv1.CustomerService_BatchGetCustomerValues_FullMethodName, &patronv1.BatchGetCustomerValuesRequest{CustomerIds: []string{vipID}}, &patronv1.BatchGetCustomerValuesResponse{}, "POST", "/v1/customers:batchGetValues", `{"customerIds":["vip/1 ü?"]}`},
		{patronv1.CustomerService_ListCustomers_FullMethodName, &patronv1.ListCustomersRequest{}, &patronv1.ListCustomersResponse{}, "GET", "/v1/customers", ""},
		{patronv1.CustomerService_GetCustomerChurn_FullMethodName, &patronv1.GetCustomerChurnRequest{CustomerId: vipID}, &patronv1.CustomerChurn{}, "GET", "/v1/customers/" + vip + "/churn", ""},
		{patronv1.CustomerService_BatchGetCustomerChurn_FullMethodName, &patronv1.BatchGetCustomerChurnRequest{CustomerIds: []string{vipID}}, &patronv1.BatchGetCustomerChurnResponse{}, "POST", "/v1/customers:batchGetChurn", `{"customerIds":["vip/1 ü?"]}`},
		// An id no bundle holds: admin keys really forget it, and the other
		// calls' customers stay.
		{patronv1.CustomerService_ForgetCustomer_FullMethodName, &patronv1.ForgetCustomerRequest{CustomerId: "nobody/9"}, &patronv1.ForgetCustomerResponse{}, "POST", "/v1/customers/nobody%2F9:forget", ""},
		{patronv1.ModelService_GetActiveModel_FullMethodName, &patronv1.GetActiveModelRequest{}, &patronv1.Model{}, "GET", "/v1/models/active", ""},
		{patronv1.ModelService_ListModels_FullMethodName, &patronv1.ListModelsRequest{}, &patronv1.ListModelsResponse{}, "GET", "/v1/models", ""},
	}
}

// rest sends a REST request with the given header lines ("Name: value").
func (ts *testServer) rest(t *testing.T, verb, path, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(verb, ts.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Add(name, value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// withKey returns a context sending key as gRPC metadata.
func withKey(key string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key)
}

func TestScopeTableCoversEveryRPC(t *testing.T) {
	calls := map[string]bool{}
	for _, c := range authCalls() {
		calls[c.method] = true
	}
	for _, sd := range []grpc.ServiceDesc{patronv1.ModelService_ServiceDesc, patronv1.CustomerService_ServiceDesc,
		patronv1.ItemService_ServiceDesc, patronv1.RecommendationService_ServiceDesc} {
		if len(sd.Streams) > 0 {
			t.Errorf("%s has streams; give them scopes and tests", sd.ServiceName)
		}
		for _, m := range sd.Methods {
			full := "/" + sd.ServiceName + "/" + m.MethodName
			if _, ok := methodScopes[full]; !ok {
				t.Errorf("%s has no scope in methodScopes (it would need admin)", full)
			}
			if !calls[full] {
				t.Errorf("%s is not in the access tests' authCalls", full)
			}
		}
	}
	if got := RequiredScope("/patron.v1.NewService/Unclassified"); got != ScopeAdmin {
		t.Errorf("unknown method needs %q, want admin", got)
	}
	for _, m := range []string{healthpb.Health_Check_FullMethodName, healthpb.Health_Watch_FullMethodName,
		reflectionpb.ServerReflection_ServerReflectionInfo_FullMethodName} {
		if got := RequiredScope(m); got != "" {
			t.Errorf("%s needs %q, want open", m, got)
		}
	}
}

// TestAccessByScope calls every RPC with every key over gRPC and REST: a key
// reaches exactly the methods of its scopes (admin all), and storefront keys
// never read customer data.
func TestAccessByScope(t *testing.T) {
	reg := openRegistry(t)
	// The value shop, so value, churn and lists have models to answer from.
	m, _ := trainAt(t, reg, valueShopCSV(t), valueAsOf)
	ts := start(t, reg, Options{Keys: testKeySet(t)})
	ts.waitVersion(t, m.Version)

	allowed := func(key string, method string) bool {
		need := RequiredScope(method)
		for _, k := range testKeys {
			if k.name == key {
				scopes, _ := ParseScopes(k.scopes)
				return slices.Contains(scopes, need) || slices.Contains(scopes, ScopeAdmin)
			}
		}
		t.Fatalf("no key %s", key)
		return false
	}
	// The rule in the issue, stated independently of the scope table.
	for _, m := range []string{patronv1.CustomerService_GetCustomerChurn_FullMethodName, patronv1.CustomerService_GetCustomerValue_FullMethodName,
		patronv1.CustomerService_BatchGetCustomerChurn_FullMethodName, patronv1.CustomerService_BatchGetCustomerValues_FullMethodName,
		patronv1.CustomerService_ListCustomers_FullMethodName, patronv1.CustomerService_GetCustomer_FullMethodName} {
		if allowed("shop1", m) {
			t.Errorf("storefront key may call %s", m)
		}
	}

	for _, c := range authCalls() {
		for _, k := range testKeys {
			want := allowed(k.name, c.method)
			t.Run(fmt.Sprintf("%s/%s", strings.TrimPrefix(c.method, "/patron.v1."), k.name), func(t *testing.T) {
				resp := proto.Clone(c.resp)
				err := ts.conn.Invoke(withKey(keyFor(k.name)), c.method, c.req, resp)
				hr, body := ts.rest(t, c.verb, c.path, c.body, "Authorization: Bearer "+keyFor(k.name))
				if want {
					if err != nil {
						t.Errorf("gRPC: %v, want success", err)
					}
					if hr.StatusCode != http.StatusOK {
						t.Errorf("REST %s %s: %d %s, want 200", c.verb, c.path, hr.StatusCode, body)
					}
					return
				}
				checkGRPCError(t, err, codes.PermissionDenied, fmt.Sprintf("needs scope %q", RequiredScope(c.method)))
				checkRESTError(t, c.path, hr.StatusCode, body, http.StatusForbidden, codes.PermissionDenied, fmt.Sprintf(`API key %q`, k.name))
				if strings.Contains(string(body), `"churnProbability"`) || strings.Contains(string(body), `"clv"`) {
					t.Errorf("denied REST answer holds data: %s", body)
				}
			})
		}
	}

	logs := ts.logs.String()
	for _, k := range testKeys {
		if strings.Contains(logs, keyFor(k.name)) {
			t.Fatalf("a key is in the log")
		}
	}
	for _, want := range []string{`msg="request authorized" key=shop1 method=/patron.v1.RecommendationService/GetRecommendations`,
		`msg="request refused" method=/patron.v1.CustomerService/GetCustomerChurn reason="missing scope" key=shop1`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestAuthenticationFailures sends missing, wrong and malformed keys over
// both transports: UNAUTHENTICATED / 401 with a message saying how to send
// a key. Health, reflection and the OpenAPI document stay open.
func TestAuthenticationFailures(t *testing.T) {
	reg := openRegistry(t)
	train(t, reg, ordersV1, false)
	ts := start(t, reg, Options{Keys: testKeySet(t)})
	good := keyFor("crm")

	for _, c := range []struct {
		name   string
		values []string // authorization values (none: no header)
		msg    string
	}{
		{"missing", nil, "no API key"},
		{"wrong key", []string{"Bearer not-a-configured-key"}, "not valid"},
		{"key without Bearer", []string{good}, `not "Bearer <key>"`},
		{"basic auth", []string{"Basic " + good}, `not "Bearer <key>"`},
		{"Bearer without key", []string{"Bearer "}, `not "Bearer <key>"`},
		{"two tokens", []string{"Bearer " + good + " extra"}, `not "Bearer <key>"`},
		{"two values", []string{"Bearer " + good, "Bearer " + good}, "send exactly one"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			var headers []string
			for _, v := range c.values {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
				headers = append(headers, "Authorization: "+v)
			}
			_, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c1"})
			checkGRPCError(t, err, codes.Unauthenticated, c.msg)
			checkGRPCError(t, err, codes.Unauthenticated, `"authorization: Bearer <key>"`)
			resp, body := ts.rest(t, "GET", "/v1/customers/c1", "", headers...)
			checkRESTError(t, c.name, resp.StatusCode, body, http.StatusUnauthorized, codes.Unauthenticated, c.msg)
			checkRESTError(t, c.name, resp.StatusCode, body, http.StatusUnauthorized, codes.Unauthenticated, `Authorization: Bearer <key>`)
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("REST 401 WWW-Authenticate %q, want a Bearer challenge", got)
			}
		})
	}

	t.Run("scheme is case-insensitive", func(t *testing.T) {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "bearer "+good)
		if _, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c1"}); err != nil {
			t.Errorf("gRPC: %v", err)
		}
		if resp, body := ts.rest(t, "GET", "/v1/customers/c1", "", "Authorization: bearer "+good); resp.StatusCode != 200 {
			t.Errorf("REST: %d %s", resp.StatusCode, body)
		}
	})

	// The gateway's default matcher would map Grpc-Metadata-Authorization
	// to "authorization"; only the Authorization header carries a key.
	t.Run("Grpc-Metadata-Authorization is not a key", func(t *testing.T) {
		resp, body := ts.rest(t, "GET", "/v1/customers/c1", "", "Grpc-Metadata-Authorization: Bearer "+good)
		checkRESTError(t, "grpc-metadata", resp.StatusCode, body, http.StatusUnauthorized, codes.Unauthenticated, "no API key")
		// Beside a wrong Authorization header, it does not rescue the call.
		resp, body = ts.rest(t, "GET", "/v1/customers/c1", "", "Authorization: Bearer wrong", "Grpc-Metadata-Authorization: Bearer "+good)
		checkRESTError(t, "grpc-metadata", resp.StatusCode, body, http.StatusUnauthorized, codes.Unauthenticated, "not valid")
	})

	t.Run("open without a key", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz", "/openapi.json"} {
			if code, body := ts.get(t, p); code != 200 {
				t.Errorf("GET %s: %d %s", p, code, body)
			}
		}
		hc, err := healthpb.NewHealthClient(ts.conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err != nil || hc.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health: %v %v", hc, err)
		}
		st, err := reflectionpb.NewServerReflectionClient(ts.conn).ServerReflectionInfo(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
			t.Fatal(err)
		}
		r, err := st.Recv()
		if err != nil || len(r.GetListServicesResponse().GetService()) < 4 {
			t.Errorf("reflection list: %v %v", r, err)
		}
		st.CloseSend()
	})

	if strings.Contains(ts.logs.String(), good) {
		t.Error("a key is in the log")
	}
}

func TestServeRefusesWithoutKeys(t *testing.T) {
	reg := openRegistry(t)
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{}, "no API keys"},
		{Options{Keys: testKeySet(t), InsecureNoAuth: true}, "choose one"},
	} {
		gl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		err = New(reg, c.opts).Serve(context.Background(), gl, hl)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Serve(%+v): %v, want an error with %q", c.opts, err, c.want)
		}
		// The listeners are closed.
		if _, err := gl.Accept(); err == nil {
			t.Error("gRPC listener still open")
		}
	}
}

func TestParseKeys(t *testing.T) {
	h := HashKey("k1")
	h2 := HashKey("k2")
	good := "# comment\n\nshop1 recommend " + h + "\n\tcrm\tcustomers:read,recommend\t" + strings.ToUpper(h2) + "  \n"
	ks, err := ParseKeys(strings.NewReader(good), "keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(ks.Keys())
	if want := `[{"name":"shop1","scopes":["recommend"]},{"name":"crm","scopes":["customers:read","recommend"]}]`; string(got) != want {
		t.Errorf("keys %s, want %s", got, want)
	}
	if k, ok := ks.lookup("k2"); !ok || k.name != "crm" {
		t.Errorf("lookup k2: %v %v", k, ok)
	}
	if _, ok := ks.lookup(h); ok {
		t.Error("the hash itself was accepted as a key")
	}

	for _, c := range []struct {
		name, file, want string
	}{
		{"two fields", "# c\nshop1 " + h + "\n", "line 2: 2 fields, want 3"},
		{"four fields", "shop1 recommend " + h + " extra\n", "line 1: 4 fields"},
		{"unknown scope", "\nshop1 recomend " + h + "\n", `line 2: unknown scope "recomend"; scopes are recommend, customers:read, admin`},
		{"empty scope", "shop1 recommend,," + h[:0] + " " + h + "\n", "line 1: scopes \"recommend,,\": empty scope"},
		{"scope twice", "shop1 admin,admin " + h + "\n", "admin given twice"},
		{"bad name", "shop/1 recommend " + h + "\n", `line 1: key name "shop/1"`},
		{"long name", strings.Repeat("n", 65) + " recommend " + h + "\n", "1 to 64 characters"},
		{"short hash", "shop1 recommend abc\n", "line 1: hash field is 3 characters, want 64"},
		{"a raw key, not a hash", "shop1 recommend " + NewKey() + "\n", "never the key itself"},
		{"not hex", "shop1 recommend " + strings.Repeat("z", 64) + "\n", "line 1: hash field is not hex"},
		{"name twice", "a recommend " + h + "\n#\na admin " + h2 + "\n", `line 3: name "a" is already used on line 1`},
		{"hash twice", "a recommend " + h + "\nb admin " + h + "\n", "line 2: the same key hash is on line 1"},
		{"line too long", "a recommend " + h + "\n#" + strings.Repeat("x", 5000) + "\n", "line 2: longer than"},
	} {
		_, err := ParseKeys(strings.NewReader(c.file), "keys.txt")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "keys file keys.txt") {
			t.Errorf("%s: %v, want an error naming keys.txt with %q", c.name, err, c.want)
		}
	}

	dir := t.TempDir()
	if _, err := LoadKeys(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "patron keys new") {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nothing yet\n"), 0o600)
	if _, err := LoadKeys(empty); err == nil || !strings.Contains(err.Error(), "holds no keys") {
		t.Errorf("empty file: %v", err)
	}
}

func TestNewKey(t *testing.T) {
	a, b := NewKey(), NewKey()
	if len(a) != 43 || a == b || strings.ContainsAny(a, "+/=") {
		t.Errorf("NewKey: %q %q, want distinct 43-character base64url keys", a, b)
	}
	line := FormatKeyLine("shop1", []Scope{ScopeRecommend, ScopeCustomersRead}, a)
	if strings.Contains(line, a) {
		t.Fatal("key line holds the key")
	}
	ks, err := ParseKeys(strings.NewReader(line+"\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := ks.lookup(a); !ok || k.name != "shop1" || k.bits != bitRecommend|bitCustomersRead {
		t.Errorf("round trip: %+v %v", k, ok)
	}
}

// BenchmarkAuthCheck measures the access check a call pays: metadata lookup,
// one SHA-256 and constant-time comparison with every configured key.
func BenchmarkAuthCheck(b *testing.B) {
	var lines strings.Builder
	for i := range 100 {
		fmt.Fprintf(&lines, "key%d recommend %s\n", i, HashKey(fmt.Sprint("k", i)))
	}
	ks, err := ParseKeys(strings.NewReader(lines.String()), "bench")
	if err != nil {
		b.Fatal(err)
	}
	a := &authorizer{keys: ks, log: slog.New(slog.DiscardHandler)}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer k99"))
	b.ReportAllocs()
	for b.Loop() {
		if err := a.check(ctx, patronv1.RecommendationService_GetRecommendations_FullMethodName); err != nil {
			b.Fatal(err)
		}
	}
}
