package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"time"

	"github.com/patron-crm/patron/models/recommend"
	"github.com/patron-crm/patron/serving"
)

// maxHistoryCacheMB bounds --history-cache-mb: 1 TiB, far above any
// machine's memory, and small enough that the size in bytes cannot wrap.
const maxHistoryCacheMB = 1 << 20

// runServe serves the active bundle of a data directory over gRPC and REST
// until it is interrupted, switching to newly activated bundles by itself.
func runServe(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("serve", "serve --data-dir DIR (--keys-file FILE | --insecure-no-auth) [flags]",
		`  patron keys new --name crm --scopes customers:read --keys-file keys.txt   # prints the key once
  patron serve --data-dir patron-data --keys-file keys.txt
  curl -H "Authorization: Bearer $KEY" localhost:8080/v1/customers/12347   # then, from another terminal
  grpcurl -plaintext -H "authorization: Bearer $KEY" -d '{"customer_id":"12347"}' localhost:9090 patron.v1.CustomerService/GetCustomer
  grpcurl -plaintext localhost:9090 list                                    # reflection and health need no key
  patron serve --data-dir patron-data --insecure-no-auth                    # no access control: loopback only
  patron serve --data-dir /var/lib/patron --grpc-addr :9090 --http-addr :8080 --keys-file /etc/patron/keys.txt --encryption-key-file /etc/patron/bundle.key
  patron serve --data-dir patron-data --keys-file keys.txt --tls-cert server.crt --tls-key server.key --rate-limit 50 --rate-burst 100
  curl -H "Authorization: Bearer $ADMIN_KEY" localhost:8080/metrics        # Prometheus metrics: needs an admin key
  PATRON_DATA_DIR=/var/lib/patron patron serve --config /etc/patron/serve.conf # settings from a file and the environment`)
	var sf storeFlags
	sf.register(fs)
	grpcAddr := fs.String("grpc-addr", "127.0.0.1:9090", "address to serve gRPC on (host:port; :9090 for all interfaces)")
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", "address to serve REST, /healthz, /readyz and /openapi.json on")
	poll := fs.Duration("poll", time.Second, "how often to check for a newly activated bundle")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error (debug logs the key name of every call)")
	keysFile := fs.String("keys-file", "", "file of API key hashes and scopes, as written by 'patron keys new'; required unless --insecure-no-auth")
	noAuth := fs.Bool("insecure-no-auth", false, "serve without API keys: every caller reads all customer data; refused unless both addresses are loopback")
	rateLimit := fs.Float64("rate-limit", 0, "calls per second each API key may make, over gRPC and REST together (0: no limit); over it: RESOURCE_EXHAUSTED / 429 with Retry-After")
	rateBurst := fs.Int("rate-burst", 0, "calls a key may make at once above --rate-limit (0: one second's worth)")
	historyCacheMB := fs.Int("history-cache-mb", recommend.DefaultHistoryCacheBytes>>20, "memory for the cache of recently read customer histories, per served bundle, in MiB (0: no cache)")
	tlsCert := fs.String("tls-cert", "", "PEM certificate (chain, leaf first) to serve TLS 1.2+ on both addresses; needs --tls-key")
	tlsKey := fs.String("tls-key", "", "PEM private key of --tls-cert")
	fs.String("config", "", "file of settings, one `name = value` per line (names as these flags); the environment (PATRON_GRPC_ADDR, ...) overrides it, the command line overrides both")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := applyConfig(fs, "config"); err != nil {
		return err
	}
	switch {
	case *keysFile != "" && *noAuth:
		return usageError{"--keys-file and --insecure-no-auth: give one, not both"}
	case *keysFile == "" && !*noAuth:
		return usageError{"serve: no --keys-file: API keys protect customer data; create one with " +
			"`patron keys new --name NAME --scopes recommend --keys-file keys.txt` and pass --keys-file keys.txt, " +
			"or pass --insecure-no-auth to serve without access control on a loopback address"}
	}
	switch {
	case *rateLimit < 0 || math.IsNaN(*rateLimit) || math.IsInf(*rateLimit, 0):
		return usageError{fmt.Sprintf("--rate-limit %g: give calls per second per key, such as 50, or 0 for no limit", *rateLimit)}
	case *historyCacheMB < 0 || *historyCacheMB > maxHistoryCacheMB:
		return usageError{fmt.Sprintf("--history-cache-mb %d: give MiB of memory from 0 (no cache) to %d, such as %d", *historyCacheMB, maxHistoryCacheMB, recommend.DefaultHistoryCacheBytes>>20)}
	case *rateBurst < 0:
		return usageError{fmt.Sprintf("--rate-burst %d: give a number of calls, such as 100, or 0 for one second's worth", *rateBurst)}
	case *rateBurst > 0 && *rateLimit == 0:
		return usageError{"--rate-burst needs --rate-limit: give the calls per second per key too"}
	case (*tlsCert == "") != (*tlsKey == ""):
		return usageError{"--tls-cert and --tls-key go together: give both (the certificate and its private key, PEM files) or neither"}
	}
	if *poll <= 0 {
		return usageError{fmt.Sprintf("--poll %s: give a positive duration such as 1s", *poll)}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{fmt.Sprintf("--log-level %q: use debug, info, warn or error", *logLevel)}
	}
	logger := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))

	var keys *serving.KeySet
	if *keysFile != "" {
		var err error
		if keys, err = serving.LoadKeys(*keysFile); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}

	var tlsConfig *tls.Config
	if *tlsCert != "" {
		var err error
		if tlsConfig, err = serving.LoadTLS(*tlsCert, *tlsKey); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}

	reg, err := sf.open(0)
	if err != nil {
		return err
	}
	if _, err := os.Stat(sf.dataDir); errors.Is(err, os.ErrNotExist) {
		logger.Warn("the data directory does not exist yet; serving nothing until a bundle is trained into it", "data_dir", sf.dataDir)
	}

	gl, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		return fmt.Errorf("serve: listen for gRPC: %w (is another server running? choose another --grpc-addr)", err)
	}
	hl, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		gl.Close()
		return fmt.Errorf("serve: listen for HTTP: %w (is another server running? choose another --http-addr)", err)
	}
	if *noAuth {
		// Checked on the bound addresses, so names (localhost) are resolved
		// as the listener resolved them and ":9090" counts as all interfaces.
		for _, l := range []struct {
			flag, given string
			lis         net.Listener
		}{{"--grpc-addr", *grpcAddr, gl}, {"--http-addr", *httpAddr, hl}} {
			if !isLoopback(l.lis.Addr()) {
				gl.Close()
				hl.Close()
				return usageError{fmt.Sprintf("--insecure-no-auth is refused on %s %s (listening on %s, not a loopback address): "+
					"serve with --keys-file, or listen on 127.0.0.1", l.flag, l.given, l.lis.Addr())}
			}
		}
	}
	cacheBytes := int64(*historyCacheMB) << 20
	if cacheBytes == 0 {
		cacheBytes = -1 // 0 MiB: no cache (Options' 0 would mean the default)
	}
	srv := serving.New(reg, serving.Options{Poll: *poll, Logger: logger, Keys: keys, InsecureNoAuth: *noAuth,
		RateLimit: *rateLimit, RateBurst: *rateBurst, TLS: tlsConfig, HistoryCacheBytes: cacheBytes})
	return srv.Serve(ctx, gl, hl)
}

// isLoopback reports whether a listener's address is a loopback one.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
