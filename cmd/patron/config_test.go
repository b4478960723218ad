package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "serve.conf")
	os.WriteFile(conf, []byte("# settings\ngrpc-addr = :7000\nhttp-addr = \":7001\"\n\nrate-limit = 5\n"), 0o644)
	newFS := func() (*flag.FlagSet, *string, *string, *float64) {
		fs := flag.NewFlagSet("patron serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		g := fs.String("grpc-addr", "127.0.0.1:9090", "")
		h := fs.String("http-addr", "127.0.0.1:8080", "")
		r := fs.Float64("rate-limit", 0, "")
		fs.String("config", "", "")
		return fs, g, h, r
	}
	// File only.
	fs, g, h, r := newFS()
	fs.Parse([]string{"--config", conf})
	if err := applyConfig(fs, "config"); err != nil || *g != ":7000" || *h != ":7001" || *r != 5 {
		t.Fatalf("file: %v %q %q %v", err, *g, *h, *r)
	}
	// The environment beats the file; the command line beats both.
	t.Setenv("PATRON_GRPC_ADDR", ":8000")
	t.Setenv("PATRON_HTTP_ADDR", ":8001")
	fs, g, h, r = newFS()
	fs.Parse([]string{"--config", conf, "--http-addr", ":9001"})
	if err := applyConfig(fs, "config"); err != nil || *g != ":8000" || *h != ":9001" || *r != 5 {
		t.Fatalf("precedence: %v %q %q %v", err, *g, *h, *r)
	}
	// Errors name the file and line.
	for _, tc := range []struct{ body, want string }{
		{"grpc-adr = :1\n", "line 1: unknown setting \"grpc-adr\""},
		{"\nrate-limit = fast\n", "line 2: rate-limit"},
		{"no equals sign\n", "line 1: want name = value"},
		{"rate-limit = 1\nrate-limit = 2\n", "line 2: rate-limit is set twice"},
	} {
		bad := filepath.Join(dir, "bad.conf")
		os.WriteFile(bad, []byte(tc.body), 0o644)
		fs, _, _, _ := newFS()
		fs.Parse([]string{"--config", bad})
		err := applyConfig(fs, "config")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v, want %q", tc.body, err, tc.want)
		}
	}
	t.Setenv("PATRON_RATE_LIMIT", "lots")
	fs, _, _, _ = newFS()
	fs.Parse(nil)
	if err := applyConfig(fs, "config"); err == nil || !strings.Contains(err.Error(), "PATRON_RATE_LIMIT") {
		t.Errorf("bad environment value: %v", err)
	}
}
