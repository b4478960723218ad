// Package registry stores trained models as immutable, versioned bundles and
// tracks which one is active.
//
// Layout of a data directory (TensorFlow Serving's model lifecycle is the
// example followed):
//
//	<data-dir>/
//	  ACTIVE                  the active version number, e.g. "7\n" (replaced by rename)
//	  train.lock              held (flock) by the one process publishing at a time
//	  models/
//	    7/manifest.json       the bundle's manifest (also stored inside the database)
//	    7/db/                 a Badger database, written once, then opened read-only
//	    .staging-<id>/        a bundle being written; leftovers of a crash are removed later
//
// A bundle is written into a staging directory, closed and synced, renamed to
// its version number, and only then made active by replacing ACTIVE with a
// rename. A crash at any point therefore leaves the previous bundle active and
// loadable. Readers open bundles read-only, so `patron train` and `patron serve`
// can work on one data directory at the same time.
package registry

import (
	"encoding/json"
	"errors"
	"time"
)

// Version numbers a bundle. Versions are positive and increase with every
// training run on a data directory.
type Version int64

// Errors callers can test with errors.Is.
var (
	// ErrNoActive means the data directory has no active bundle yet.
	ErrNoActive = errors.New("no active model bundle")
	// ErrNotFound means a bundle version or a table key does not exist.
	ErrNotFound = errors.New("not found")
	// ErrEncryptionKey means the bundle is encrypted and the key is missing or wrong.
	ErrEncryptionKey = errors.New("encryption key missing or wrong")
	// ErrIncompatible means the bundle was written in a format this binary cannot read.
	ErrIncompatible = errors.New("incompatible bundle format")
)

// FormatVersion is the bundle layout this binary writes and reads.
const FormatVersion = 1

// Manifest describes one bundle. It is written as manifest.json beside the
// database and inside it.
type Manifest struct {
	Version     Version   `json:"version"`
	Format      int       `json:"format"`
	CreatedAt   time.Time `json:"created_at"`
	CodeVersion string    `json:"code_version"`
	// AsOf is the training date: only orders before it were used.
	AsOf  time.Time `json:"as_of"`
	Input Input     `json:"input"`
	// Params are the training parameters, as given (seed, horizon, ...).
	Params map[string]string `json:"params,omitempty"`
	// Counts are row counts of the training data (customers, items, orders, lines).
	Counts map[string]int64 `json:"counts,omitempty"`
	// Ingest is the cleaning summary of the input (features.Summary as JSON).
	Ingest json.RawMessage `json:"ingest,omitempty"`
	// Tables lists the bundle's tables with their row counts.
	Tables []TableInfo `json:"tables"`
	// Metrics holds evaluation reports by model name; later models add theirs.
	Metrics map[string]json.RawMessage `json:"metrics,omitempty"`
	// Encrypted reports whether the database is encrypted at rest, and
	// KeyFingerprint identifies the key (first 8 bytes of its SHA-256, hex) so
	// a wrong key is named before Badger is opened.
	Encrypted      bool   `json:"encrypted"`
	KeyFingerprint string `json:"key_fingerprint,omitempty"`
	// Derived is set when the bundle is a copy of another without some
	// rows (see Registry.CopyWithout).
	Derived *Derivation `json:"derived,omitempty"`
}

// Input identifies the order file a bundle was trained from.
type Input struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// TableInfo names a table in a bundle and the model package that owns it.
type TableInfo struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}
