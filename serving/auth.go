// Access control: API keys with scopes.
//
// # Who may call what
//
// Every call to a Patron service carries an API key, over gRPC as the
// metadata "authorization: Bearer <key>" and over REST as the header
// "Authorization: Bearer <key>". A key has a name (who holds it, for logs and
// messages) and one or more scopes:
//
//	recommend       RecommendationService (recommendations, similar items, basket,
//	                popular items) and ItemService.GetItem: what a storefront needs.
//	customers:read  CustomerService: customer summaries, value, churn, lists and
//	                batches: what a CRM system needs.
//	admin           ModelService, CustomerService.ForgetCustomer (erasure), and
//	                every other method.
//
// Scopes do not nest except admin: a storefront key (recommend) never reads a
// customer's value or churn, and a CRM key never asks for recommendations
// unless it holds both scopes. A missing, malformed or unknown key is
// UNAUTHENTICATED (HTTP 401, with a WWW-Authenticate: Bearer header) and the
// message says how to send one; a valid key without the method's scope is
// PERMISSION_DENIED (HTTP 403) and the message names the scope needed. A
// method missing from the scope table (a new RPC nobody classified) needs
// admin: the table fails closed, and a test checks that it covers every RPC.
//
// Open without a key: health (grpc.health.v1.Health, /healthz, /readyz), so
// load balancers and orchestrators need no secret; gRPC reflection and
// /openapi.json, because they describe only the public API contract (the
// same as proto/patron/v1 in the repository), hold no customer or model data,
// and tools (grpcurl, Swagger UI, client generators) fetch them before a
// caller has chosen a key.
//
// # How a REST call reaches the check
//
// gRPC calls pass a unary (and a stream) interceptor. The REST gateway is
// registered in-process with Register*HandlerServer, which calls the service
// methods directly, so gRPC interceptors never see REST calls. Instead the
// gateway is given guarded copies of the services (the guarded* types below:
// one line per method, each naming its own full gRPC method) that run the
// same check before delegating. The header reaches them as follows: the
// gateway's runtime.AnnotateIncomingContext copies the HTTP Authorization
// header, unprefixed, into the incoming gRPC metadata under "authorization",
// ahead of any other header, exactly where a gRPC client's metadata would be.
// The gateway's default header matcher would also turn a
// "Grpc-Metadata-Authorization" header into a second "authorization" value;
// the server's matcher drops that header, so over REST a key comes only from
// Authorization, and a call with more than one authorization value is
// refused as ambiguous on both transports.
//
// # Keys file
//
// Keys are configured from a text file that holds only their SHA-256 hashes,
// one key per line:
//
//	# name  scopes                   sha256 of the key (hex)
//	shop1   recommend                9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//	crm     customers:read           60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
//	ops     admin                    fd61a03af4f77d870fc21e05e7e80678095c92d808cfb3b5c279ee04c74aca13
//
// Fields are separated by spaces or tabs; scopes by commas; blank lines and
// lines starting with "#" are ignored. Names are 1-64 characters of letters,
// digits, '.', '_' and '-', and unique; so are hashes. A malformed line is an
// error naming the file, line and field. `patron keys new` writes such lines.
//
// A key is 32 bytes from crypto/rand, base64url without padding (43
// characters), so it has 256 bits of entropy: a fast hash is enough (a
// password hash such as bcrypt or Argon2 exists to slow guessing of
// low-entropy secrets, which these are not), and a lookup costs one SHA-256
// of about 40 bytes. The presented key's hash is compared with every
// configured hash in constant time (crypto/subtle), with no early exit, so
// timing says nothing about which bytes matched. Measured (BenchmarkAuthCheck,
// 100 configured keys): 1.1 µs and one allocation per call.
//
// The file is read once, at start: to add or revoke a key (delete its line),
// edit the file and restart the server (a graceful restart; bundles reload
// in milliseconds).
//
// Keys never reach the logs: each accepted or rejected call is logged at
// debug level with the key's name (or the reason it was refused) and the
// method.

package serving

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// Scope is a permission an API key carries.
type Scope string

