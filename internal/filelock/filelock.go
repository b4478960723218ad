// Package filelock takes exclusive advisory locks on files (flock), the way
// processes sharing a data directory take turns: the registry's publish
// lock and the forget lock. The kernel releases a lock when its process
// dies, so a crash never leaves one held.
package filelock

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Lock creates path's directory and the file if needed, waits for an
// exclusive lock on it and returns the function that releases it.
func Lock(path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: create its directory: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w (is the data directory writable?)", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
