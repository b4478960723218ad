package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
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

	"github.com/patron-crm/patron/internal/testcert"
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
	for _, want := range []string{"Examples:", "patron serve --data-dir patron-data --keys-file keys.txt", "patron keys new", `"Authorization: Bearer $KEY"`,
		"-grpc-addr", "-http-addr", "-poll", "-encryption-key-file", "-keys-file", "-insecure-no-auth",
		"-rate-limit", "-rate-burst", "-tls-cert", "-tls-key", "--tls-cert server.crt", "/metrics"} {
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
		{"--rate-limit", "-1"},
		{"--rate-limit", "NaN"},
		{"--rate-burst", "-1", "--rate-limit", "5"},
		{"--rate-burst", "5"},
		{"--history-cache-mb", "-1"},
		{"--history-cache-mb", "9000000000000"}, // bytes would wrap to a negative size: no cache
		{"--tls-cert", "server.crt"},
		{"--tls-key", "server.key"},
	} {
		a := &app{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader(""), version: "test"}
		err := a.main(context.Background(), append([]string{"serve", "--data-dir", t.TempDir(), "--insecure-no-auth"}, args...))
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
	err = a.main(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--insecure-no-auth", "--grpc-addr", "127.0.0.1:0", "--http-addr", l.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "choose another --http-addr") {
		t.Errorf("serve on a taken port: %v, want an error naming --http-addr", err)
	}
}

