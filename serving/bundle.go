package serving

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/patron-crm/patron/models/churn"
	"github.com/patron-crm/patron/models/privacy"
	"github.com/patron-crm/patron/models/profiles"
	"github.com/patron-crm/patron/models/recommend"
	"github.com/patron-crm/patron/models/registry"
	"github.com/patron-crm/patron/models/value"
)

// requiredTables are the bundle tables the server reads. A bundle without
// one of them is refused rather than served with endpoints that fail later.
var requiredTables = append([]string{profiles.CustomerTable, profiles.ItemTable}, recommend.Tables()...)

// loadedBundle is an open bundle with the readers built on it. Requests hold
// a reference while they use it; the server holds one while the bundle is
// current. The database is closed when the last reference is released, so a
// swap never closes a bundle under a request that is still reading it.
type loadedBundle struct {
	bundle *registry.Bundle
	// store is what the model readers read: the bundle, with suppressed
	// (forgotten) customers hidden (see privacy.go).
	store    bundleStore
	manifest registry.Manifest
	profiles *profiles.Store
	// recs answers recommendation requests; opened by validate, which
	// loads its catalog, neighbour lists and rankings into memory.
	recs *recommend.Recommender
	// values answers customer-value requests; nil when the bundle has no
	// customer-value model, and valuesMissing then says why.
	values        *value.Values
	valuesMissing string
	// churn answers churn requests; nil when the bundle has none, and
	// churnMissing then says why.
	churn        *churn.Scores
	churnMissing string
	// manifestPB is the manifest mapped to the API once, at load time.
	manifestPB *structpb.Struct

	// refs counts the references; it starts at 1 (the server's) and the
	// bundle is closed when it reaches 0. Once 0 it never rises again.
	refs   atomic.Int64
	closed atomic.Bool
}

func newLoadedBundle(b *registry.Bundle, supp *atomic.Pointer[privacy.List]) (*loadedBundle, error) {
	m := b.Manifest()
	st, err := manifestStruct(m)
	if err != nil {
		return nil, err
	}
	var store bundleStore = b
	if supp != nil {
		store = suppressingStore{b: b, list: supp}
	}
	l := &loadedBundle{bundle: b, store: store, manifest: m, profiles: profiles.Open(store), manifestPB: st}
	l.refs.Store(1)
	return l, nil
}

