// Package serving answers queries from the active model bundle over gRPC and
// REST, and switches to a new bundle when one is activated.
//
// A Server watches the registry's ACTIVE pointer (a small file, polled once a
// second by default). When it names a new version, the server opens that
// bundle read-only, checks it (format, tables, a probe read of each table)
// and swaps it in with an atomic pointer; requests already running finish on
// the bundle they started with, and the old bundle is closed when the last of
// them is done. A bundle that fails the checks is refused with a logged reason
// and the previous one keeps serving. TensorFlow Serving's model lifecycle is
// the example followed.
//
// REST is grpc-gateway registered in-process (handlers call the gRPC service
// methods directly, with no network hop), beside /healthz, /readyz and
// /openapi.json.
//
// # Access control
//
// Calls carry an API key ("authorization: Bearer <key>" metadata over gRPC,
// the Authorization header over REST) whose scopes must cover the method:
// recommend (recommendations and items), customers:read (CustomerService) or
// admin (everything, ModelService included). Keys are configured from a file
// of SHA-256 hashes (LoadKeys). Health, reflection and /openapi.json are open.
// A server runs without keys only when Options.InsecureNoAuth says so. The
// design, the keys file format and how REST headers reach the check are
// described at the top of auth.go.
//
// # Operations
//
// Prometheus metrics are served at /metrics (admin only with keys; see
// metrics.go), each key has a token-bucket rate limit when Options.RateLimit
// is set (ratelimit.go), and Options.TLS puts both listeners behind TLS
// (tls.go). Customers forgotten on request are answered as unknown as soon
// as the data directory's suppression list names them (privacy.go).
package serving

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/patron-crm/patron/models/privacy"
	"github.com/patron-crm/patron/models/recommend"
	"github.com/patron-crm/patron/models/registry"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// Poll is how often the ACTIVE pointer is checked (default 1s).
	Poll time.Duration
	// Logger receives lifecycle events: bundles loaded, refused and closed,
	// listening addresses, shutdown (default: slog.Default()).
	Logger *slog.Logger
	// MaxRequestBytes bounds a request body, REST or gRPC (default 1 MiB).
	MaxRequestBytes int64
	// ShutdownTimeout bounds the graceful part of shutdown; requests still
	// running after it are cut off (default 10s).
	ShutdownTimeout time.Duration
	// Keys are the API keys callers must present (see auth.go). Serve
	// refuses to start without keys unless InsecureNoAuth is set.
	Keys *KeySet
	// InsecureNoAuth serves every caller without a key: for local demos
	// and tests only (the patron command allows it on loopback only).
	InsecureNoAuth bool
	// RateLimit is the calls per second each API key may make (0: no
	// limit); without keys all callers share one limit (see ratelimit.go).
	RateLimit float64
	// RateBurst is how many calls a key may make at once above RateLimit
	// (0: one second's worth).
	RateBurst int
	// HistoryCacheBytes bounds the cache of recently read customer
	// histories of each served bundle (0: recommend.DefaultHistoryCacheBytes;
	// negative: none).
	HistoryCacheBytes int64
	// Clock is the time source of the rate limits (default time.Now).
	Clock func() time.Time
	// TLS, when set, makes both listeners serve TLS only (see LoadTLS);
	// nil serves plaintext.
	TLS *tls.Config
}

const (
	defaultPoll            = time.Second
	defaultMaxRequestBytes = 1 << 20
	defaultShutdownTimeout = 10 * time.Second
)

// Server serves the active bundle of one registry. Create it with New and
// run it with Serve.
type Server struct {
	reg    *registry.Registry
	opts   Options
	log    *slog.Logger
	health *health.Server

	cur     current
	started atomic.Bool
	metrics *metrics
	// auth checks API keys; nil without keys (set by Serve before serving).
	auth *authorizer
	// refusal says why no bundle is loaded, for the UNAVAILABLE message and
	// /readyz; nil when a bundle is loaded or none was tried yet.
	refusal atomic.Pointer[string]

	// kick asks the watcher for an immediate check and is answered by
	// closing the channel sent (tests use it to step the watcher;
	// ForgetCustomer, to apply its own changes before it answers).
	kick chan chan struct{}
	// noFastPaths makes the gateway answer every route with its generated
	// handlers (tests compare them with the fast path of restfast.go).
	noFastPaths bool
	// handler is the HTTP handler Serve built, stored for tests that
	// drive it in process (the fuzz tests); nil before Serve.
	handler atomic.Pointer[http.Handler]

	// supp is the suppression list in use (forgotten customers); the
	// bundles' stores read it on every customer read (see privacy.go).
	supp atomic.Pointer[privacy.List]

	// Watcher state, touched only by the goroutine running check.
	seen     registry.Version // last ACTIVE value acted on
	lastWarn string           // last ACTIVE read problem logged
	suppSeen fileStamp        // the suppression list file last loaded
	suppWarn string           // last suppression list problem logged
}