// The scopes a key may hold.
const (
	ScopeRecommend     Scope = "recommend"
	ScopeCustomersRead Scope = "customers:read"
	ScopeAdmin         Scope = "admin"
)

// Scopes lists every scope, in the order help texts show them.
var Scopes = []Scope{ScopeRecommend, ScopeCustomersRead, ScopeAdmin}

// Scope bits, for a key's scope set.
const (
	bitRecommend uint8 = 1 << iota
	bitCustomersRead
	bitAdmin
)

// scopeBit maps a scope to its bit in a key's scope set.
func scopeBit(s Scope) (uint8, bool) {
	switch s {
	case ScopeRecommend:
		return bitRecommend, true
	case ScopeCustomersRead:
		return bitCustomersRead, true
	case ScopeAdmin:
		return bitAdmin, true
	}
	return 0, false
}

// methodScopes is the scope each Patron RPC needs. A method not listed needs
// admin (fail closed); TestScopeTableCoversEveryRPC keeps it complete.
var methodScopes = map[string]Scope{
	patronv1.RecommendationService_GetRecommendations_FullMethodName: ScopeRecommend,
	patronv1.RecommendationService_GetSimilarItems_FullMethodName:    ScopeRecommend,
	patronv1.RecommendationService_RecommendBasket_FullMethodName:    ScopeRecommend,
	patronv1.RecommendationService_ListPopularItems_FullMethodName:   ScopeRecommend,
	patronv1.ItemService_GetItem_FullMethodName:                      ScopeRecommend,

	patronv1.CustomerService_GetCustomer_FullMethodName:            ScopeCustomersRead,
	patronv1.CustomerService_GetCustomerValue_FullMethodName:       ScopeCustomersRead,
	patronv1.CustomerService_BatchGetCustomerValues_FullMethodName: ScopeCustomersRead,
	patronv1.CustomerService_ListCustomers_FullMethodName:          ScopeCustomersRead,
	patronv1.CustomerService_GetCustomerChurn_FullMethodName:       ScopeCustomersRead,
	patronv1.CustomerService_BatchGetCustomerChurn_FullMethodName:  ScopeCustomersRead,
	// Erasing a customer rewrites bundles: operators only.
	patronv1.CustomerService_ForgetCustomer_FullMethodName: ScopeAdmin,

	patronv1.ModelService_GetActiveModel_FullMethodName: ScopeAdmin,
	patronv1.ModelService_ListModels_FullMethodName:     ScopeAdmin,
}