// tryAcquire takes a reference unless the bundle is already being closed.
func (l *loadedBundle) tryAcquire() bool {
	for {
		n := l.refs.Load()
		if n <= 0 {
			return false
		}
		if l.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference and reports whether it was the last one, in
// which case the caller must close the bundle.
func (l *loadedBundle) release() (last bool) {
	n := l.refs.Add(-1)
	if n < 0 {
		panic("serving: bundle released more often than acquired")
	}
	return n == 0
}

// close closes the database; it is called once, after the last release.
func (l *loadedBundle) close() error {
	if l.closed.Swap(true) {
		return nil
	}
	return l.bundle.Close()
}

// current holds the bundle the server answers from.
type current struct {
	p atomic.Pointer[loadedBundle]
}

// acquire returns the current bundle with a reference taken, or nil when no
// bundle is loaded. The caller must release it.
func (c *current) acquire() *loadedBundle {
	for {
		l := c.p.Load()
		if l == nil {
			return nil
		}
		if l.tryAcquire() {
			return l
		}
		// l was swapped out and fully released between Load and
		// tryAcquire: the pointer now holds its successor.
	}
}

// swap makes l current and returns the previous bundle, whose server
// reference the caller must release.
func (c *current) swap(l *loadedBundle) *loadedBundle {
	return c.p.Swap(l)
}

// openBundle opens version v of reg read-only and checks that it can be
// served: a known format, the tables the server reads, and a probe read of
// each. On error nothing is left open.
func openBundle(reg *registry.Registry, v registry.Version) (*loadedBundle, error) {
	return openBundleHiding(reg, v, nil, recommend.OpenOptions{})
}

// openBundleHiding is openBundle with the customers on *supp hidden from
// every read (supp nil: none) and the recommender opened with ro.
func openBundleHiding(reg *registry.Registry, v registry.Version, supp *atomic.Pointer[privacy.List], ro recommend.OpenOptions) (*loadedBundle, error) {
	b, err := reg.OpenBundle(v)
	if err != nil {
		return nil, err
	}
	l, err := newLoadedBundle(b, supp)
	if err == nil {
		err = validate(l, ro)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return l, nil
}

// errStopScan ends a probe scan after its first row.
var errStopScan = errors.New("stop scan")

// validate checks a freshly opened bundle before it is served, and opens
// its recommender (which reads the recommendation tables fully).
func validate(l *loadedBundle, ro recommend.OpenOptions) error {
	m := l.manifest
	if m.Format != registry.FormatVersion {
		return fmt.Errorf("bundle v%d has format %d, this binary reads format %d: %w",
			m.Version, m.Format, registry.FormatVersion, registry.ErrIncompatible)
	}
	rows := make(map[string]int64, len(m.Tables))
	for _, t := range m.Tables {
		rows[t.Name] = t.Rows
	}
	for _, name := range requiredTables {
		n, ok := rows[name]
		if !ok {
			return fmt.Errorf("bundle v%d lacks table %q (was it written by an older `patron train`?)", m.Version, name)
		}
		if n == 0 {
			continue
		}
		if err := probe(l, name); err != nil {
			return fmt.Errorf("bundle v%d: probe read of table %q (%d rows in manifest): %w", m.Version, name, n, err)
		}
	}
	recs, err := recommend.OpenWith(l.store, ro)
	if err != nil {
		return fmt.Errorf("bundle v%d: load recommendation models: %w", m.Version, err)
	}
	l.recs = recs
	vals, err := value.Open(l.store, int64(m.Version))
	switch {
	case errors.Is(err, value.ErrNoModel):
		l.valuesMissing = valueSkipped(m, err) // served without; value endpoints say why
	case err != nil:
		return fmt.Errorf("bundle v%d: load customer-value model: %w", m.Version, err)
	default:
		l.values = vals
	}
	isNotFound := func(err error) bool { return errors.Is(err, registry.ErrNotFound) }
	sc, err := churn.OpenScores(l.store, isNotFound)
	switch {
	case errors.Is(err, churn.ErrNoScores):
		l.churnMissing = skipped(m, "churn", err)
	case err != nil:
		return fmt.Errorf("bundle v%d: load churn scores: %w", m.Version, err)
	default:
		l.churn = sc
	}
	return nil
}

// probe reads and decodes the first record of table, so a bundle whose
// database or records are unreadable is caught at load time.
func probe(l *loadedBundle, table string) error {
	var key string
	err := l.store.Scan(table, func(k, _ []byte) error {
		key = string(k)
		return errStopScan
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return err
	}
	if !errors.Is(err, errStopScan) {
		return errors.New("table is empty")
	}
	// Recommendation tables are decoded whole by recommend.Open (customer
	// histories excepted, which are read per request like profiles).
	switch table {
	case profiles.CustomerTable:
		_, err = l.profiles.Customer(key)
	case profiles.ItemTable:
		_, err = l.profiles.Item(key)
	default:
		err = nil
	}
	return err
}

// manifestStruct maps a manifest to a google.protobuf.Struct through its
// JSON form, so the API shows the same fields as manifest.json.
func manifestStruct(m registry.Manifest) (*structpb.Struct, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode manifest of bundle v%d: %w", m.Version, err)
	}
	st := &structpb.Struct{}
	if err := protojson.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("encode manifest of bundle v%d: %w", m.Version, err)
	}
	return st, nil
}

// valueSkipped is why bundle m has no customer-value model: the reason
// training recorded in the manifest (metrics "value".skipped), or err.
func valueSkipped(m registry.Manifest, err error) string {
	return skipped(m, "value", err)
}

// skipped is why bundle m lacks the model whose manifest metrics are under
// key: the reason training recorded ("skipped"), or err.
func skipped(m registry.Manifest, key string, err error) string {
	var rep struct {
		Skipped string `json:"skipped"`
	}
	if json.Unmarshal(m.Metrics[key], &rep) == nil && rep.Skipped != "" {
		return "training could not fit one: " + strings.TrimPrefix(rep.Skipped, value.ErrNoModel.Error()+": ")
	}
	return err.Error()
}
