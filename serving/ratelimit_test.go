package serving

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// fakeClock is a settable clock for the limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestLimiterTokenBucket(t *testing.T) {
	type step struct {
		advance time.Duration
		key     string
		ok      bool
		wait    time.Duration // when refused
	}
	for _, c := range []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{"burst then refill", 2, 3, []step{
			{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0},
			{0, "a", false, 500 * time.Millisecond},
			{250 * time.Millisecond, "a", false, 250 * time.Millisecond},
			{250 * time.Millisecond, "a", true, 0},
			{0, "a", false, 500 * time.Millisecond},
		}},
		{"keys have their own buckets", 1, 1, []step{
			{0, "a", true, 0}, {0, "a", false, time.Second},
			{0, "b", true, 0}, {0, "b", false, time.Second},
		}},
		{"a long pause refills to the burst only", 10, 2, []step{
			{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, 100 * time.Millisecond},
			{time.Hour, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, 100 * time.Millisecond},
		}},
		{"burst 0 is one second's worth", 3, 0, []step{
			{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, time.Second / 3},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			l := newLimiter(c.rate, c.burst, clock.now)
			for i, s := range c.steps {
				clock.advance(s.advance)
				ok, wait := l.allow(s.key)
				if ok != s.ok || (wait-s.wait).Abs() > time.Millisecond {
					t.Errorf("step %d (key %s): allow = %v, %v; want %v, %v", i, s.key, ok, wait, s.ok, s.wait)
				}
			}
		})
	}
	if newLimiter(0, 10, nil) != nil {
		t.Error("rate 0 should mean no limiter")
	}
}

func TestRateLimitPerKey(t *testing.T) {
	reg := openRegistry(t)
	m := train(t, reg, ordersV1, false)
	clock := &fakeClock{t: time.Now()}
	ts := start(t, reg, Options{Keys: testKeySet(t), RateLimit: 0.5, RateBurst: 2, Clock: clock.now, Poll: time.Hour})
	ts.waitVersion(t, m.Version)
	crm := withKey(keyFor("crm"))
	req := &patronv1.GetCustomerRequest{CustomerId: "c1"}

	// Two calls in a burst (one gRPC, one REST: they share the bucket).
	if _, err := ts.customers().GetCustomer(crm, req); err != nil {
		t.Fatal(err)
	}
	if resp, body := ts.rest(t, "GET", "/v1/customers/c1", "", "Authorization: Bearer "+keyFor("crm")); resp.StatusCode != http.StatusOK {
		t.Fatalf("second call: %d %s", resp.StatusCode, body)
	}
	// The third is refused on both transports.
	_, err := ts.customers().GetCustomer(crm, req)
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), `API key "crm" is over the rate limit of 0.5 requests/s`) {
		t.Fatalf("third gRPC call: %v, want RESOURCE_EXHAUSTED naming the key and limit", err)
	}
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retry = ri
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() != 2*time.Second {
		t.Errorf("RetryInfo = %v, want a 2s delay", retry)
	}
	resp, body := ts.rest(t, "GET", "/v1/customers/c1", "", "Authorization: Bearer "+keyFor("crm"))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("REST over the limit: %d Retry-After %q %s, want 429 with Retry-After 2", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}

	// Other keys are unaffected; health is never limited.
	if _, err := ts.items().GetItem(withKey(keyFor("shop1")), &patronv1.GetItemRequest{ItemId: "i1"}); err != nil {
		t.Errorf("another key: %v", err)
	}
	for range 5 {
		if _, err := healthpb.NewHealthClient(ts.conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Errorf("health: %v", err)
		}
	}
	// A wrong key is refused as UNAUTHENTICATED, not counted against anyone.
	if _, err := ts.customers().GetCustomer(withKey("bogus"), req); status.Code(err) != codes.Unauthenticated {
		t.Errorf("bogus key: %v, want UNAUTHENTICATED", err)
	}

	// Two seconds later one token is back.
	clock.advance(2 * time.Second)
	if _, err := ts.customers().GetCustomer(crm, req); err != nil {
		t.Errorf("after refill: %v", err)
	}
	if _, err := ts.customers().GetCustomer(crm, req); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("after refill, second call: %v, want RESOURCE_EXHAUSTED", err)
	}
	if got := family(t, ts.Server, "patron_rate_limited_total").GetMetric(); len(got) != 1 || labels(got[0]) != "key=crm" || got[0].GetCounter().GetValue() != 3 {
		t.Errorf("patron_rate_limited_total = %v, want 3 for key crm", got)
	}
}

func TestRateLimitWithoutKeys(t *testing.T) {
	reg := openRegistry(t)
	m := train(t, reg, ordersV1, false)
	clock := &fakeClock{t: time.Now()}
	ts := start(t, reg, Options{RateLimit: 1, RateBurst: 1, Clock: clock.now, Poll: time.Hour})
	ts.waitVersion(t, m.Version)
	if code, body := ts.get(t, "/v1/items/i1"); code != http.StatusOK {
		t.Fatalf("first call: %d %s", code, body)
	}
	code, body := ts.get(t, "/v1/items/i1")
	if code != http.StatusTooManyRequests || !strings.Contains(string(body), "this server's callers are over the rate limit") {
		t.Errorf("second call: %d %s, want 429", code, body)
	}
	if _, err := ts.items().GetItem(context.Background(), &patronv1.GetItemRequest{ItemId: "i1"}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC call sharing the bucket: %v, want RESOURCE_EXHAUSTED", err)
	}
	if code, _ := ts.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
}
