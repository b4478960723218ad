package serving

// Prometheus metrics, served at /metrics on the HTTP listener.
//
// Each Server has its own prometheus.Registry (no global state: two servers
// in one process, as in tests, never share or clash). What is measured:
//
//	patron_grpc_request_duration_seconds{method,code}   gRPC calls, by full method and status code
//	patron_http_request_duration_seconds{route,code}    REST and probe calls, by route pattern and HTTP status
//	patron_model_version                                version of the bundle being served (0: none)
//	patron_model_age_seconds                            seconds since the served bundle's as-of date
//	patron_model_created_age_seconds                    seconds since the served bundle was trained
//	patron_bundle_load_duration_seconds                 time to open and check a bundle
//	patron_bundle_loads_total, patron_bundle_refusals_total
//	patron_rate_limited_total{key}                      calls refused by a key's rate limit
//	patron_bundle_cache_hits_total{cache}               lookups the served bundle's caches answered (block, index, histories)
//	patron_bundle_cache_misses_total{cache}             lookups they did not
//
// plus the Go runtime and process collectors. Labels are bounded: REST
// calls are labelled by the gateway's route pattern
// ("GET /v1/customers/{customer_id=*}"), never by the raw path, and paths no
// route matches share the label "unmatched"; gRPC methods are the
// registered ones (gRPC answers unknown methods before interceptors run).

import (
	"context"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// metricsMethod is the pseudo gRPC method /metrics is authorized as. It is
// not in the scope table, so it needs admin (the table fails closed).
const metricsMethod = "/patron.ops/Metrics"

// pprofMethod is the pseudo method /debug/pprof/ is authorized as: like
// metrics, outside the scope table, so only admin keys reach it.
const pprofMethod = "/patron.ops/Pprof"

// pprofHandler serves Go's profiles (net/http/pprof) on a private mux.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// latencyBuckets cover serving reads (tens of microseconds) to slow batch
// calls (seconds).
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// metrics holds a server's collectors and their registry.
type metrics struct {
	reg          *prometheus.Registry
	grpcLatency  *prometheus.HistogramVec
	httpLatency  *prometheus.HistogramVec
	modelVersion prometheus.Gauge
	loadDuration prometheus.Histogram
	loads        prometheus.Counter
	refusals     prometheus.Counter
	rateLimited  *prometheus.CounterVec
}

// newMetrics registers the collectors; s gives the served bundle's dates.
func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		grpcLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "patron_grpc_request_duration_seconds", Help: "Latency of gRPC calls by full method and status code.", Buckets: latencyBuckets,
		}, []string{"method", "code"}),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "patron_http_request_duration_seconds", Help: "Latency of HTTP calls by route pattern and status code.", Buckets: latencyBuckets,
		}, []string{"route", "code"}),
		modelVersion: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "patron_model_version", Help: "Version of the model bundle being served; 0 when none is loaded.",
		}),
		loadDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "patron_bundle_load_duration_seconds", Help: "Time to open and check a model bundle.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10, 30},
		}),
		loads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "patron_bundle_loads_total", Help: "Model bundles loaded and served.",
		}),
		refusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "patron_bundle_refusals_total", Help: "Model bundles refused (corrupt or incompatible); the previous one kept serving.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patron_rate_limited_total", Help: "Calls refused because the API key exceeded its rate limit, by key name.",
		}, []string{"key"}),
	}
	age := func(at func(l *loadedBundle) time.Time) func() float64 {
		return func() float64 {
			l := s.cur.acquire()
			if l == nil {
				return 0
			}
			defer s.release(l)
			return time.Since(at(l)).Seconds()
		}
	}
	m.reg.MustRegister(m.grpcLatency, m.httpLatency, m.modelVersion, m.loadDuration, m.loads, m.refusals, m.rateLimited,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "patron_model_age_seconds", Help: "Seconds since the as-of (training cut-off) date of the bundle being served; 0 when none is loaded.",
		}, age(func(l *loadedBundle) time.Time { return l.manifest.AsOf })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "patron_model_created_age_seconds", Help: "Seconds since the bundle being served was trained; 0 when none is loaded.",
		}, age(func(l *loadedBundle) time.Time { return l.manifest.CreatedAt })),
		cacheCollector{s},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

var (
	cacheHitsDesc = prometheus.NewDesc("patron_bundle_cache_hits_total",
		"Lookups in the caches of the bundle being served that found what they looked for, by cache (block: Badger's table blocks; index: Badger's table indexes, encrypted bundles only; histories: decoded customer histories of recommendation requests). Starts at 0 with every bundle loaded.",
		[]string{"cache"}, nil)
	cacheMissesDesc = prometheus.NewDesc("patron_bundle_cache_misses_total",
		"Lookups in the caches of the bundle being served that missed (read from Badger, or from disk for Badger's caches), by cache. Starts at 0 with every bundle loaded.",
		[]string{"cache"}, nil)
)

// cacheCollector reads the served bundle's cache counts at scrape time.
// Badger keeps the counts per database, so they restart from 0 when a new
// bundle is loaded (a counter reset, which rate() and increase() handle).
// A cache the bundle does not have (the index cache of an unencrypted
// bundle), or no bundle at all, gives no series.
type cacheCollector struct{ s *Server }