// New returns a server for reg. Nothing is opened until Serve.
func New(reg *registry.Registry, opts Options) *Server {
	if opts.Poll <= 0 {
		opts.Poll = defaultPoll
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = defaultMaxRequestBytes
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = defaultShutdownTimeout
	}
	s := &Server{reg: reg, opts: opts, log: opts.Logger, health: health.NewServer(), kick: make(chan chan struct{})}
	s.metrics = newMetrics(s)
	s.setServing(false)
	return s
}

// serviceNames are the names the health service reports on, besides "" (the
// whole server).
var serviceNames = []string{
	patronv1.ModelService_ServiceDesc.ServiceName,
	patronv1.CustomerService_ServiceDesc.ServiceName,
	patronv1.ItemService_ServiceDesc.ServiceName,
	patronv1.RecommendationService_ServiceDesc.ServiceName,
}

func (s *Server) setServing(ok bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	for _, name := range serviceNames {
		s.health.SetServingStatus(name, st)
	}
}

// Active returns the manifest of the bundle being served, and false when
// none is loaded.
func (s *Server) Active() (registry.Manifest, bool) {
	l := s.cur.acquire()
	if l == nil {
		return registry.Manifest{}, false
	}
	defer s.release(l)
	return l.manifest, true
}

// Serve loads the active bundle, serves gRPC on grpcLis and HTTP on httpLis,
// and reloads when ACTIVE changes, until ctx is cancelled or a listener
// fails. It then stops gracefully: health turns NOT_SERVING, new requests are
// refused, running ones finish (for at most ShutdownTimeout), and the bundle
// is closed. It returns nil after a shutdown asked for by ctx. Serve may be
// called once; it closes both listeners.
func (s *Server) Serve(ctx context.Context, grpcLis, httpLis net.Listener) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("serving: Serve called twice")
	}
	if s.opts.Keys == nil && !s.opts.InsecureNoAuth {
		grpcLis.Close()
		httpLis.Close()
		return errors.New("serving: no API keys: set Options.Keys (LoadKeys), or Options.InsecureNoAuth to serve without access control")
	}
	if s.opts.Keys != nil && s.opts.InsecureNoAuth {
		grpcLis.Close()
		httpLis.Close()
		return errors.New("serving: Options.Keys and Options.InsecureNoAuth are both set; choose one")
	}
	// The metrics interceptor runs first, so refused calls are timed and
	// counted under their status code too.
	gopts := []grpc.ServerOption{grpc.MaxRecvMsgSize(int(s.opts.MaxRequestBytes)),
		grpc.ChainUnaryInterceptor(s.requestIDUnary, s.metrics.unary), grpc.ChainStreamInterceptor(s.requestIDStream, s.metrics.stream)}
	api := s.services()
	// REST calls reach the services directly, past gRPC interceptors, so
	// with keys the gateway gets guarded copies that run the same check.
	rest := restServices{models: api.models, customers: api.customers, items: api.items, recs: api.recs}
	a := &authorizer{keys: s.opts.Keys, log: s.log, limited: s.metrics.rateLimited,
		limiter: newLimiter(s.opts.RateLimit, s.opts.RateBurst, s.opts.Clock)}
	if a.keys != nil || a.limiter != nil {
		s.auth = a
		gopts = append(gopts, grpc.ChainUnaryInterceptor(a.unary), grpc.ChainStreamInterceptor(a.stream))
		rest = guardServices(api, a)
	}
	if s.opts.Keys != nil {
		s.log.Info("access control on", "keys", s.opts.Keys.Len())
	} else {
		s.log.Warn("access control is off (--insecure-no-auth): every caller can read all customer data")
	}
	if a.limiter != nil {
		s.log.Info("rate limits on", "per_key_per_second", a.limiter.rate, "burst", a.limiter.burst)
	}
	if s.opts.TLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(s.opts.TLS)))
	}
	gs := grpc.NewServer(gopts...)
	patronv1.RegisterModelServiceServer(gs, api.models)
	patronv1.RegisterCustomerServiceServer(gs, api.customers)
	patronv1.RegisterItemServiceServer(gs, api.items)
	patronv1.RegisterRecommendationServiceServer(gs, api.recs)
	healthpb.RegisterHealthServer(gs, s.health)
	reflection.Register(gs)

	gw, err := s.gateway(ctx, rest)
	if err != nil {
		grpcLis.Close()
		httpLis.Close()
		return err
	}
	hs := &http.Server{
		Handler:           s.instrument(s.httpHandler(gw)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if s.opts.TLS != nil {
		hs.TLSConfig = s.opts.TLS.Clone()
	}
	s.handler.Store(&hs.Handler)

	// Load the active bundle before answering, so a server started on a
	// trained data directory is ready from its first request.
	s.check()

	errc := make(chan error, 2)
	go func() {
		if err := gs.Serve(grpcLis); err != nil {
			errc <- fmt.Errorf("serve gRPC on %s: %w", grpcLis.Addr(), err)
			return
		}
		errc <- nil
	}()
	go func() {
		var err error
		if hs.TLSConfig != nil {
			err = hs.ServeTLS(httpLis, "", "")
		} else {
			err = hs.Serve(httpLis)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve HTTP on %s: %w", httpLis.Addr(), err)
			return
		}
		errc <- nil
	}()
	s.log.Info("listening", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String(), "tls", s.opts.TLS != nil)

	watchCtx, stopWatch := context.WithCancel(ctx)
	var watcher sync.WaitGroup
	watcher.Go(func() { s.watch(watchCtx) })

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		if serveErr == nil {
			serveErr = errors.New("serving: a listener stopped unexpectedly")
		}
	}
	s.log.Info("shutting down")
	stopWatch()
	watcher.Wait()
	s.shutdown(gs, hs)
	if old := s.cur.swap(nil); old != nil {
		s.release(old)
	}
	s.metrics.modelVersion.Set(0)
	s.log.Info("stopped")
	return serveErr
}

