package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveTestOrders is a tiny order history for the serve command's tests.
const serveTestOrders = `order_id,customer_id,item_id,quantity,unit_price,ordered_at,item_name,country
o1,c1,i1,2,3.50,2024-01-02 10:00:00,Red Mug,France
o2,c1,i2,4,1.25,2024-02-03 09:00:00,Tea Towel,France
o3,c2,i1,1,3.50,2024-02-10 12:00:00,Red Mug,United Kingdom
`

// lockedBuffer collects a command's output while it runs in another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServeHelpShowsExample(t *testing.T) {
	var stderr bytes.Buffer
	a := &app{stdout: io.Discard, stderr: &stderr, stdin: strings.NewReader(""), version: "test"}
	err := a.main(context.Background(), []string{"serve", "--help"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("serve --help: %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"Examples:", "patron serve --data-dir patron-data", "-grpc-addr", "-http-addr", "-poll", "-encryption-key-file"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("serve --help lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--poll", "0s"},
		{"--log-level", "loud"},
		{"extra"},
		{"--grpc-addr"},
	} {
		a := &app{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader(""), version: "test"}
		err := a.main(context.Background(), append([]string{"serve", "--data-dir", t.TempDir()}, args...))
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("serve %v: %v, want a usage error", args, err)
		}
	}
}

func TestServeAddressInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a := &app{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader(""), version: "test"}
	err = a.main(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--grpc-addr", "127.0.0.1:0", "--http-addr", l.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "choose another --http-addr") {
		t.Errorf("serve on a taken port: %v, want an error naming --http-addr", err)
	}
}

// TestServeEndToEnd trains with `patron train`, then runs `patron serve` on
// loopback ports and queries it over REST until it is stopped.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	orders := filepath.Join(dir, "orders.csv")
	if err := os.WriteFile(orders, []byte(serveTestOrders), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	a := &app{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader(""), version: "test"}
	if err := a.main(context.Background(), []string{"train", "--orders", orders, "--data-dir", data}); err != nil {
		t.Fatalf("patron train: %v", err)
	}

	logs := &lockedBuffer{}
	a = &app{stdout: io.Discard, stderr: logs, stdin: strings.NewReader(""), version: "test"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- a.main(ctx, []string{"serve", "--data-dir", data, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--poll", "50ms"})
	}()

	_, httpAddr := waitListening(t, logs, done)
	if !strings.Contains(logs.String(), `msg="serving model bundle" version=1`) {
		t.Errorf("log does not name the loaded version:\n%s", logs)
	}
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/readyz", 200, `"model_version":1`},
		{"/v1/customers/c1", 200, `"orderCount":"2"`},
		{"/v1/customers/nobody", 404, `not found`},
	} {
		resp, err := http.Get("http://" + httpAddr + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(body), c.want) {
			t.Errorf("GET %s: %d %s, want %d with %s", c.path, resp.StatusCode, body, c.code, c.want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("patron serve after interrupt: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("patron serve did not stop within 10s of the interrupt")
	}
	if !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("log does not report the stop:\n%s", logs)
	}
}
