package serving

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/patron-crm/patron/models/registry"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// cacheSeries reads the bundle cache counters of cache from a /metrics page;
// ok is false when the page has no such series.
func cacheSeries(t *testing.T, page, cache string) (hits, misses float64, ok bool) {
	t.Helper()
	read := func(name string) (float64, bool) {
		m := regexp.MustCompile(`(?m)^` + name + `\{cache="` + cache + `"\} (\S+)$`).FindStringSubmatch(page)
		if m == nil {
			return 0, false
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatalf("%s{cache=%q}: %v", name, cache, err)
		}
		return v, true
	}
	hits, okh := read("patron_bundle_cache_hits_total")
	misses, okm := read("patron_bundle_cache_misses_total")
	if okh != okm {
		t.Fatalf("cache %s: hits series %v, misses series %v; want both or neither", cache, okh, okm)
	}
	return hits, misses, okh
}

// TestCacheMetrics: /metrics shows the served bundle's Badger block cache
// lookups, which grow with requests that read the bundle; the index cache
// shows only for an encrypted bundle (others keep indexes in memory), and
// no bundle gives no cache series.
func TestCacheMetrics(t *testing.T) {
	for _, tc := range []struct {
		name  string
		key   []byte
		index bool
	}{{"plain", nil, false}, {"encrypted", []byte("0123456789abcdef0123456789abcdef"), true}} {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := registry.Open(t.TempDir(), registry.Options{EncryptionKey: tc.key})
			if err != nil {
				t.Fatal(err)
			}
			ts := start(t, reg, Options{Poll: time.Hour})
			code, page := ts.get(t, "/metrics")
			if code != 200 {
				t.Fatalf("/metrics %d", code)
			}
			if _, _, ok := cacheSeries(t, string(page), "block"); ok {
				t.Fatalf("cache series before any bundle is loaded:\n%s", page)
			}

			m := train(t, reg, ordersV1, false)
			ts.checkNow(t)
			ts.waitVersion(t, m.Version)
			_, page = ts.get(t, "/metrics")
			h0, m0, ok := cacheSeries(t, string(page), "block")
			if !ok {
				t.Fatalf("no block cache series with bundle v%d loaded:\n%s", m.Version, page)
			}
			// Every read of a customer looks up table blocks; loading the
			// bundle already read them once (its checks probe every table),
			// so reads now hit. Ristretto admits blocks asynchronously, so
			// the test retries for a while rather than expect the first to.
			deadline := time.Now().Add(5 * time.Second)
			for {
				for range 5 {
					for _, id := range []string{"c1", "c2", "no-such-customer"} {
						ts.customers().GetCustomer(context.Background(), &patronv1.GetCustomerRequest{CustomerId: id})
					}
				}
				if code, _ := ts.get(t, "/v1/customers/c1"); code != 200 {
					t.Fatalf("REST GetCustomer %d", code)
				}
				_, page = ts.get(t, "/metrics")
				h, mi, _ := cacheSeries(t, string(page), "block")
				if h > h0 && mi >= m0 && h0+m0 > 0 {
					t.Logf("block cache: %v hits, %v misses after the requests (%v, %v before)", h, mi, h0, m0)
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("block cache hits did not grow with requests: hits %v -> %v, misses %v -> %v", h0, h, m0, mi)
				}
			}
			// Recommendations for a customer read their history once, then
			// from the history cache.
			for range 3 {
				if code, _ := ts.get(t, "/v1/customers/c1/recommendations"); code != 200 {
					t.Fatalf("REST recommendations %d", code)
				}
			}
			_, page = ts.get(t, "/metrics")
			if h, mi, ok := cacheSeries(t, string(page), "histories"); !ok || h != 2 || mi != 1 {
				t.Fatalf("history cache: %v hits, %v misses (series %v); want 2 and 1", h, mi, ok)
			}
			_, _, ok = cacheSeries(t, string(page), "index")
			if ok != tc.index {
				t.Fatalf("index cache series present %v, want %v:\n%s", ok, tc.index, page)
			}
			if ok {
				if h, mi, _ := cacheSeries(t, string(page), "index"); h+mi == 0 {
					t.Errorf("index cache of an encrypted bundle looked nothing up")
				}
			}
		})
	}
}
