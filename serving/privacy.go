// Forgotten customers: the suppression list and the ForgetCustomer RPC.
//
// The server reads the data directory's suppression list (models/privacy)
// beside ACTIVE: one stat a poll, and a read only when the file changed.
// Every read of a customer-keyed table goes through suppressingStore, which
// answers a suppressed id as absent, so a forgotten customer is unknown to
// every endpoint (value and churn NOT_FOUND, recommendations cold start,
// batches list them as not found) as soon as the server has seen the list,
// before any bundle is rewritten. Customer lists are built from a scan at
// load, so a changed list also reloads the bundle being served, which
// rebuilds them without the customer (totals included); until the reload
// lands, a page skips them. With an empty list a read costs one atomic load;
// otherwise a read of a customer table also hashes the id (SHA-256) and
// looks it up in a map.

package serving

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/patron-crm/patron/models/privacy"
	"github.com/patron-crm/patron/models/registry"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// bundleStore is what the model readers read; *registry.Bundle is one.
type bundleStore interface {
	Get(table string, key []byte, fn func(val []byte) error) error
	Scan(table string, fn func(key, val []byte) error) error
}

// suppressingStore reads a bundle as if the suppressed customers' rows
// were not in it.
type suppressingStore struct {
	b    *registry.Bundle
	list *atomic.Pointer[privacy.List]
}

func (s suppressingStore) Get(table string, key []byte, fn func(val []byte) error) error {
	if l := s.list.Load(); l.Len() > 0 && privacy.IsCustomerTable(table) && l.ContainsBytes(key) {
		return registry.ErrNotFound
	}
	return s.b.Get(table, key, fn)
}

func (s suppressingStore) Scan(table string, fn func(key, val []byte) error) error {
	l := s.list.Load()
	if l.Len() == 0 || !privacy.IsCustomerTable(table) {
		return s.b.Scan(table, fn)
	}
	return s.b.Scan(table, func(key, val []byte) error {
		if l.ContainsBytes(key) {
			return nil
		}
		return fn(key, val)
	})
}

// fileStamp identifies a version of a file without reading it.
type fileStamp struct {
	exists  bool
	size    int64
	modNano int64
	ino     uint64
}

func stampOf(fi fs.FileInfo) fileStamp {
	st := fileStamp{exists: true, size: fi.Size(), modNano: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
}

// checkSuppressed stats the suppression list and, when it changed, loads
// it. It reports whether the list in use changed. A list that cannot be
// read is logged and the previous one kept (forgotten customers stay
// hidden). Called by the watcher goroutine only.
func (s *Server) checkSuppressed() bool {
	path := privacy.SuppressedPath(s.reg.Dir())
	var st fileStamp
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		st = stampOf(fi)
	case errors.Is(err, fs.ErrNotExist):
	default:
		s.warnSuppressed(fmt.Sprintf("cannot stat the suppression list: %v", err))
		return false
	}
	if st == s.suppSeen {
		return false
	}
	list, err := privacy.Load(s.reg.Dir())
	if err != nil {
		s.warnSuppressed(err.Error())
		return false
	}
	s.suppSeen, s.suppWarn = st, ""
	old := s.supp.Swap(list)
	if old.Len() == list.Len() && old != nil {
		// Same size: the common case is a rewrite with nothing new.
		same := true
		for h := range list.Hashes() {
			if !old.ContainsHash(h) {
				same = false
				break
			}
		}
		if same {
			return false
		}
	}
	s.log.Info("suppression list loaded", "forgotten_customers", list.Len())
	return true
}

func (s *Server) warnSuppressed(msg string) {
	if msg != s.suppWarn {
		s.suppWarn = msg
		s.log.Warn("keeping the previous suppression list", "err", msg, "forgotten_customers", s.supp.Load().Len())
	}
}

// ForgetCustomer erases a customer (admin scope): see privacy.Forget. It
// answers once this server has applied the suppression list and loaded
// the rewritten bundle, so the next call here no longer sees the customer.
func (c *customerService) ForgetCustomer(ctx context.Context, req *patronv1.ForgetCustomerRequest) (*patronv1.ForgetCustomerResponse, error) {
	id := req.GetCustomerId()
	if err := checkID("customer_id", id); err != nil {
		return nil, err
	}
	who := c.s.caller(ctx)
	res, err := privacy.Forget(c.s.reg, []string{id}, who)
	hash := privacy.HashID(id).String()
	if err != nil {
		c.s.log.Error("forget customer", "customer_id_sha256", hash, "who", who, "err", err)
		return nil, status.Errorf(codes.Internal, "forget customer: %v; the customer is on the suppression list and hidden, "+
			"call ForgetCustomer again (or run `patron customers forget` on the server) to finish removing the rows", err)
	}
	c.s.log.Info("customer forgotten", "customer_id_sha256", hash, "who", who, "known", res.Customers[0].Known,
		"rows_removed", res.RowsRemoved, "new_version", int64(res.NewVersion), "bundles_rewritten", len(res.Rewritten), "duration", res.Duration.Round(time.Millisecond))
	c.s.recheck(ctx)
	out := &patronv1.ForgetCustomerResponse{Known: res.Customers[0].Known, NewVersion: int64(res.NewVersion),
		RowsRemoved: res.RowsRemoved, CustomerIdHash: hash}
	if res.Replaced != 0 {
		out.BundlesRewritten = append(out.BundlesRewritten, int64(res.Replaced))
	}
	for _, v := range res.Rewritten {
		out.BundlesRewritten = append(out.BundlesRewritten, int64(v))
	}
	return out, nil
}

// recheck asks the watcher for a check now and waits for it (or ctx).
func (s *Server) recheck(ctx context.Context) {
	done := make(chan struct{})
	select {
	case s.kick <- done:
	case <-ctx.Done():
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// caller names who made a call, for the audit log: "api-key:<name>", or
// "no-auth" when the server runs without keys.
func (s *Server) caller(ctx context.Context) string {
	if s.opts.Keys == nil {
		return "no-auth"
	}
	if token, _, err := bearerToken(ctx); err == nil {
		if k, ok := s.opts.Keys.lookup(token); ok {
			return "api-key:" + k.name
		}
	}
	return "api-key:unknown"
}
