package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// DefaultKeep is how many bundles Publish keeps when Options.Keep is zero.
const DefaultKeep = 5

// Options configures a Registry.
type Options struct {
	// EncryptionKey, when set, encrypts new bundles with AES (16, 24 or 32
	// bytes: AES-128/192/256) and is required to open encrypted ones.
	EncryptionKey []byte
	// Keep is how many bundles Publish retains (default 5). The active bundle
	// is never deleted.
	Keep int
	// CacheBytes bounds Badger's block cache of each open bundle (default 64 MiB).
	CacheBytes int64
}

// Registry manages the bundles of one data directory. It holds no open
// databases itself and is safe for concurrent use by several goroutines and
// several processes.
type Registry struct {
	dir  string
	opts Options
	// crashPoint, when set (by tests only), is called at each step of
	// Publish so a test can kill the process there.
	crashPoint func(step string)
}

// Open returns the registry of dataDir. It does not create anything; writers
// create the layout on first publish.
func Open(dataDir string, opts Options) (*Registry, error) {
	if dataDir == "" {
		return nil, errors.New("registry: empty data directory")
	}
	if len(opts.EncryptionKey) > 0 {
		if err := checkKey(opts.EncryptionKey); err != nil {
			return nil, err
		}
	}
	if opts.Keep < 0 {
		return nil, fmt.Errorf("registry: keep %d: must be at least 1 (0 = default %d)", opts.Keep, DefaultKeep)
	}
	if opts.Keep == 0 {
		opts.Keep = DefaultKeep
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 64 << 20
	}
	return &Registry{dir: dataDir, opts: opts}, nil
}

// Dir returns the data directory.
func (r *Registry) Dir() string { return r.dir }

func (r *Registry) modelsDir() string             { return filepath.Join(r.dir, "models") }
func (r *Registry) bundleDir(v Version) string    { return filepath.Join(r.modelsDir(), v.String()) }
func (r *Registry) activeFile() string            { return filepath.Join(r.dir, "ACTIVE") }
func (r *Registry) manifestFile(v Version) string { return filepath.Join(r.bundleDir(v), manifestName) }

const (
	manifestName  = "manifest.json"
	stagingPrefix = ".staging-"
	deletePrefix  = ".deleting-"
	lastName      = "LAST"
)

// String formats v as its decimal number, the name of its directory.
func (v Version) String() string { return strconv.FormatInt(int64(v), 10) }

// ParseVersion parses a version number such as "7".
func ParseVersion(s string) (Version, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad model version %q: want a positive number such as 3", s)
	}
	return Version(n), nil
}

// versions returns the versions of complete bundles (those with a manifest), ascending.
func (r *Registry) versions() ([]Version, error) {
	entries, err := os.ReadDir(r.modelsDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: list %s: %w", r.modelsDir(), err)
	}
	var vs []Version
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || n <= 0 {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.modelsDir(), e.Name(), manifestName)); err != nil {
			continue
		}
		vs = append(vs, Version(n))
	}
	slices.Sort(vs)
	return vs, nil
}

