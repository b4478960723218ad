package privacy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// AuditName is the audit log's file name in a data directory.
const AuditName = "audit.log"

// AuditPath returns the audit log's path in dataDir.
func AuditPath(dataDir string) string { return filepath.Join(dataDir, AuditName) }

// AuditRecord is one line of the audit log: one forgotten customer. It
// names the customer by the hash of their id only.
type AuditRecord struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"` // "forget_customer"
	// CustomerIDSHA256 is the SHA-256 of the customer id, in hex.
	CustomerIDSHA256 string `json:"customer_id_sha256"`
	// Who asked: "api-key:<name>" for the RPC, "cli:<os user>" for the command.
	Who string `json:"who"`
	// AlreadySuppressed is true when the id was on the list before.
	AlreadySuppressed bool `json:"already_suppressed"`
	// Known is true when any bundle held rows of the customer.
	Known bool `json:"known"`
	// RowsRemoved counts this customer's rows removed over all bundles.
	RowsRemoved int64 `json:"rows_removed"`
	// BundlesRewritten are the versions rewritten without the customers of
	// this forget, and NewVersion the version published in place of the
	// active bundle (0: none).
	BundlesRewritten []int64 `json:"bundles_rewritten"`
	NewVersion       int64   `json:"new_version,omitempty"`
	// Error, when set, says why the forget stopped part-way (the
	// suppression list was written first; running it again finishes it).
	Error string `json:"error,omitempty"`
}

// appendAudit appends records to dataDir's audit log, one JSON line each,
// with O_APPEND (each line is one write, so lines of concurrent writers
// never interleave) and syncs the file before returning.
func appendAudit(dataDir string, recs []AuditRecord) error {
	var buf []byte
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		buf = append(append(buf, b...), '\n')
	}
	path := AuditPath(dataDir)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit log %s: %w", path, err)
	}
	return nil
}
