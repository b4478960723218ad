package serving

// TLS for both listeners.
//
// With Options.TLS set, the gRPC server and the HTTP server (REST, probes,
// /openapi.json, /metrics) both answer only TLS, 1.2 or later, with the same
// certificate; the gateway runs in-process, so no connection between them
// needs credentials. LoadTLS reads the PEM files `patron serve --tls-cert
// --tls-key` names. The files are read once, at start: to rotate a
// certificate, replace the files and restart the server.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"
)

// LoadTLS reads a PEM certificate (chain, leaf first) and its private key
// and returns a server configuration requiring TLS 1.2 or later. Errors name
// the file and say what to fix: a missing or unreadable file, a file
// holding no PEM certificate or key, a key that does not match the
// certificate, or a certificate that has expired.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("TLS needs both a certificate file and a key file (--tls-cert and --tls-key)")
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate file: %w (give --tls-cert a PEM certificate, chain leaf first)", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS key file: %w (give --tls-key the PEM private key of the certificate)", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s and key %s: %w (check that the certificate file holds a PEM CERTIFICATE, "+
			"the key file its PEM PRIVATE KEY, and that they belong together)", certFile, keyFile, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("TLS certificate %s: %w", certFile, err)
		}
	}
	if now := time.Now(); now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("TLS certificate %s expired on %s; renew it", certFile, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}
