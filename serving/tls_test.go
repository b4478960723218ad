package serving

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/patron-crm/patron/internal/testcert"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

func TestLoadTLSErrors(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	certA, keyA, _ := testcert.Write(t, dir, "a", now.Add(-time.Hour), now.Add(time.Hour))
	_, keyB, _ := testcert.Write(t, dir, "b", now.Add(-time.Hour), now.Add(time.Hour))
	oldCert, oldKey, _ := testcert.Write(t, dir, "old", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate\n"), 0o644)

	if cfg, err := LoadTLS(certA, keyA); err != nil || cfg.MinVersion != tls.VersionTLS12 || len(cfg.Certificates) != 1 {
		t.Fatalf("LoadTLS of a good pair: %v, %v; want a TLS 1.2+ config with one certificate", cfg, err)
	}
	for _, c := range []struct {
		name, cert, key string
		want            []string
	}{
		{"no key given", certA, "", []string{"both a certificate file and a key file"}},
		{"missing certificate", filepath.Join(dir, "nope.crt"), keyA, []string{"TLS certificate file", "nope.crt", "no such file", "--tls-cert"}},
		{"missing key", certA, filepath.Join(dir, "nope.key"), []string{"TLS key file", "nope.key", "--tls-key"}},
		{"mismatched key", certA, keyB, []string{"a.crt", "b.key", "private key does not match public key", "belong together"}},
		{"garbage certificate", garbage, keyA, []string{"garbage.pem", "PEM CERTIFICATE"}},
		{"key given as certificate", keyA, keyA, []string{"a.key"}},
		{"expired", oldCert, oldKey, []string{"old.crt expired on", "renew"}},
	} {
		_, err := LoadTLS(c.cert, c.key)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want %q in it", c.name, err, w)
			}
		}
	}
}

func TestServeTLS(t *testing.T) {
	reg := openRegistry(t)
	m := train(t, reg, ordersV1, false)
	certFile, keyFile, cert := testcert.Write(t, t.TempDir(), "server", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	cfg, err := LoadTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
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
	srv := New(reg, Options{InsecureNoAuth: true, TLS: cfg, Poll: time.Hour,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, gl, hl) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	roots := x509.NewCertPool()
	roots.AddCert(cert)

	// gRPC over TLS with a client trusting the certificate.
	conn, err := grpc.NewClient(gl.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		item, err := patronv1.NewItemServiceClient(conn).GetItem(context.Background(), &patronv1.GetItemRequest{ItemId: "i1"})
		if err == nil {
			if item.GetModelVersion() != int64(m.Version) {
				t.Errorf("GetItem over TLS: model version %d, want %d", item.GetModelVersion(), m.Version)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GetItem over TLS: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// HTTPS, over HTTP/1.1 and HTTP/2.
	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: h2}
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		resp, err := client.Get("https://" + hl.Addr().String() + "/v1/items/i1")
		if err != nil {
			t.Fatalf("HTTPS GET (h2 %v): %v", h2, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"itemId":"i1"`) {
			t.Errorf("HTTPS GET /v1/items/i1 (h2 %v): %d %s", h2, resp.StatusCode, body)
		}
		if wantProto := map[bool]int{false: 1, true: 2}[h2]; resp.ProtoMajor != wantProto {
			t.Errorf("HTTPS protocol %s, want HTTP/%d", resp.Proto, wantProto)
		}
		tr.CloseIdleConnections()
	}

	// Plaintext and old TLS versions are refused.
	resp, err := http.Get("http://" + hl.Addr().String() + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plaintext HTTP to the TLS listener: %d, want 400 (or an error)", resp.StatusCode)
		}
	}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS11}}, Timeout: 10 * time.Second}
	if resp, err := old.Get("https://" + hl.Addr().String() + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("a TLS 1.1 client was served")
	}
	plain, err := grpc.NewClient(gl.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	short, stop := context.WithTimeout(context.Background(), 2*time.Second)
	defer stop()
	if _, err := patronv1.NewItemServiceClient(plain).GetItem(short, &patronv1.GetItemRequest{ItemId: "i1"}); err == nil {
		t.Error("a plaintext gRPC client was served by the TLS listener")
	}
}