// List returns the manifests of all complete bundles, oldest first.
func (r *Registry) List() ([]Manifest, error) {
	vs, err := r.versions()
	if err != nil {
		return nil, err
	}
	out := make([]Manifest, 0, len(vs))
	for _, v := range vs {
		m, err := r.Manifest(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Active returns the active version, or ErrNoActive. It reads one small file,
// so a server may poll it every second.
func (r *Registry) Active() (Version, error) {
	b, err := os.ReadFile(r.activeFile())
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%w in %s: run `patron train --orders FILE --data-dir %s`", ErrNoActive, r.dir, r.dir)
	}
	if err != nil {
		return 0, fmt.Errorf("registry: read %s: %w", r.activeFile(), err)
	}
	v, err := ParseVersion(string(b))
	if err != nil {
		return 0, fmt.Errorf("registry: %s: %w", r.activeFile(), err)
	}
	return v, nil
}

// Manifest reads one bundle's manifest.json (no database is opened).
func (r *Registry) Manifest(v Version) (Manifest, error) {
	b, err := os.ReadFile(r.manifestFile(v))
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("model bundle %d: %w in %s (see `patron models list`)", v, ErrNotFound, r.dir)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("registry: read manifest of bundle %d: %w", v, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("registry: %s: %w: %v", r.manifestFile(v), ErrIncompatible, err)
	}
	if m.Version != v {
		return Manifest{}, fmt.Errorf("registry: %s names version %d, not %d: %w", r.manifestFile(v), m.Version, v, ErrIncompatible)
	}
	return m, nil
}

// Activate makes v the active bundle after checking that it opens.
func (r *Registry) Activate(v Version) error {
	b, err := r.OpenBundle(v)
	if err != nil {
		return err
	}
	if err := b.Close(); err != nil {
		return fmt.Errorf("registry: close bundle %d: %w", v, err)
	}
	unlock, err := r.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return r.writeActive(v)
}

// writeActive replaces ACTIVE with v by writing a temporary file and renaming
// it over the old one, so readers see either the old or the new version.
func (r *Registry) writeActive(v Version) error {
	r.step("write-active")
	return writeFileAtomic(r.activeFile(), []byte(v.String()+"\n"))
}

// Delete removes bundle v; it refuses the active bundle. A server that has
// the bundle open keeps reading it until it closes it.
func (r *Registry) Delete(v Version) error {
	unlock, err := r.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(r.manifestFile(v)); err != nil {
		return fmt.Errorf("delete model bundle %d: %w in %s", v, ErrNotFound, r.dir)
	}
	if a, err := r.Active(); err == nil && a == v {
		return fmt.Errorf("delete model bundle %d: it is the active bundle; activate another one first (`patron models activate V`)", v)
	}
	return r.remove(v)
}

// remove deletes a bundle directory: it is first renamed away so that a crash
// half-way never leaves a half-deleted directory that looks like a bundle.
func (r *Registry) remove(v Version) error {
	tmp := filepath.Join(r.modelsDir(), deletePrefix+v.String())
	if err := os.Rename(r.bundleDir(v), tmp); err != nil {
		return fmt.Errorf("registry: delete bundle %d: %w", v, err)
	}
	if err := syncDir(r.modelsDir()); err != nil {
		return err
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("registry: delete bundle %d: %w", v, err)
	}
	return nil
}

// OpenBundle opens bundle v read-only. Any number of processes may hold the
// same bundle open while another process publishes new ones.
func (r *Registry) OpenBundle(v Version) (*Bundle, error) {
	m, err := r.Manifest(v)
	if err != nil {
		return nil, err
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("model bundle %d has format %d, this binary reads format %d: %w (retrain with this version)", v, m.Format, FormatVersion, ErrIncompatible)
	}
	key, err := r.keyFor(m)
	if err != nil {
		return nil, err
	}
	db, err := badger.Open(r.badgerOptions(filepath.Join(r.bundleDir(v), "db"), key).WithReadOnly(true))
	if err != nil {
		if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
			return nil, fmt.Errorf("open model bundle %d: %w", v, ErrEncryptionKey)
		}
		return nil, fmt.Errorf("open model bundle %d: %w", v, err)
	}
	return &Bundle{m: m, db: db}, nil
}

// keyFor returns the key to open a bundle with, checking it against the
// manifest's fingerprint so a wrong key is named before Badger is involved.
func (r *Registry) keyFor(m Manifest) ([]byte, error) {
	if !m.Encrypted {
		return nil, nil
	}
	if len(r.opts.EncryptionKey) == 0 {
		return nil, fmt.Errorf("model bundle %d is encrypted: %w; pass --encryption-key-file with the key it was trained with", m.Version, ErrEncryptionKey)
	}
	if fp := Fingerprint(r.opts.EncryptionKey); fp != m.KeyFingerprint {
		return nil, fmt.Errorf("model bundle %d was encrypted with key %s, not %s: %w", m.Version, m.KeyFingerprint, fp, ErrEncryptionKey)
	}
	return r.opts.EncryptionKey, nil
}

// badgerOptions are the options every bundle database is opened with: quiet,
// a bounded block cache, and the index cache encryption requires.
func (r *Registry) badgerOptions(dir string, key []byte) badger.Options {
	o := badger.DefaultOptions(dir).
		WithLogger(nil).
		WithBlockCacheSize(r.opts.CacheBytes).
		WithMetricsEnabled(false).
		WithNumGoroutines(2)
	if len(key) > 0 {
		// Badger panics when an encrypted database has no index cache.
		o = o.WithEncryptionKey(key).WithIndexCacheSize(16 << 20)
	}
	return o
}

// Bundle is an open, read-only bundle. Its methods are safe for concurrent use.
type Bundle struct {
	m    Manifest
	db   *badger.DB
	once sync.Once
	err  error
}

// Manifest returns the bundle's manifest.
func (b *Bundle) Manifest() Manifest { return b.m }

// Version returns the bundle's version.
func (b *Bundle) Version() Version { return b.m.Version }

// HasTable reports whether the bundle's manifest lists table.
func (b *Bundle) HasTable(table string) bool {
	for _, t := range b.m.Tables {
		if t.Name == table {
			return true
		}
	}
	return false
}

// Get calls fn with the value stored under key in table; the slice is valid
// only during fn. It returns an error wrapping ErrNotFound when the key is absent.
func (b *Bundle) Get(table string, key []byte, fn func(val []byte) error) error {
	var buf [160]byte
	k := tableKey(buf[:0], table, key)
	return b.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(k)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("bundle %d: get %s: %w", b.m.Version, table, err)
		}
		return item.Value(fn)
	})
}

