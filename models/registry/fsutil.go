package registry

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/patron-crm/patron/internal/atomicfile"
	"github.com/patron-crm/patron/internal/filelock"
)

// lock takes the data directory's publish lock (train.lock), held only
// while versions are allocated and ACTIVE or bundle directories change.
func (r *Registry) lock() (unlock func(), err error) {
	unlock, err = filelock.Lock(filepath.Join(r.dir, "train.lock"))
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return unlock, nil
}

// syncTree fsyncs every file and directory under root.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("registry: sync %s: %w", path, err)
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("registry: sync %s: %w", path, err)
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return fmt.Errorf("registry: sync %s: %w", path, err)
		}
		return nil
	})
}

// processAlive reports whether a process with this id exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// checkKey accepts AES-128, AES-192 and AES-256 keys.
func checkKey(key []byte) error {
	switch len(key) {
	case 16, 24, 32:
		return nil
	}
	return fmt.Errorf("%w: the key has %d bytes; AES needs 16, 24 or 32", ErrEncryptionKey, len(key))
}

// Fingerprint identifies a key without revealing it: the first 8 bytes of
// its SHA-256, in hex.
func Fingerprint(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// ReadKeyFile reads an AES key from path. The file holds the key as raw bytes
// (16, 24 or 32 of them), as hex (32, 48 or 64 digits) or as standard base64;
// surrounding white space is ignored. Create one with
// `head -c 32 /dev/urandom | base64 > patron.key`.
func ReadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read encryption key file: %w", err)
	}
	// Text encodings first: 32 hex digits or base64 characters are also 32 raw bytes.
	s := strings.TrimSpace(string(b))
	if k, err := hex.DecodeString(s); err == nil && checkKey(k) == nil {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && checkKey(k) == nil {
		return k, nil
	}
	if err := checkKey(b); err == nil {
		return b, nil
	}
	return nil, fmt.Errorf("encryption key file %s: %w: want 16, 24 or 32 bytes, raw, hex or base64 (make one with `head -c 32 /dev/urandom | base64 > %s`)", path, ErrEncryptionKey, path)
}

// writeFileAtomic replaces path with data (see atomicfile.Write).
func writeFileAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	return nil
}

// syncDir fsyncs a directory so that renames and creations in it are durable.
func syncDir(dir string) error {
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	return nil
}
