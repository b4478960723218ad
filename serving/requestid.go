package serving

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Request ids. Every call carries one, so a caller's report ("request
// 3f2a... failed") can be found in the server log: the caller's own
// X-Request-Id header (REST) or x-request-id metadata (gRPC) when it is a
// sane token, else a fresh random one. It is sent back in the same header
// and logged with the method, status and duration — at debug level, or at
// warn for server-side failures. Logs never carry request bodies or
// customer records.
const requestIDHeader = "x-request-id"

// requestIDHTTPHeader is requestIDHeader in canonical HTTP form, so reading
// and setting it does not canonicalise (and allocate) on every request.
const requestIDHTTPHeader = "X-Request-Id"

// validRequestID accepts 1 to 64 characters of letters, digits, '.', '_' and '-'.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// grpcRequestID is the caller's request id from the incoming metadata, or a new one.
func grpcRequestID(ctx context.Context) string {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(requestIDHeader); len(v) > 0 && validRequestID(v[0]) {
			return v[0]
		}
	}
	return newRequestID()
}

// requestIDUnary gives every gRPC call a request id, returns it in the
// response header and logs the call.
func (s *Server) requestIDUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	id := grpcRequestID(ctx)
	grpc.SetHeader(ctx, metadata.Pairs(requestIDHeader, id))
	start := time.Now()
	resp, err := handler(ctx, req)
	s.logRequest(ctx, id, info.FullMethod, status.Code(err).String(), serverFault(err), time.Since(start))
	return resp, err
}

// requestIDStream does the same for streams (reflection, health watches).
func (s *Server) requestIDStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	id := grpcRequestID(ss.Context())
	ss.SetHeader(metadata.Pairs(requestIDHeader, id))
	start := time.Now()
	err := handler(srv, ss)
	s.logRequest(ss.Context(), id, info.FullMethod, status.Code(err).String(), serverFault(err), time.Since(start))
	return err
}

// serverFault reports whether err is the server's fault (logged at warn).
func serverFault(err error) bool {
	switch status.Code(err).String() {
	case "Internal", "Unknown", "DataLoss":
		return true
	}
	return false
}

// httpRequestID sets the request id of a REST call: the caller's, or a new
// one, on the response and on the request (the gateway passes it on).
func httpRequestID(w http.ResponseWriter, r *http.Request) string {
	id := r.Header.Get(requestIDHTTPHeader)
	if !validRequestID(id) {
		id = newRequestID()
		r.Header.Set(requestIDHTTPHeader, id)
	}
	w.Header().Set(requestIDHTTPHeader, id)
	return id
}

func (s *Server) logRequest(ctx context.Context, id, method, code string, fault bool, d time.Duration) {
	if !s.logEnabled(ctx, fault) {
		return // nothing to build: calls are logged at debug level
	}
	s.log.Log(ctx, logLevel(fault), "request", "request_id", id, "method", method, "code", code, "duration", d)
}

// logEnabled reports whether a call would be logged (server faults at
// warn level, other calls at debug), so callers build nothing otherwise.
func (s *Server) logEnabled(ctx context.Context, fault bool) bool {
	return s.log.Enabled(ctx, logLevel(fault))
}

func logLevel(fault bool) slog.Level {
	if fault {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}
