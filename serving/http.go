package serving

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/status"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// httpHandler routes the probe and document paths itself and everything
// else to the gateway. Exact path matching (rather than http.ServeMux) keeps
// percent-encoded ids such as "a%2F..%2Fb" from being cleaned or redirected
// before the gateway unescapes them.
func (s *Server) httpHandler(gw *runtime.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			if methodGetOrHead(w, r) {
				// Alive while the process answers, bundle or not.
				writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
			}
			return
		case "/readyz":
			if methodGetOrHead(w, r) {
				s.serveReady(w)
			}
			return
		case "/openapi.json":
			if methodGetOrHead(w, r) {
				w.Header().Set("Content-Type", "application/json")
				w.Write(patronv1.OpenAPI)
			}
			return
		}
		if r.ContentLength > s.opts.MaxRequestBytes {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{
				"code":    http.StatusRequestEntityTooLarge,
				"message": fmt.Sprintf("request body is %d bytes; at most %d are accepted", r.ContentLength, s.opts.MaxRequestBytes),
			})
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxRequestBytes)
		}
		gw.ServeHTTP(w, r)
	})
}

// serveReady answers 200 with the served version once a bundle is loaded,
// 503 with the reason before.
func (s *Server) serveReady(w http.ResponseWriter) {
	if m, ok := s.Active(); ok {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "model_version": int64(m.Version)})
		return
	}
	// The same message the API gives.
	msg := status.Convert(s.unavailable()).Message()
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "reason": msg})
}

func methodGetOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"code": http.StatusMethodNotAllowed, "message": r.Method + " is not allowed here; use GET"})
	return false
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