// openPrefixes are the method prefixes ("/service/") that answer without a
// key: health, and reflection v1 and v1alpha (see the notes at the top).
var openPrefixes = []string{
	"/" + healthpb.Health_ServiceDesc.ServiceName + "/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

// isOpen reports whether fullMethod ("/pkg.Service/Method") needs no key.
func isOpen(fullMethod string) bool {
	for _, p := range openPrefixes {
		if strings.HasPrefix(fullMethod, p) {
			return true
		}
	}
	return false
}

// RequiredScope returns the scope a call of fullMethod needs ("" when it is
// open to everyone).
func RequiredScope(fullMethod string) Scope {
	if isOpen(fullMethod) {
		return ""
	}
	if s, ok := methodScopes[fullMethod]; ok {
		return s
	}
	return ScopeAdmin
}

// apiKey is one configured key: its name, scope bits and SHA-256 digest.
type apiKey struct {
	name   string
	scopes []Scope
	bits   uint8
	digest [sha256.Size]byte
}

// KeyInfo describes a configured key, without its hash.
type KeyInfo struct {
	Name   string  `json:"name"`
	Scopes []Scope `json:"scopes"`
}

// KeySet is a set of API keys read from a keys file. It is immutable and
// safe for concurrent use.
type KeySet struct {
	keys []apiKey
}

// Keys lists the configured keys in file order.
func (ks *KeySet) Keys() []KeyInfo {
	out := make([]KeyInfo, len(ks.keys))
	for i, k := range ks.keys {
		out[i] = KeyInfo{Name: k.name, Scopes: slices.Clone(k.scopes)}
	}
	return out
}

// Len is the number of keys.
func (ks *KeySet) Len() int { return len(ks.keys) }

// HasName reports whether a key of that name is configured.
func (ks *KeySet) HasName(name string) bool {
	return slices.ContainsFunc(ks.keys, func(k apiKey) bool { return k.name == name })
}

// lookup returns the key whose digest is SHA-256(key), comparing with every
// configured digest in constant time.
func (ks *KeySet) lookup(key string) (*apiKey, bool) {
	d := sha256.Sum256([]byte(key))
	found := -1
	for i := range ks.keys {
		if subtle.ConstantTimeCompare(d[:], ks.keys[i].digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil, false
	}
	return &ks.keys[found], true
}

// LoadKeys reads a keys file (format in the package notes). A file with no
// keys is an error: a server started with it would refuse everything.
func LoadKeys(path string) (*KeySet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keys file: %w (create one with `patron keys new --name NAME --scopes recommend --keys-file %s`)", err, path)
	}
	defer f.Close()
	ks, err := ParseKeys(f, path)
	if err != nil {
		return nil, err
	}
	if ks.Len() == 0 {
		return nil, fmt.Errorf("keys file %s holds no keys; add one with `patron keys new --name NAME --scopes recommend --keys-file %s`", path, path)
	}
	return ks, nil
}

// maxKeysLine bounds a line of a keys file.
const maxKeysLine = 4096

// ParseKeys reads keys-file lines from r; name is the file name for errors.
func ParseKeys(r io.Reader, name string) (*KeySet, error) {
	ks := &KeySet{}
	names := map[string]int{}
	digests := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxKeysLine)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, err := parseKeyLine(text)
		if err != nil {
			return nil, fmt.Errorf("keys file %s line %d: %w", name, line, err)
		}
		if prev, ok := names[k.name]; ok {
			return nil, fmt.Errorf("keys file %s line %d: name %q is already used on line %d; names must be unique", name, line, k.name, prev)
		}
		if prev, ok := digests[k.digest]; ok {
			return nil, fmt.Errorf("keys file %s line %d: the same key hash is on line %d; give each key one line", name, line, prev)
		}
		names[k.name], digests[k.digest] = line, line
		ks.keys = append(ks.keys, k)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("keys file %s line %d: longer than %d bytes", name, line+1, maxKeysLine)
		}
		return nil, fmt.Errorf("keys file %s: %w", name, err)
	}
	return ks, nil
}

// parseKeyLine parses "name scope[,scope] sha256-hex".
func parseKeyLine(text string) (apiKey, error) {
	fields := strings.Fields(text)
	if len(fields) != 3 {
		return apiKey{}, fmt.Errorf("%d fields, want 3: name, scopes (comma-separated) and the key's SHA-256 in hex", len(fields))
	}
	var k apiKey
	if err := CheckKeyName(fields[0]); err != nil {
		return apiKey{}, err
	}
	k.name = fields[0]
	scopes, err := ParseScopes(fields[1])
	if err != nil {
		return apiKey{}, err
	}
	k.scopes = scopes
	for _, s := range scopes {
		b, _ := scopeBit(s)
		k.bits |= b
	}
	h := fields[2]
	if len(h) != 2*sha256.Size {
		return apiKey{}, fmt.Errorf("hash field is %d characters, want %d hex digits (the SHA-256 of the key, never the key itself)", len(h), 2*sha256.Size)
	}
	if _, err := hex.Decode(k.digest[:], []byte(h)); err != nil {
		return apiKey{}, fmt.Errorf("hash field is not hex: %w", err)
	}
	return k, nil
}