// shutdown stops both servers, gracefully within ShutdownTimeout, then by force.
func (s *Server) shutdown(gs *grpc.Server, hs *http.Server) {
	s.health.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		done := make(chan struct{})
		go func() {
			gs.GracefulStop()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			s.log.Warn("gRPC requests still running after the shutdown timeout; stopping them", "timeout", s.opts.ShutdownTimeout)
			gs.Stop()
			<-done
		}
	})
	wg.Go(func() {
		if err := hs.Shutdown(ctx); err != nil {
			s.log.Warn("HTTP requests still running after the shutdown timeout; closing them", "timeout", s.opts.ShutdownTimeout)
			hs.Close()
		}
	})
	wg.Wait()
}

// watch checks ACTIVE every Poll until ctx is done.
func (s *Server) watch(ctx context.Context) {
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.check()
		case done := <-s.kick:
			s.check()
			close(done)
		}
	}
}

// check reads ACTIVE and, when it names a version not yet tried, loads it.
// A version that fails to load is tried again only after ACTIVE changes,
// so a bad bundle is logged once, not every poll.
func (s *Server) check() {
	suppChanged := s.checkSuppressed()
	v, err := s.reg.Active()
	if err != nil {
		msg := err.Error()
		if msg != s.lastWarn {
			s.lastWarn = msg
			if errors.Is(err, registry.ErrNoActive) {
				s.log.Info("no model bundle is active yet; waiting for one",
					"data_dir", s.reg.Dir(), "hint", "run `patron train --orders FILE --data-dir "+s.reg.Dir()+"`")
			} else {
				s.log.Warn("cannot read the active bundle version; keeping the current one", "data_dir", s.reg.Dir(), "err", err)
			}
		}
		return
	}
	s.lastWarn = ""
	if v == s.seen && !suppChanged {
		return
	}
	s.seen = v
	old := s.cur.p.Load()
	if old != nil && old.manifest.Version == v && !suppChanged {
		return
	}
	// A changed suppression list reloads the served bundle too: customer
	// lists are built at load and must leave the forgotten customers out.
	start := time.Now()
	l, err := openBundleHiding(s.reg, v, &s.supp, recommend.OpenOptions{HistoryCacheBytes: s.opts.HistoryCacheBytes})
	s.metrics.loadDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.refusals.Inc()
		reason := fmt.Sprintf("bundle v%d was refused: %v", v, err)
		args := []any{"version", int64(v), "data_dir", s.reg.Dir(), "err", err}
		if old != nil {
			args = append(args, "still_serving", int64(old.manifest.Version))
		} else {
			s.refusal.Store(&reason)
		}
		s.log.Error("refusing model bundle", args...)
		return
	}
	s.cur.swap(l)
	s.metrics.loads.Inc()
	s.metrics.modelVersion.Set(float64(v))
	s.refusal.Store(nil)
	s.setServing(true)
	args := []any{"version", int64(v), "as_of", l.manifest.AsOf.Format(time.DateOnly), "load_time", time.Since(start).Round(time.Microsecond)}
	if old != nil {
		args = append(args, "previous", int64(old.manifest.Version))
	}
	s.log.Info("serving model bundle", args...)
	if old != nil {
		s.release(old)
	}
}

