package serving

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// recommendationsPath is the REST route storefronts call on every page.
const recommendationsPath = "/v1/customers/{customer_id}/recommendations"

// fastRecommendations answers GET recommendationsPath as the generated
// gateway handler does (the same path and query parsing, access check,
// errors and response writing, through the same mux and its middlewares),
// but passes the service only the metadata it reads, the Authorization
// values, instead of converting every request header to gRPC metadata:
// that conversion was a fifth of a REST recommendation's cost; and it
// writes the JSON from buffers kept between calls. A test compares the two
// handlers' answers for good and bad requests.
func fastRecommendations(gw *runtime.ServeMux, recs patronv1.RecommendationServiceServer) runtime.HandlerFunc {
	filter := utilities.NewDoubleArray([][]string{{"customer_id"}})
	// Response buffers (a response is about 2 KB).
	buffers := &sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		_, out := runtime.MarshalerForRequest(gw, r)
		ctx, cancel, err := restCallContext(r)
		if err != nil {
			runtime.HTTPError(r.Context(), gw, out, w, r, err)
			return
		}
		defer cancel()
		req := &patronv1.GetRecommendationsRequest{CustomerId: params["customer_id"]}
		if err := r.ParseForm(); err != nil {
			runtime.HTTPError(ctx, gw, out, w, r, status.Errorf(codes.InvalidArgument, "%v", err))
			return
		}
		if err := runtime.PopulateQueryParameters(req, r.Form, filter); err != nil {
			runtime.HTTPError(ctx, gw, out, w, r, status.Errorf(codes.InvalidArgument, "%v", err))
			return
		}
		resp, err := recs.GetRecommendations(ctx, req)
		ctx = runtime.NewServerMetadataContext(ctx, runtime.ServerMetadata{})
		if err != nil {
			runtime.HTTPError(ctx, gw, out, w, r, err)
			return
		}
		if m, ok := out.(restMarshaler); ok && len(r.Header["Te"]) == 0 && validUTF8(resp) {
			// What ForwardResponseMessage does for a call without server
			// metadata or trailers, with the JSON in a reused buffer.
			w.Header().Set("Content-Type", m.ContentType(resp))
			bp := buffers.Get().(*[]byte)
			*bp = appendRecommendations((*bp)[:0], resp)
			w.Write(*bp)
			if cap(*bp) <= 64<<10 {
				buffers.Put(bp)
			}
			return
		}
		runtime.ForwardResponseMessage(ctx, gw, out, w, r, resp)
	}
}

// restCallContext is the context the gateway would give a call of r, as
// far as the services read it: the Authorization values that are valid
// metadata as "authorization", and the deadline of a Grpc-Timeout header
// (a malformed one is INVALID_ARGUMENT, as in the gateway).
func restCallContext(r *http.Request) (context.Context, context.CancelFunc, error) {
	ctx := r.Context()
	vals := r.Header.Values("Authorization")
	valid := vals[:0:0]
	for k, v := range vals {
		if !validMetadataText(v) {
			continue
		}
		if len(valid) == k { // all valid so far: no copy
			valid = vals[:k+1]
		} else {
			valid = append(valid[:len(valid):len(valid)], v)
		}
	}
	if len(valid) > 0 {
		ctx = metadata.NewIncomingContext(ctx, metadata.MD{"authorization": valid})
	}
	if tm := r.Header.Get("Grpc-Timeout"); tm != "" {
		d, ok := decodeGRPCTimeout(tm)
		if !ok {
			return nil, nil, status.Errorf(codes.InvalidArgument, "invalid grpc-timeout: %s", tm)
		}
		if d != 0 {
			ctx, cancel := context.WithTimeout(ctx, d)
			return ctx, cancel, nil
		}
	}
	return ctx, func() {}, nil
}

// validMetadataText reports whether v may be a gRPC metadata text value:
// printable ASCII only.
func validMetadataText(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// decodeGRPCTimeout parses a grpc-timeout value as the gateway does:
// digits and a unit, H M S m u or n; a duration too long for time.Duration
// is the longest one.
func decodeGRPCTimeout(s string) (time.Duration, bool) {
	if len(s) < 2 {
		return 0, false
	}
	unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second,
		'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond}[s[len(s)-1]]
	if unit == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(s[:len(s)-1], 10, 64)
	if err != nil {
		return 0, false
	}
	if n > uint64(math.MaxInt64)/uint64(unit) {
		return math.MaxInt64, true
	}
	return time.Duration(n) * unit, true
}