// CheckKeyName checks a key name: 1-64 letters, digits, '.', '_' or '-'.
func CheckKeyName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("key name %q: give 1 to 64 characters", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("key name %q: use only letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

// ParseScopes parses a comma-separated scope list such as
// "recommend,customers:read".
func ParseScopes(list string) ([]Scope, error) {
	var out []Scope
	for part := range strings.SplitSeq(list, ",") {
		s := Scope(strings.TrimSpace(part))
		if s == "" {
			return nil, fmt.Errorf("scopes %q: empty scope; separate scopes with single commas", list)
		}
		if _, ok := scopeBit(s); !ok {
			return nil, fmt.Errorf("unknown scope %q; scopes are %s", s, scopeList())
		}
		if slices.Contains(out, s) {
			return nil, fmt.Errorf("scopes %q: %s given twice", list, s)
		}
		out = append(out, s)
	}
	return out, nil
}

func scopeList() string {
	names := make([]string, len(Scopes))
	for i, s := range Scopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// HashKey returns the hex SHA-256 of key, as the keys file holds it.
func HashKey(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

// NewKey returns a new random API key: 32 bytes from crypto/rand, base64url
// without padding.
func NewKey() string {
	var b [32]byte
	rand.Read(b[:]) // never returns an error (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// FormatKeyLine returns the keys-file line for a key (no newline). name and
// scopes must be valid (CheckKeyName, ParseScopes).
func FormatKeyLine(name string, scopes []Scope, key string) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return name + " " + strings.Join(s, ",") + " " + HashKey(key)
}

// authHint tells a caller how to send a key.
const authHint = `send an API key as gRPC metadata "authorization: Bearer <key>" or the HTTP header "Authorization: Bearer <key>" (keys are made with ` + "`patron keys new`" + `)`

// authorizer checks calls against a key set and each key's rate limit.
// Without keys (keys nil) every call is admitted as the anonymous caller "",
// subject to the rate limit only.
type authorizer struct {
	keys    *KeySet
	log     *slog.Logger
	limiter *limiter               // nil: no rate limit
	limited *prometheus.CounterVec // calls refused by the limit, by key; may be nil
}

// check decides a call of fullMethod from the authorization metadata in ctx
// (put there by gRPC, or by the gateway from the HTTP header). It returns an
// UNAUTHENTICATED or PERMISSION_DENIED status, or nil.
func (a *authorizer) check(ctx context.Context, fullMethod string) error {
	need := RequiredScope(fullMethod)
	if need == "" {
		return nil
	}
	if a.keys == nil {
		return a.limit(ctx, fullMethod, "")
	}
	token, reason, err := bearerToken(ctx)
	if err != nil {
		return a.deny(ctx, fullMethod, "", reason, err)
	}
	k, ok := a.keys.lookup(token)
	if !ok {
		return a.deny(ctx, fullMethod, "", "unknown key",
			status.Error(codes.Unauthenticated, "the API key is not valid (unknown or revoked): "+authHint))
	}
	bit, _ := scopeBit(need)
	if k.bits&(bit|bitAdmin) == 0 {
		return a.deny(ctx, fullMethod, k.name, "missing scope",
			status.Errorf(codes.PermissionDenied, "API key %q (scopes: %s) may not call %s: it needs scope %q",
				k.name, joinScopes(k.scopes), strings.TrimPrefix(fullMethod, "/"), need))
	}
	if a.log.Enabled(ctx, slog.LevelDebug) {
		a.log.DebugContext(ctx, "request authorized", "key", k.name, "method", fullMethod)
	}
	return a.limit(ctx, fullMethod, k.name)
}

// bearerToken returns the key a call presents: its one "authorization"
// metadata value, "Bearer <key>". Otherwise it returns why not, for the
// log, and the UNAUTHENTICATED status to answer.
func bearerToken(ctx context.Context) (token, reason string, err error) {
	vals := metadata.ValueFromIncomingContext(ctx, "authorization")
	switch len(vals) {
	case 0:
		return "", "no key", status.Error(codes.Unauthenticated, "no API key: "+authHint)
	case 1:
		scheme, rest, ok := strings.Cut(vals[0], " ")
		token = strings.TrimSpace(rest)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
			return "", "malformed authorization value",
				status.Error(codes.Unauthenticated, `the authorization value is not "Bearer <key>": `+authHint)
		}
		return token, "", nil
	}
	return "", "several authorization values",
		status.Errorf(codes.Unauthenticated, "%d authorization values; send exactly one: %s", len(vals), authHint)
}

func (a *authorizer) deny(ctx context.Context, method, key, reason string, err error) error {
	if a.log.Enabled(ctx, slog.LevelDebug) {
		args := []any{"method", method, "reason", reason}
		if key != "" {
			args = append(args, "key", key)
		}
		a.log.DebugContext(ctx, "request refused", args...)
	}
	return err
}

func joinScopes(s []Scope) string {
	parts := make([]string, len(s))
	for i, sc := range s {
		parts[i] = string(sc)
	}
	return strings.Join(parts, ",")
}

// unary is the gRPC unary interceptor.
func (a *authorizer) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := a.check(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// stream is the gRPC stream interceptor (reflection and health watches are
// open; any other stream needs its scope like a unary call).
func (a *authorizer) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := a.check(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}

// restHeaderMatcher is the gateway's incoming header matcher: the default,
// except that no header but Authorization itself may become the
// "authorization" metadata (the gateway copies Authorization on its own).
func restHeaderMatcher(key string) (string, bool) {
	if strings.EqualFold(key, requestIDHeader) {
		return requestIDHeader, true // the request id travels with the call
	}
	h, ok := runtime.DefaultHeaderMatcher(key)
	if ok && strings.EqualFold(h, "authorization") {
		return "", false
	}
	return h, ok
}

// restErrorHandler is the gateway's error handler: the default, except that
// a 429 carries Retry-After (see ratelimit.go) and a 401 carries the RFC 6750 challenge `WWW-Authenticate: Bearer
// realm="patron"` (the default puts the error message there).
func restErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	switch st := status.Convert(err); st.Code() {
	case codes.Unauthenticated:
		w = challengeWriter{w}
	case codes.ResourceExhausted:
		setRetryAfter(w, st)
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// challengeWriter sets the Bearer challenge as the status line is written.
type challengeWriter struct{ http.ResponseWriter }

func (c challengeWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized {
		c.Header().Set("WWW-Authenticate", `Bearer realm="patron"`)
	}
	c.ResponseWriter.WriteHeader(code)
}

// guarded runs the access check for method, then f. The gateway's services
// call it (see guardServices), so REST calls pass the same check as gRPC's.
func guarded[Req, Resp any](ctx context.Context, a *authorizer, method string, req Req, f func(context.Context, Req) (Resp, error)) (Resp, error) {
	if err := a.check(ctx, method); err != nil {
		var zero Resp
		return zero, err
	}
	return f(ctx, req)
}

// guardServices returns the services the gateway calls: each method checks
// access, then calls api's. A method added to the API and not wrapped here
// answers UNIMPLEMENTED over REST (the embedded Unimplemented server), never
// without a check.
func guardServices(api services, a *authorizer) restServices {
	return restServices{
		models:    guardedModels{next: api.models, a: a},
		customers: guardedCustomers{next: api.customers, a: a},
		items:     guardedItems{next: api.items, a: a},
		recs:      guardedRecs{next: api.recs, a: a},
	}
}

// restServices are the service implementations the gateway calls.
type restServices struct {
	models    patronv1.ModelServiceServer
	customers patronv1.CustomerServiceServer
	items     patronv1.ItemServiceServer
	recs      patronv1.RecommendationServiceServer
}

type guardedModels struct {
	patronv1.UnimplementedModelServiceServer
	next patronv1.ModelServiceServer
	a    *authorizer
}

func (g guardedModels) GetActiveModel(ctx context.Context, r *patronv1.GetActiveModelRequest) (*patronv1.Model, error) {
	return guarded(ctx, g.a, patronv1.ModelService_GetActiveModel_FullMethodName, r, g.next.GetActiveModel)
}

func (g guardedModels) ListModels(ctx context.Context, r *patronv1.ListModelsRequest) (*patronv1.ListModelsResponse, error) {
	return guarded(ctx, g.a, patronv1.ModelService_ListModels_FullMethodName, r, g.next.ListModels)
}

type guardedCustomers struct {
	patronv1.UnimplementedCustomerServiceServer
	next patronv1.CustomerServiceServer
	a    *authorizer
}

func (g guardedCustomers) GetCustomer(ctx context.Context, r *patronv1.GetCustomerRequest) (*patronv1.Customer, error) {
	return guarded(ctx, g.a, patronv1.CustomerService_GetCustomer_FullMethodName, r, g.next.GetCustomer)
}

func (g guardedCustomers) GetCustomerValue(ctx context.Context, r *patronv1.GetCustomerValueRequest) (*patronv1.CustomerValue, error) {
	return guarded(ctx, g.a, patronv1.CustomerService_GetCustomerValue_FullMethodName, r, g.next.GetCustomerValue)
}

func (g guardedCustomers) BatchGetCustomerValues(ctx context.Context, r *patronv1.BatchGetCustomerValuesRequest) (*patronv1.BatchGetCustomerValuesResponse, error) {
	return guarded(ctx, g.a, patronv1.CustomerService_BatchGetCustomerValues_FullMethodName, r, g.next.BatchGetCustomerValues)
}

func (g guardedCustomers) ListCustomers(ctx context.Context, r *patronv1.ListCustomersRequest) (*patronv1.ListCustomersResponse, error) {
	return guarded(ctx, g.a, patronv1.CustomerService_ListCustomers_FullMethodName, r, g.next.ListCustomers)
}

func (g guardedCustomers) GetCustomerChurn(ctx context.Context, r *patronv1.GetCustomerChurnRequest) (*patronv1.CustomerChurn, error) {
	return guarded(ctx, g.a, patronv1.CustomerService_GetCustomerChurn_FullMethodName, r, g.next.GetCustomerChurn)
}

func (g guardedCustomers) BatchGetCustomerChurn(ctx context.Context, r *patronv1.BatchGetCustomerChurnRequest) (*patronv1.BatchGetCustomerChurnResponse, error) {
	return guarded(ctx, g.a, patronv1.CustomerService_BatchGetCustomerChurn_FullMethodName, r, g.next.BatchGetCustomerChurn)
}

func (g guardedCustomers) ForgetCustomer(ctx context.Context, r *patronv1.ForgetCustomerRequest) (*patronv1.ForgetCustomerResponse, error) {
	return guarded(ctx, g.a, patronv1.CustomerService_ForgetCustomer_FullMethodName, r, g.next.ForgetCustomer)
}

type guardedItems struct {
	patronv1.UnimplementedItemServiceServer
	next patronv1.ItemServiceServer
	a    *authorizer
}

func (g guardedItems) GetItem(ctx context.Context, r *patronv1.GetItemRequest) (*patronv1.Item, error) {
	return guarded(ctx, g.a, patronv1.ItemService_GetItem_FullMethodName, r, g.next.GetItem)
}

type guardedRecs struct {
	patronv1.UnimplementedRecommendationServiceServer
	next patronv1.RecommendationServiceServer
	a    *authorizer
}

func (g guardedRecs) GetRecommendations(ctx context.Context, r *patronv1.GetRecommendationsRequest) (*patronv1.RecommendationsResponse, error) {
	return guarded(ctx, g.a, patronv1.RecommendationService_GetRecommendations_FullMethodName, r, g.next.GetRecommendations)
}

func (g guardedRecs) GetSimilarItems(ctx context.Context, r *patronv1.GetSimilarItemsRequest) (*patronv1.RecommendationsResponse, error) {
	return guarded(ctx, g.a, patronv1.RecommendationService_GetSimilarItems_FullMethodName, r, g.next.GetSimilarItems)
}

func (g guardedRecs) RecommendBasket(ctx context.Context, r *patronv1.RecommendBasketRequest) (*patronv1.RecommendationsResponse, error) {
	return guarded(ctx, g.a, patronv1.RecommendationService_RecommendBasket_FullMethodName, r, g.next.RecommendBasket)
}

func (g guardedRecs) ListPopularItems(ctx context.Context, r *patronv1.ListPopularItemsRequest) (*patronv1.RecommendationsResponse, error) {
	return guarded(ctx, g.a, patronv1.RecommendationService_ListPopularItems_FullMethodName, r, g.next.ListPopularItems)
}
