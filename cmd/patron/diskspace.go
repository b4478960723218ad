package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/patron-crm/patron/models/registry"
)

// Errors of a full disk and of a data directory that cannot be written.
// Badger flattens the errors it wraps into text, so they are recognised by
// errors.Is where the chain survives and by their message where it does not.
var (
	noSpaceErrnos     = []syscall.Errno{syscall.ENOSPC, syscall.EFBIG, syscall.EDQUOT}
	notWritableErrnos = []syscall.Errno{syscall.EACCES, syscall.EPERM, syscall.EROFS, syscall.ENOTDIR}
)

// matchErrno returns the first of errnos that err is, or whose text it
// holds, and false when none.
func matchErrno(err error, errnos []syscall.Errno) (syscall.Errno, bool) {
	msg := err.Error()
	for _, e := range errnos {
		if errors.Is(err, e) || strings.Contains(msg, e.Error()) {
			return e, true
		}
	}
	return 0, false
}

// explainWriteError turns a failed write of a new bundle into a message
// that says what went wrong, what to do, and that the active bundle is
// untouched (a failed publish never changes ACTIVE). Other errors, and
// permission errors that do not concern the data directory (an order file
// that cannot be read), pass through unchanged.
func explainWriteError(err error, reg *registry.Registry) error {
	if err == nil {
		return nil
	}
	dir := reg.Dir()
	var what string
	if e, ok := matchErrno(err, noSpaceErrnos); ok {
		what = fmt.Sprintf("no room to write the new bundle in %s (%v: the disk is full, or a quota or file size limit was reached); free space there, or delete bundles no longer needed (`patron models list`, `patron models delete VERSION`), then run `patron train` again", dir, e)
	} else if e, ok := matchErrno(err, notWritableErrnos); ok && strings.Contains(err.Error(), filepath.Clean(dir)) {
		what = fmt.Sprintf("cannot write the new bundle in %s (%v); give a --data-dir that is a directory this user can create and write (or mount it writable), then run `patron train` again", dir, e)
	} else {
		return err
	}
	switch v, aerr := reg.Active(); {
	case aerr == nil:
		what += fmt.Sprintf("; bundle v%d is still active (running servers keep serving it)", v)
	case errors.Is(aerr, registry.ErrNoActive):
		what += "; no bundle was active before"
	}
	// The cause comes last: Badger's messages are long and may span lines.
	return fmt.Errorf("%s\ncause: %w", what, err)
}

// minTrainFree is the free space checkTrainSpace asks for on top of twice
// the active bundle: room for Badger's write-ahead logs (they hold what is
// written until a memtable is flushed, at most two memtables of 32 MiB).
const minTrainFree = 32 << 20

// freeSpace returns the bytes this user may still write in the file
// system holding dir (or its nearest existing parent). A variable so tests
// can stand in for a full disk.
var freeSpace = func(dir string) (uint64, error) {
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(dir, &st)
		if err == nil {
			return uint64(st.Bavail) * uint64(st.Bsize), nil
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, fs.ErrNotExist) || parent == dir {
			return 0, err
		}
		dir = parent
	}
}

// checkTrainSpace refuses to start training when the data directory's file
// system has clearly too little room for a new bundle: 32 MiB plus twice
// the active bundle (a bundle of the same size, and as much again while
// Badger compacts it on close). A full disk must be caught before Badger
// writes: it writes its logs and tables through memory-mapped files, and a
// write into one on a full disk kills the process with SIGBUS (Go's "fatal
// error: fault" and a stack trace) instead of returning an error. The check cannot see space
// taken by others during the run; when it cannot measure, it lets the
// write decide.
func checkTrainSpace(reg *registry.Registry) error {
	free, err := freeSpace(reg.Dir())
	if err != nil {
		return nil
	}
	var active int64
	v, aerr := reg.Active()
	if aerr == nil {
		filepath.WalkDir(filepath.Join(reg.Dir(), "models", v.String()), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					active += info.Size()
				}
			}
			return nil
		})
	}
	need := uint64(minTrainFree + 2*active)
	if free >= need {
		return nil
	}
	msg := fmt.Sprintf("not enough free space to train into %s: %s free, about %s needed (32 MiB for Badger's logs and twice the active bundle); free space there, or delete bundles no longer needed (`patron models list`, `patron models delete VERSION`), then run `patron train` again",
		reg.Dir(), formatBytes(free), formatBytes(need))
	if left, _ := filepath.Glob(filepath.Join(reg.Dir(), "models", ".staging-*")); len(left) > 0 {
		msg += fmt.Sprintf(" (%d staging directories of interrupted runs, models/.staging-*, may be deleted while no training runs; the next successful run removes them)", len(left))
	}
	if aerr == nil {
		msg += fmt.Sprintf("; bundle v%d is still active (running servers keep serving it)", v)
	}
	return errors.New(msg)
}

// formatBytes writes n in MiB with one decimal.
func formatBytes(n uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
