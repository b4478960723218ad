package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/patron-crm/patron/serving"
)

// runServe serves the active bundle of a data directory over gRPC and REST
// until it is interrupted, switching to newly activated bundles by itself.
func runServe(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("serve", "serve --data-dir DIR [flags]",
		`  patron serve --data-dir patron-data
  curl localhost:8080/v1/customers/12347         # then, from another terminal
  grpcurl -plaintext localhost:9090 list
  patron serve --data-dir /var/lib/patron --grpc-addr :9090 --http-addr :8080 --encryption-key-file /etc/patron/bundle.key`)
	var sf storeFlags
	sf.register(fs)
	grpcAddr := fs.String("grpc-addr", "127.0.0.1:9090", "address to serve gRPC on (host:port; :9090 for all interfaces)")
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", "address to serve REST, /healthz, /readyz and /openapi.json on")
	poll := fs.Duration("poll", time.Second, "how often to check for a newly activated bundle")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *poll <= 0 {
		return usageError{fmt.Sprintf("--poll %s: give a positive duration such as 1s", *poll)}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{fmt.Sprintf("--log-level %q: use debug, info, warn or error", *logLevel)}
	}
	logger := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))

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
	srv := serving.New(reg, serving.Options{Poll: *poll, Logger: logger})
	return srv.Serve(ctx, gl, hl)
}
