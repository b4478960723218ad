package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/patron-crm/patron/models/registry"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
	"github.com/patron-crm/patron/training"
)

// ordersV1 is a small order history with known answers:
//
//	c1: o1 (2 x i1 at 3.50 + 1 x "a/b c" at 10 = 17.00, 2 lines, qty 3),
//	    o2 (4 x i2 at 1.25 = 5.00), return C5 (1 x i2 = 1.25)
//	"cust/7 x?%": o3 (1 x i1); c2: o4 (1 x i2); "../c9": o6 (1 x i1)
const ordersV1 = `order_id,customer_id,item_id,quantity,unit_price,ordered_at,item_name,category,country
o1,c1,i1,2,3.50,2024-01-02 10:00:00,Red Mug,kitchen,France
o1,c1,a/b c,1,10,2024-01-02 10:00:00,Slash Item,misc,France
o2,c1,i2,4,1.25,2024-02-03 09:00:00,Tea Towel,kitchen,France
o3,cust/7 x?%,i1,1,3.50,2024-02-10 12:00:00,Red Mug,kitchen,United Kingdom
o4,c2,i2,1,1.25,2024-03-01 08:00:00,Tea Towel,kitchen,United Kingdom
C5,c1,i2,-1,1.25,2024-03-02 08:00:00,Tea Towel,kitchen,France
o6,../c9,i1,1,3.50,2024-03-05 10:00:00,Red Mug,kitchen,United Kingdom
`

// ordersV2 adds one more order of c1, so a second bundle answers differently.
const ordersV2 = ordersV1 + `o7,c1,i1,1,3.50,2024-03-20 10:00:00,Red Mug,kitchen,France
`

// asOf is the training date of every test bundle.
var asOf = time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)

// train publishes (and activates, unless noActivate) a bundle of orders in reg.
func train(t testing.TB, reg *registry.Registry, orders string, noActivate bool) registry.Manifest {
	t.Helper()
	path := filepath.Join(t.TempDir(), "orders.csv")
	if err := os.WriteFile(path, []byte(orders), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := training.Train(context.Background(), reg, training.Config{Orders: path, AsOf: asOf, Seed: 1, NoActivate: noActivate, CodeVersion: "test"})
	if err != nil {
		t.Fatalf("train: %v", err)
	}
	return res.Manifest
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is a Server running on loopback listeners, with clients.
type testServer struct {
	*Server
	reg    *registry.Registry
	logs   *syncBuffer
	conn   *grpc.ClientConn
	base   string // http://127.0.0.1:port
	cancel context.CancelFunc
	done   chan error
}

// start runs a server on reg until the test ends (or stop is called).
// Without opts.Keys it serves without access control (auth_test.go covers it).
func start(t *testing.T, reg *registry.Registry, opts Options) *testServer {
	t.Helper()
	if opts.Keys == nil {
		opts.InsecureNoAuth = true
	}
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: New(reg, opts), reg: reg, logs: logs, base: "http://" + hl.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- ts.Serve(ctx, gl, hl) }()
	ts.conn, err = grpc.NewClient(gl.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ts.conn.Close()
		ts.stop(t)
	})
	return ts
}

// stop cancels Serve and checks that it returns cleanly and in time.
func (ts *testServer) stop(t *testing.T) {
	t.Helper()
	ts.cancel()
	select {
	case err, ok := <-ts.done:
		if ok && err != nil {
			t.Errorf("Serve: %v", err)
		}
		if ok {
			close(ts.done)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of cancellation")
	}
}

func (ts *testServer) customers() patronv1.CustomerServiceClient {
	return patronv1.NewCustomerServiceClient(ts.conn)
}
func (ts *testServer) items() patronv1.ItemServiceClient {
	return patronv1.NewItemServiceClient(ts.conn)
}
func (ts *testServer) models() patronv1.ModelServiceClient {
	return patronv1.NewModelServiceClient(ts.conn)
}

// get does a REST GET of path and returns the status code and body.
func (ts *testServer) get(t testing.TB, path string) (int, []byte) {
	t.Helper()
	code, body, err := ts.tryGet(path)
	if err != nil {
		t.Fatal(err)
	}
	return code, body
}

// tryGet is get for goroutines other than the test's.
func (ts *testServer) tryGet(path string) (int, []byte, error) {
	resp, err := http.Get(ts.base + path)
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return resp.StatusCode, body, nil
}

// checkNow makes the watcher check ACTIVE once and waits for it.
func (ts *testServer) checkNow(t testing.TB) {
	t.Helper()
	done := make(chan struct{})
	select {
	case ts.kick <- done:
	case <-time.After(5 * time.Second):
		t.Fatal("watcher did not take the check request")
	}
	<-done
}

// waitVersion waits until the server serves version v.
func (ts *testServer) waitVersion(t testing.TB, v registry.Version) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m, ok := ts.Active(); ok && m.Version == v {
			return
		}
		if time.Now().After(deadline) {
			m, ok := ts.Active()
			t.Fatalf("server did not switch to bundle v%d within 10s (serving v%d, loaded %v); log:\n%s", v, m.Version, ok, ts.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testWriter sends log lines to t.Log, so they show with -v or on failure.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// openRegistry returns the registry of a new data directory.
func openRegistry(t testing.TB) *registry.Registry {
	t.Helper()
	reg, err := registry.Open(t.TempDir(), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// checkGRPCError checks that err is a status with code and a message holding msg.
func checkGRPCError(t *testing.T, err error, code codes.Code, msg string) {
	t.Helper()
	if status.Code(err) != code || !strings.Contains(status.Convert(err).Message(), msg) {
		t.Errorf("gRPC: got %v, want %v with %q", err, code, msg)
	}
}

// checkRESTError checks a gateway error answer: the HTTP status, and a JSON
// body with the gRPC code and a message holding msg.
func checkRESTError(t *testing.T, what string, httpCode int, body []byte, wantHTTP int, code codes.Code, msg string) {
	t.Helper()
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("REST %.80s: error body is not JSON: %.300s", what, body)
	}
	if httpCode != wantHTTP || e.Code != int(code) || !strings.Contains(e.Message, msg) {
		t.Errorf("REST %.80s: %d %.300s, want %d with code %d and %q", what, httpCode, body, wantHTTP, code, msg)
	}
}