func (c cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cacheHitsDesc
	ch <- cacheMissesDesc
}

func (c cacheCollector) Collect(ch chan<- prometheus.Metric) {
	l := c.s.cur.acquire()
	if l == nil {
		return
	}
	defer c.s.release(l)
	st := l.bundle.CacheStats()
	add := func(on bool, name string, hits, misses uint64) {
		if !on {
			return
		}
		ch <- prometheus.MustNewConstMetric(cacheHitsDesc, prometheus.CounterValue, float64(hits), name)
		ch <- prometheus.MustNewConstMetric(cacheMissesDesc, prometheus.CounterValue, float64(misses), name)
	}
	add(st.BlockCache, "block", st.BlockHits, st.BlockMisses)
	add(st.IndexCache, "index", st.IndexHits, st.IndexMisses)
	if hs, ok := l.recs.HistoryCacheStats(); ok {
		add(true, "histories", hs.Hits, hs.Misses)
	}
}

// unary is the gRPC interceptor timing every unary call.
func (m *metrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	m.grpcLatency.WithLabelValues(info.FullMethod, status.Code(err).String()).Observe(time.Since(start).Seconds())
	return resp, err
}

// stream times streams (reflection, health watches) from open to close.
func (m *metrics) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	m.grpcLatency.WithLabelValues(info.FullMethod, status.Code(err).String()).Observe(time.Since(start).Seconds())
	return err
}

// gatewayRoute is a gateway middleware that records the matched route
// pattern for the HTTP metrics in the response writer instrument passed
// down (the gateway hands middlewares the writer it was given).
//
// The gateway wraps each route's handler in its own copy of the middleware,
// so a copy sees one route only and builds its label once. The label keeps
// the request's method, which is not always the route's: the gateway hands
// a form-encoded POST to the GET handler of its path. So the kept label
// serves requests of the method it was built for, and others build their own.
func gatewayRoute(next runtime.HandlerFunc) runtime.HandlerFunc {
	type label struct{ method, text string }
	var route atomic.Pointer[label]
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if sw, ok := w.(*statusWriter); ok {
			if p := route.Load(); p != nil && p.method == r.Method {
				sw.route = p.text
			} else if pat, ok := runtime.HTTPPattern(r.Context()); ok {
				l := &label{r.Method, r.Method + " " + pat.String()}
				if p == nil {
					route.Store(l)
				}
				sw.route = l.text
			}
		}
		next(w, r, params)
	}
}

// fixedRoutes are the paths served outside the gateway, labelled as is.
var fixedRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/openapi.json": true, "/metrics": true}

// instrument serves /metrics (admin only when keys are on) and times every
// other HTTP call by route.
func (s *Server) instrument(next http.Handler) http.Handler {
	metricsHandler := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	profiles := pprofHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := httpRequestID(w, r)
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK, route: "unmatched"}
		if fixedRoutes[r.URL.Path] {
			sw.route = r.URL.Path
		}
		switch {
		case r.URL.Path == "/metrics":
			if s.checkHTTP(sw, r, metricsMethod) && methodGetOrHead(sw, r) {
				metricsHandler.ServeHTTP(sw, r)
			}
		case strings.HasPrefix(r.URL.Path, "/debug/pprof/"):
			sw.route = "/debug/pprof/"
			if s.checkHTTP(sw, r, pprofMethod) {
				profiles.ServeHTTP(sw, r)
			}
		default:
			next.ServeHTTP(sw, r)
		}
		code := httpCodeText(sw.code)
		s.metrics.httpLatency.WithLabelValues(sw.route, code).Observe(time.Since(start).Seconds())
		if fault := sw.code >= 500; s.logEnabled(r.Context(), fault) {
			s.logRequest(r.Context(), id, r.Method+" "+sw.route, code, fault, time.Since(start))
		}
	})
}

// checkHTTP runs the access check for a plain HTTP endpoint (one outside
// the gateway) as the call of method, and answers the refusal when it
// fails. It reports whether the call may go on.
func (s *Server) checkHTTP(w http.ResponseWriter, r *http.Request, method string) bool {
	if s.auth == nil || s.auth.keys == nil {
		return true
	}
	err := s.auth.check(withAuthorization(r.Context(), r), method)
	if err == nil {
		return true
	}
	st := status.Convert(err)
	code := runtime.HTTPStatusFromCode(st.Code())
	if st.Code() == codes.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="patron"`)
	}
	writeJSON(w, code, map[string]any{"code": int(st.Code()), "message": st.Message()})
	return false
}

// statusWriter remembers the status code written, and carries the route
// label from gatewayRoute back to instrument.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
	route string
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (flush).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// httpCodeText is strconv.Itoa(code) without an allocation for the codes
// the server answers.
func httpCodeText(code int) string {
	switch code {
	case http.StatusOK:
		return "200"
	case http.StatusBadRequest:
		return "400"
	case http.StatusUnauthorized:
		return "401"
	case http.StatusForbidden:
		return "403"
	case http.StatusNotFound:
		return "404"
	case http.StatusTooManyRequests:
		return "429"
	case http.StatusServiceUnavailable:
		return "503"
	}
	return strconv.Itoa(code)
}
