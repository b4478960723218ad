package serving

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
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

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost,
// valid from notBefore to notAfter, and its key to dir; it returns the
// file paths and the certificate.
func selfSigned(t *testing.T, dir, name string, notBefore, notAfter time.Time) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "patron test"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

func TestLoadTLSErrors(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	certA, keyA, _ := selfSigned(t, dir, "a", now.Add(-time.Hour), now.Add(time.Hour))
	_, keyB, _ := selfSigned(t, dir, "b", now.Add(-time.Hour), now.Add(time.Hour))
	oldCert, oldKey, _ := selfSigned(t, dir, "old", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
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
	certFile, keyFile, cert := selfSigned(t, t.TempDir(), "server", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
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
