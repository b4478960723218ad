package serving

// Per-key rate limits.
//
// Each API key has its own token bucket (Options.RateLimit tokens a second,
// holding at most Options.RateBurst): a call takes one token, and a call
// finding the bucket empty is refused with RESOURCE_EXHAUSTED (HTTP 429),
// whose message and google.rpc.RetryInfo detail say when a token will be
// there; over REST the same wait is the Retry-After header (whole seconds,
// rounded up). gRPC and REST calls of a key share its bucket. Without keys
// (Options.InsecureNoAuth) every caller shares one bucket. Open methods
// (health, reflection, /openapi.json) are never limited.
//
// Buckets are keyed by key name, so their number is bounded by the keys
// file; a bucket costs one mutex-guarded map lookup per call.

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// limiter holds one token bucket per key name.
type limiter struct {
	rate  float64 // tokens per second
	burst float64 // bucket size
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// newLimiter returns a limiter of rate calls a second per key with bursts of
// burst calls (0: one second's worth, at least 1), or nil when rate is 0.
func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if burst <= 0 {
		b = max(1, math.Ceil(rate))
	}
	if now == nil {
		now = time.Now
	}
	return &limiter{rate: rate, burst: b, now: now, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket. When there is none it returns
// false and how long until there is one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// limit applies key's rate limit to a call of method; key is the key's name
// ("" without keys). It returns a RESOURCE_EXHAUSTED status or nil.
func (a *authorizer) limit(ctx context.Context, method, key string) error {
	if a.limiter == nil {
		return nil
	}
	ok, wait := a.limiter.allow(key)
	if ok {
		return nil
	}
	if a.limited != nil {
		a.limited.WithLabelValues(key).Inc()
	}
	who := "this server's callers are"
	if key != "" {
		who = fmt.Sprintf("API key %q is", key)
	}
	st := status.Newf(codes.ResourceExhausted, "%s over the rate limit of %g requests/s (bursts of %g); retry after %s",
		who, a.limiter.rate, a.limiter.burst, wait.Round(time.Millisecond))
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); err == nil {
		st = d
	}
	return a.deny(ctx, method, key, "rate limited", st.Err())
}

// setRetryAfter sets the Retry-After header (whole seconds, at least 1) from
// the RetryInfo detail of a RESOURCE_EXHAUSTED status.
func setRetryAfter(w http.ResponseWriter, st *status.Status) {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			secs := max(1, int(math.Ceil(ri.GetRetryDelay().AsDuration().Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			return
		}
	}
}
