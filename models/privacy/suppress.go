// Package privacy erases customers on request ("forget me"): a suppression
// list that hides them from serving and training, the removal of their rows
// from the model bundles, and an audit log of every erasure.
//
// Layout in a data directory (beside the registry's):
//
//	<data-dir>/
//	  suppressed    SHA-256 (hex) of every forgotten customer id, one a line, sorted
//	  audit.log     one JSON line per forgotten customer: time, who, what was removed
//	  forget.lock   held (flock) while a forget runs, so forgets never interleave
//
// Neither file holds a customer id: the list and the log name customers by
// the SHA-256 of their id. That keeps them free of customer records, but it
// is pseudonymous, not anonymous: whoever has a candidate id can hash it and
// look it up (short numeric ids can be enumerated), so both files stay as
// private as the bundles themselves.
package privacy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/patron-crm/patron/internal/atomicfile"
)

// SuppressedName is the suppression list's file name in a data directory.
const SuppressedName = "suppressed"

// SuppressedPath returns the suppression list's path in dataDir.
func SuppressedPath(dataDir string) string { return filepath.Join(dataDir, SuppressedName) }

// Hash is the SHA-256 of a customer id.
type Hash [sha256.Size]byte

// HashID returns the SHA-256 of customer id id.
func HashID(id string) Hash { return sha256.Sum256([]byte(id)) }

// String formats h in lower-case hex, as the list and the audit log hold it.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// List is a set of suppressed (forgotten) customers, held as hashes of their
// ids. The zero value and nil are empty lists. A List is not changed after
// Load, so it is safe for concurrent readers.
type List struct {
	set map[Hash]struct{}
}

// Len returns how many customers the list holds.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.set)
}

// Contains reports whether customer id is suppressed. An empty list answers
// without hashing.
func (l *List) Contains(id string) bool {
	if l.Len() == 0 {
		return false
	}
	_, ok := l.set[HashID(id)]
	return ok
}

// ContainsBytes is Contains for an id held in a byte slice.
func (l *List) ContainsBytes(id []byte) bool {
	if l.Len() == 0 {
		return false
	}
	_, ok := l.set[sha256.Sum256(id)]
	return ok
}

// Hashes iterates over the list's hashes, in no order.
func (l *List) Hashes() func(yield func(Hash) bool) {
	return func(yield func(Hash) bool) {
		if l == nil {
			return
		}
		for h := range l.set {
			if !yield(h) {
				return
			}
		}
	}
}

// ContainsHash reports whether the list holds h.
func (l *List) ContainsHash(h Hash) bool {
	if l.Len() == 0 {
		return false
	}
	_, ok := l.set[h]
	return ok
}

// Load reads the suppression list of dataDir. A missing file is an empty
// list; a malformed line is an error naming the file and line.
func Load(dataDir string) (*List, error) {
	path := SuppressedPath(dataDir)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &List{set: map[Hash]struct{}{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read suppression list: %w", err)
	}
	return parse(b, path)
}

// parse reads a list: one hex SHA-256 a line; blank lines and "#" comments
// are ignored.
func parse(b []byte, path string) (*List, error) {
	l := &List{set: map[Hash]struct{}{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var h Hash
		if len(line) != 2*len(h) {
			return nil, fmt.Errorf("suppression list %s line %d: want a SHA-256 in hex (64 digits), got %d characters", path, n, len(line))
		}
		if _, err := hex.Decode(h[:], []byte(line)); err != nil {
			return nil, fmt.Errorf("suppression list %s line %d: %v", path, n, err)
		}
		l.set[h] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("suppression list %s: %w", path, err)
	}
	return l, nil
}

// listHeader opens the file so that whoever finds it knows what it is.
const listHeader = "# patron suppression list: SHA-256 (hex) of the ids of customers forgotten with\n" +
	"# `patron customers forget` or the ForgetCustomer RPC. Servers answer them as unknown;\n" +
	"# training leaves their order lines out. Do not edit while patron runs.\n"

// Add puts ids on dataDir's suppression list and returns how many were not
// on it yet. Adding an id twice changes nothing. The file is replaced
// atomically (a temporary file, synced, renamed over the old one, and the
// directory synced), so readers see the old list or the new one, whole.
// Concurrent writers must be serialized by the caller (Forget holds
// forget.lock).
func Add(dataDir string, ids []string) (added int, err error) {
	l, err := Load(dataDir)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		h := HashID(id)
		if _, ok := l.set[h]; !ok {
			l.set[h] = struct{}{}
			added++
		}
	}
	if added == 0 {
		return 0, nil
	}
	lines := make([]string, 0, len(l.set))
	for h := range l.set {
		lines = append(lines, h.String())
	}
	slices.Sort(lines)
	data := []byte(listHeader + strings.Join(lines, "\n") + "\n")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return 0, fmt.Errorf("write suppression list: %w", err)
	}
	if err := atomicfile.Write(SuppressedPath(dataDir), data, 0o600); err != nil {
		return 0, err
	}
	return added, nil
}