// Scan calls fn for every key of table in key order; slices are valid only during fn.
func (b *Bundle) Scan(table string, fn func(key, val []byte) error) error {
	prefix := tableKey(nil, table, nil)
	return b.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			key := item.Key()[len(prefix):]
			if err := item.Value(func(val []byte) error { return fn(key, val) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close closes the database. It is safe to call more than once.
func (b *Bundle) Close() error {
	b.once.Do(func() { b.err = b.db.Close() })
	return b.err
}

// tableKey is the Badger key of key in table: the table name, a zero byte, the key.
func tableKey(dst []byte, table string, key []byte) []byte {
	dst = append(dst, table...)
	dst = append(dst, 0)
	return append(dst, key...)
}

// NewBuilder starts writing a new bundle into a staging directory. Nothing
// is visible to readers until Publish.
func (r *Registry) NewBuilder(m Manifest) (*Builder, error) {
	return r.newBuilder(m, nil)
}

// newBuilder is NewBuilder with the database options changed by tweak
// (nil: none).
func (r *Registry) newBuilder(m Manifest, tweak func(badger.Options) badger.Options) (*Builder, error) {
	if err := os.MkdirAll(r.modelsDir(), 0o755); err != nil {
		return nil, fmt.Errorf("registry: create %s: %w (is the data directory writable?)", r.modelsDir(), err)
	}
	staging, err := os.MkdirTemp(r.modelsDir(), fmt.Sprintf("%s%d-", stagingPrefix, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("registry: create staging directory in %s: %w", r.modelsDir(), err)
	}
	if err := os.Chmod(staging, 0o755); err != nil {
		os.RemoveAll(staging)
		return nil, fmt.Errorf("registry: %w", err)
	}
	key := r.opts.EncryptionKey
	o := r.badgerOptions(filepath.Join(staging, "db"), key).
		WithMemTableSize(32 << 20).
		WithNumMemtables(2).
		WithNumCompactors(2).
		WithCompactL0OnClose(true)
	if tweak != nil {
		o = tweak(o)
	}
	db, err := badger.Open(o)
	if err != nil {
		os.RemoveAll(staging)
		return nil, fmt.Errorf("registry: create bundle database: %w", err)
	}
	m.Format = FormatVersion
	m.Encrypted = len(key) > 0
	m.KeyFingerprint = ""
	if m.Encrypted {
		m.KeyFingerprint = Fingerprint(key)
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	return &Builder{r: r, m: m, staging: staging, db: db, wb: db.NewWriteBatch(), rows: map[string]int64{}}, nil
}

// Builder writes one new bundle. It is not safe for concurrent use.
type Builder struct {
	r       *Registry
	m       Manifest
	staging string
	db      *badger.DB
	wb      *badger.WriteBatch
	rows    map[string]int64
	done    bool
}

// Put stores val under key in table. Key and value are copied, so the caller
// may reuse its buffers. Table names must not contain a zero byte.
func (b *Builder) Put(table string, key, val []byte) error {
	if b.done {
		return errors.New("registry: Put after Publish or Abort")
	}
	if table == "" || strings.IndexByte(table, 0) >= 0 {
		return fmt.Errorf("registry: bad table name %q", table)
	}
	k := tableKey(make([]byte, 0, len(table)+1+len(key)), table, key)
	if err := b.wb.Set(k, bytes.Clone(val)); err != nil {
		return fmt.Errorf("registry: write %s: %w", table, err)
	}
	b.rows[table]++
	return nil
}

// SetMetrics records an evaluation report under name in the manifest.
func (b *Builder) SetMetrics(name string, report any) error {
	raw, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("registry: encode metrics %s: %w", name, err)
	}
	if b.m.Metrics == nil {
		b.m.Metrics = map[string]json.RawMessage{}
	}
	b.m.Metrics[name] = raw
	return nil
}

// seal ends the builder's writes for op (Publish or Replace): it flushes,
// closes and syncs the database and takes the publish lock. fail undoes
// the staging directory and returns its error; seal has already called it
// when it returns an error.
func (b *Builder) seal(op string) (unlock func(), fail func(error) (Manifest, error), err error) {
	if b.done {
		return nil, nil, fmt.Errorf("registry: %s after Publish or Abort", op)
	}
	b.done = true
	fail = func(err error) (Manifest, error) {
		b.db.Close()
		os.RemoveAll(b.staging)
		return Manifest{}, err
	}
	if err := b.finish(); err != nil {
		_, err = fail(err)
		return nil, nil, err
	}
	if unlock, err = b.r.lock(); err != nil {
		_, err = fail(err)
		return nil, nil, err
	}
	return unlock, fail, nil
}

// Publish finishes the bundle, gives it the next version and, if activate,
// makes it active. Then it removes the oldest bundles beyond Options.Keep
// (never the active one nor this one) and staging leftovers of crashed runs.
//
// Order of steps (each a point where a crash leaves a consistent directory):
// flush and close the database; sync its files; write manifest.json; rename
// the staging directory to its version; rename a new ACTIVE into place.
func (b *Builder) Publish(activate bool) (Manifest, error) {
	return b.publish(activate, 0)
}

// PublishReplacing publishes the bundle as Publish(true) does, and deletes
// bundle old, the one it replaces (the active bundle it is a copy of,
// without some rows), before the oldest bundles beyond Options.Keep go: the
// replaced bundle makes room for the new one, not a retained one.
func (b *Builder) PublishReplacing(old Version) (Manifest, error) {
	return b.publish(true, old)
}

// publish is Publish, deleting bundle replaced (0: none) once the new one
// is active.
func (b *Builder) publish(activate bool, replaced Version) (Manifest, error) {
	unlock, fail, err := b.seal("Publish")
	if err != nil {
		return Manifest{}, err
	}
	defer unlock()
	v, err := b.r.nextVersion()
	if err != nil {
		return fail(err)
	}
	b.m.Version = v
	if err := b.writeManifest(); err != nil {
		return fail(err)
	}
	b.r.step("manifest-written")
	if err := os.Rename(b.staging, b.r.bundleDir(v)); err != nil {
		return fail(fmt.Errorf("registry: publish bundle %d: %w", v, err))
	}
	if err := syncDir(b.r.modelsDir()); err != nil {
		return Manifest{}, err
	}
	if err := writeFileAtomic(filepath.Join(b.r.modelsDir(), lastName), []byte(v.String()+"\n")); err != nil {
		return Manifest{}, err
	}
	b.r.step("renamed")
	if activate {
		if err := b.r.writeActive(v); err != nil {
			return Manifest{}, err
		}
		b.r.step("activated")
	}
	if replaced != 0 && replaced != v {
		if err := b.r.remove(replaced); err != nil {
			return b.m, fmt.Errorf("registry: bundle %d replaced by %d, but deleting it failed: %w (delete it with `patron models delete %d`)", replaced, v, err, replaced)
		}
	}
	if err := b.r.cleanup(); err != nil {
		return b.m, err
	}
	return b.m, nil
}

// finish flushes, closes and syncs the database and lists its tables in the
// manifest.
func (b *Builder) finish() error {
	if err := b.wb.Flush(); err != nil {
		return fmt.Errorf("registry: write bundle: %w", err)
	}
	b.r.step("flushed")
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("registry: close bundle database: %w", err)
	}
	b.r.step("closed")
	if err := syncTree(b.staging); err != nil {
		return err
	}
	b.m.Tables = b.m.Tables[:0]
	for name, n := range b.rows {
		b.m.Tables = append(b.m.Tables, TableInfo{Name: name, Rows: n})
	}
	sort.Slice(b.m.Tables, func(i, j int) bool { return b.m.Tables[i].Name < b.m.Tables[j].Name })
	return nil
}

// writeManifest writes manifest.json into the staging directory.
func (b *Builder) writeManifest() error {
	mj, err := json.MarshalIndent(b.m, "", "  ")
	if err != nil {
		return fmt.Errorf("registry: encode manifest: %w", err)
	}
	return writeFileAtomic(filepath.Join(b.staging, manifestName), append(mj, '\n'))
}

// Abort discards the bundle.
func (b *Builder) Abort() error {
	if b.done {
		return nil
	}
	b.done = true
	b.wb.Cancel()
	err := b.db.Close()
	if rerr := os.RemoveAll(b.staging); err == nil {
		err = rerr
	}
	return err
}

// nextVersion is one more than the highest version ever published here
// (recorded in models/LAST, so deleting the newest bundle never reuses its
// number). The caller holds the lock.
func (r *Registry) nextVersion() (Version, error) {
	var last Version
	if b, err := os.ReadFile(filepath.Join(r.modelsDir(), lastName)); err == nil {
		if v, err := ParseVersion(string(b)); err == nil {
			last = v
		}
	}
	vs, err := r.versions()
	if err != nil {
		return 0, err
	}
	if n := len(vs); n > 0 && vs[n-1] > last {
		last = vs[n-1]
	}
	// A directory named after a version but without a manifest cannot
	// exist (the manifest is written before the rename), but be safe.
	for v := last + 1; ; v++ {
		if _, err := os.Stat(r.bundleDir(v)); errors.Is(err, fs.ErrNotExist) {
			return v, nil
		}
	}
}

// cleanup removes bundles beyond Keep (oldest first, never the active one
// nor the newest, which may have just been published inactive to be
// activated next), half-deleted directories and the staging directories of
// processes that no longer run. The caller holds the lock.
func (r *Registry) cleanup() error {
	vs, err := r.versions()
	if err != nil {
		return err
	}
	active, _ := r.Active()
	excess := len(vs) - r.opts.Keep
	for k, v := range vs {
		if excess <= 0 {
			break
		}
		if v == active || k == len(vs)-1 {
			continue
		}
		if err := r.remove(v); err != nil {
			return err
		}
		excess--
	}
	entries, err := os.ReadDir(r.modelsDir())
	if err != nil {
		return fmt.Errorf("registry: list %s: %w", r.modelsDir(), err)
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, deletePrefix):
		case strings.HasPrefix(name, stagingPrefix) && !processAlive(stagingPID(name)):
		case strings.HasPrefix(name, ".tmp-"):
		default:
			continue
		}
		if err := os.RemoveAll(filepath.Join(r.modelsDir(), name)); err != nil {
			return fmt.Errorf("registry: remove leftover %s: %w", name, err)
		}
	}
	return nil
}

// stagingPID returns the process id in a staging directory name, or 0.
func stagingPID(name string) int {
	rest := strings.TrimPrefix(name, stagingPrefix)
	pid, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '-'), 0)])
	if err != nil {
		return 0
	}
	return pid
}

// step marks a point in Publish where a test may crash the process.
func (r *Registry) step(name string) {
	if r.crashPoint != nil {
		r.crashPoint(name)
	}
}
