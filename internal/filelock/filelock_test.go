package filelock

import (
	"path/filepath"
	"testing"
	"time"
)

// TestLockExcludes: a second Lock of the same file waits until the first
// is released.
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.lock")
	unlock, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		u, err := Lock(path)
		if err != nil {
			t.Error(err)
		} else {
			u()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("second lock taken while the first was held")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("second lock not taken after the first was released")
	}
}

func TestLockUnwritable(t *testing.T) {
	if _, err := Lock("/proc/no-such-dir/x.lock"); err == nil {
		t.Fatal("no error for a directory that cannot be created")
	}
}