// release drops a reference to l; the last one closes the bundle. The last
// reference to a swapped-out bundle may be a request's: it then pays for the
// close (once per swap).
func (s *Server) release(l *loadedBundle) {
	if !l.release() {
		return
	}
	if err := l.close(); err != nil {
		s.log.Warn("closing model bundle", "version", int64(l.manifest.Version), "err", err)
		return
	}
	s.log.Debug("closed model bundle", "version", int64(l.manifest.Version))
}

// gateway returns the REST mux, calling the services in-process.
func (s *Server) gateway(ctx context.Context, api restServices) (*runtime.ServeMux, error) {
	// Ids may hold any character, percent-encoded in the URL. In
	// AllExceptReserved mode the gateway splits the path on "/" only, and a
	// single-segment variable such as {customer_id} is then unescaped fully,
	// so /v1/customers/a%2Fb reaches GetCustomer as "a/b". (AllCharacters
	// mode would also split on "%2F", and such ids would find no route.)
	//
	// The Authorization header reaches the services as "authorization"
	// metadata; restHeaderMatcher keeps other headers from posing as it.
	//
	// fastRecommendations writes its answers as the gateway does with
	// these options: an option that changes how responses are written (a
	// response rewriter, Content-Length) must be honoured there too.
	gw := runtime.NewServeMux(runtime.WithUnescapingMode(runtime.UnescapingModeAllExceptReserved),
		runtime.WithRoutingErrorHandler(routingError),
		runtime.WithIncomingHeaderMatcher(restHeaderMatcher),
		runtime.WithErrorHandler(restErrorHandler),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, newRESTMarshaler()),
		runtime.WithMiddlewares(gatewayRoute))
	if err := patronv1.RegisterModelServiceHandlerServer(ctx, gw, api.models); err != nil {
		return nil, fmt.Errorf("register REST ModelService: %w", err)
	}
	if err := patronv1.RegisterCustomerServiceHandlerServer(ctx, gw, api.customers); err != nil {
		return nil, fmt.Errorf("register REST CustomerService: %w", err)
	}
	if err := patronv1.RegisterItemServiceHandlerServer(ctx, gw, api.items); err != nil {
		return nil, fmt.Errorf("register REST ItemService: %w", err)
	}
	if err := patronv1.RegisterRecommendationServiceHandlerServer(ctx, gw, api.recs); err != nil {
		return nil, fmt.Errorf("register REST RecommendationService: %w", err)
	}
	if !s.noFastPaths {
		// Registered last, so it takes the route over from the generated handler.
		if err := gw.HandlePath(http.MethodGet, recommendationsPath, fastRecommendations(gw, api.recs)); err != nil {
			return nil, fmt.Errorf("register REST recommendations: %w", err)
		}
	}
	return gw, nil
}

// routingError answers a request the gateway found no route for. A path
// served under another method (GET /v1/recommendations:basket) is 405, where
// the gateway's default maps it to UNIMPLEMENTED and so to 501.
func routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if httpStatus == http.StatusMethodNotAllowed {
		writeJSON(w, httpStatus, map[string]any{
			"code":    int(codes.Unimplemented),
			"message": fmt.Sprintf("%s is not allowed on %s; /openapi.json lists the methods of each path", r.Method, r.URL.Path),
		})
		return
	}
	runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
}