// trainServeData trains serveTestOrders with `patron train` into dir/data
// and returns that data directory.
func trainServeData(t *testing.T, dir string) string {
	t.Helper()
	orders := filepath.Join(dir, "orders.csv")
	if err := os.WriteFile(orders, []byte(serveTestOrders), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	a := &app{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader(""), version: "test"}
	if err := a.main(context.Background(), []string{"train", "--orders", orders, "--data-dir", data}); err != nil {
		t.Fatalf("patron train: %v", err)
	}
	return data
}

// TestServeEndToEnd trains with `patron train`, makes keys with `patron keys
// new`, then runs `patron serve --keys-file` on loopback ports and queries it
// over REST with the printed keys until it is stopped.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	data := trainServeData(t, dir)
	keysFile := filepath.Join(dir, "keys.txt")
	newKey := func(name, scopes string) string {
		out, _, err := runCLI(t, "", "keys", "new", "--name", name, "--scopes", scopes, "--keys-file", keysFile)
		if err != nil {
			t.Fatalf("keys new %s: %v", name, err)
		}
		return strings.TrimSpace(out)
	}
	crm, shop := newKey("crm", "customers:read"), newKey("shop1", "recommend")

	logs := &lockedBuffer{}
	a := &app{stdout: io.Discard, stderr: logs, stdin: strings.NewReader(""), version: "test"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- a.main(ctx, []string{"serve", "--data-dir", data, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--poll", "50ms",
			"--keys-file", keysFile, "--log-level", "debug"})
	}()

	_, httpAddr := waitListening(t, logs, done)
	if !strings.Contains(logs.String(), `msg="serving model bundle" version=1`) {
		t.Errorf("log does not name the loaded version:\n%s", logs)
	}
	for _, c := range []struct {
		path, key string
		code      int
		want      string
	}{
		{"/readyz", "", 200, `"model_version":1`},
		{"/v1/customers/c1", crm, 200, `"orderCount":"2"`},
		{"/v1/customers/nobody", crm, 404, `not found`},
		{"/v1/customers/c1", "", 401, `no API key`},
		{"/v1/customers/c1", shop, 403, `API key \"shop1\" (scopes: recommend) may not call`},
		{"/v1/items/i1", shop, 200, `"itemId":"i1"`},
		{"/v1/items/i1", crm, 403, `needs scope \"recommend\"`},
	} {
		req, _ := http.NewRequest("GET", "http://"+httpAddr+c.path, nil)
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		resp, err := http.DefaultClient.Do(req)
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
	out := logs.String()
	if !strings.Contains(out, "msg=stopped") {
		t.Errorf("log does not report the stop:\n%s", out)
	}
	if strings.Contains(out, crm) || strings.Contains(out, shop) {
		t.Errorf("a key is in the log:\n%s", out)
	}
	for _, want := range []string{"msg=\"access control on\" keys=2", "msg=\"request authorized\" key=crm", "msg=\"request refused\" method=/patron.v1.CustomerService/GetCustomer reason=\"missing scope\" key=shop1"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

// TestServeAccessControlFlags: serve needs --keys-file or --insecure-no-auth,
// not both, and --insecure-no-auth only on loopback addresses.
func TestServeAccessControlFlags(t *testing.T) {
	dir := t.TempDir()
	badKeys := filepath.Join(dir, "bad-keys.txt")
	os.WriteFile(badKeys, []byte("# keys\nshop1 recommend nothex\n"), 0o600)
	for _, c := range []struct {
		args  []string
		usage bool
		want  []string
	}{
		{nil, true, []string{"no --keys-file", "patron keys new --name NAME --scopes recommend --keys-file keys.txt", "--insecure-no-auth"}},
		{[]string{"--keys-file", badKeys, "--insecure-no-auth"}, true, []string{"give one, not both"}},
		{[]string{"--insecure-no-auth", "--grpc-addr", "0.0.0.0:0"}, true, []string{"--insecure-no-auth is refused on --grpc-addr 0.0.0.0:0", "not a loopback address", "--keys-file"}},
		{[]string{"--insecure-no-auth", "--http-addr", ":0"}, true, []string{"--insecure-no-auth is refused on --http-addr :0"}},
		{[]string{"--keys-file", filepath.Join(dir, "missing.txt")}, false, []string{"missing.txt", "patron keys new"}},
		{[]string{"--keys-file", badKeys}, false, []string{"bad-keys.txt line 2: hash field is 6 characters"}},
	} {
		a := &app{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader(""), version: "test"}
		args := append([]string{"serve", "--data-dir", filepath.Join(dir, "data"), "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, c.args...)
		err := a.main(context.Background(), args)
		var ue usageError
		if err == nil || errors.As(err, &ue) != c.usage {
			t.Errorf("serve %v: %v, want an error (usage error: %v)", c.args, err, c.usage)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("serve %v: %v, want %q in it", c.args, err, w)
			}
		}
	}
}

// writeSelfSigned writes a self-signed certificate for 127.0.0.1, valid
// for the next hour, and its key to dir and returns the files and a pool
// trusting the certificate.
func writeSelfSigned(t *testing.T, dir, name string) (certFile, keyFile string, roots *x509.CertPool) {
	certFile, keyFile, cert := testcert.Write(t, dir, name, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// TestServeTLSRateLimitAndMetrics runs `patron serve` with --tls-cert,
// --tls-key, --rate-limit and --rate-burst, and calls it over HTTPS.
func TestServeTLSRateLimitAndMetrics(t *testing.T) {
	dir := t.TempDir()
	data := trainServeData(t, dir)
	certFile, keyFile, roots := writeSelfSigned(t, dir, "server")
	_, otherKey, _ := writeSelfSigned(t, dir, "other")

	// Bad TLS files stop serve before it listens, naming the files.
	for _, c := range []struct {
		cert, key string
		want      []string
	}{
		{filepath.Join(dir, "missing.crt"), keyFile, []string{"missing.crt", "--tls-cert"}},
		{certFile, otherKey, []string{"server.crt", "other.key", "belong together"}},
	} {
		a := &app{stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader(""), version: "test"}
		err := a.main(context.Background(), []string{"serve", "--data-dir", data, "--insecure-no-auth", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
			"--tls-cert", c.cert, "--tls-key", c.key})
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("serve --tls-cert %s --tls-key %s: %v, want %q in it", c.cert, c.key, err, w)
			}
		}
	}

	logs := &lockedBuffer{}
	a := &app{stdout: io.Discard, stderr: logs, stdin: strings.NewReader(""), version: "test"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- a.main(ctx, []string{"serve", "--data-dir", data, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
			"--insecure-no-auth", "--tls-cert", certFile, "--tls-key", keyFile, "--rate-limit", "0.01", "--rate-burst", "2"})
	}()
	_, httpAddr := waitListening(t, logs, done)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 10 * time.Second}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get("https://" + httpAddr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	for i, want := range []int{200, 200, 429} {
		resp, body := get("/v1/items/i1")
		if resp.StatusCode != want {
			t.Errorf("call %d: %d %s, want %d", i+1, resp.StatusCode, body, want)
		}
		if want == 429 && resp.Header.Get("Retry-After") != "100" {
			t.Errorf("429 Retry-After %q, want 100 (one call at 0.01/s)", resp.Header.Get("Retry-After"))
		}
	}
	resp, body := get("/metrics")
	for _, w := range []string{"patron_model_version 1", `patron_http_request_duration_seconds_count{code="429",route="GET /v1/items/{item_id=*}"} 1`, `patron_rate_limited_total{key=""} 1`} {
		if resp.StatusCode != 200 || !strings.Contains(body, w) {
			t.Errorf("GET /metrics: %d, lacks %s", resp.StatusCode, w)
		}
	}
	if !strings.Contains(logs.String(), "tls=true") || !strings.Contains(logs.String(), `msg="rate limits on"`) {
		t.Errorf("log does not say TLS and rate limits are on:\n%s", logs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("patron serve after interrupt: %v", err)
	}
}
