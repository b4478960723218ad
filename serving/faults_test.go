package serving

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/patron-crm/patron/models/registry"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// TestWrongEncryptionKey: a server given the wrong key (or none) for an
// encrypted bundle refuses it with a reason a person can act on, stays up,
// answers health, and serves once a bundle it can read is active.
func TestWrongEncryptionKey(t *testing.T) {
	dir := t.TempDir()
	key := []byte("0123456789abcdef0123456789abcdef")
	enc, err := registry.Open(dir, registry.Options{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	train(t, enc, ordersV1, false)

	for _, tc := range []struct {
		name string
		key  []byte
	}{{"no key", nil}, {"wrong key", []byte("fedcba9876543210fedcba9876543210")}} {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := registry.Open(dir, registry.Options{EncryptionKey: tc.key})
			if err != nil {
				t.Fatal(err)
			}
			ts := start(t, reg, Options{})
			ts.checkNow(t)
			_, err = ts.customers().GetCustomer(context.Background(), &patronv1.GetCustomerRequest{CustomerId: "c1"})
			checkGRPCError(t, err, codes.Unavailable, "encryption key")
			if code, _ := ts.get(t, "/healthz"); code != 200 {
				t.Fatalf("/healthz %d while the bundle is refused", code)
			}
			if code, body := ts.get(t, "/readyz"); code != 503 || !strings.Contains(string(body), "key") {
				t.Fatalf("/readyz %d %s, want 503 naming the key", code, body)
			}
		})
	}
	// With the right key the same data directory serves.
	ts := start(t, enc, Options{})
	ts.checkNow(t)
	if c, err := ts.customers().GetCustomer(context.Background(), &patronv1.GetCustomerRequest{CustomerId: "c1"}); err != nil || c.OrderCount == 0 {
		t.Fatalf("right key: %v %v", c, err)
	}
}
