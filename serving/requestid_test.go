package serving

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// TestRequestIDs: every call gets a request id, the caller's when it is a
// sane token, sent back and logged with the method and status.
func TestRequestIDs(t *testing.T) {
	ts := start(t, openRegistry(t), Options{})
	ctx := context.Background()

	// gRPC, with the caller's id and without one.
	for _, tc := range []struct{ sent, want string }{{"order-4711", "order-4711"}, {"", ""}, {"bad id with spaces", ""}} {
		var header metadata.MD
		c := ctx
		if tc.sent != "" {
			c = metadata.AppendToOutgoingContext(ctx, "x-request-id", tc.sent)
		}
		ts.models().ListModels(c, &patronv1.ListModelsRequest{}, grpc.Header(&header))
		got := header.Get("x-request-id")
		if len(got) != 1 || (tc.want != "" && got[0] != tc.want) || (tc.want == "" && len(got[0]) != 16) {
			t.Fatalf("gRPC sent %q: got %v", tc.sent, got)
		}
		if !strings.Contains(ts.logs.String(), "request_id="+got[0]) || !strings.Contains(ts.logs.String(), "method=/patron.v1.ModelService/ListModels") {
			t.Fatalf("gRPC request %s not logged:\n%s", got[0], ts.logs.String())
		}
	}

	// REST.
	for _, tc := range []struct{ sent, want string }{{"abc.123", "abc.123"}, {"", ""}} {
		req, _ := http.NewRequest(http.MethodGet, ts.base+"/v1/models", nil)
		if tc.sent != "" {
			req.Header.Set("X-Request-Id", tc.sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("X-Request-Id")
		if (tc.want != "" && got != tc.want) || (tc.want == "" && len(got) != 16) {
			t.Fatalf("REST sent %q: got %q", tc.sent, got)
		}
		if !strings.Contains(ts.logs.String(), "request_id="+got) {
			t.Fatalf("REST request %s not logged", got)
		}
	}
}
