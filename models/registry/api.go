package registry

// API SKETCH: signatures are the contract; bodies are to be written.

import "errors"

var errTODO = errors.New("registry: not implemented yet")

// Options configures a Registry.
type Options struct {
	// EncryptionKey, when set, encrypts new bundles with AES (16, 24 or 32
	// bytes: AES-128/192/256) and is required to open encrypted ones.
	EncryptionKey []byte
	// Keep is how many bundles Publish retains (default 5). The active bundle
	// is never deleted.
	Keep int
}

// Registry manages the bundles of one data directory. It holds no open
// databases itself and is safe for concurrent use.
type Registry struct {
	dir  string
	opts Options
}

// Open returns the registry of dataDir. It does not create anything; writers
// create the layout on first publish.
func Open(dataDir string, opts Options) (*Registry, error) {
	return &Registry{dir: dataDir, opts: opts}, nil
}

// Dir returns the data directory.
func (r *Registry) Dir() string { return r.dir }

// List returns the manifests of all complete bundles, oldest first.
func (r *Registry) List() ([]Manifest, error) { return nil, errTODO }

// Active returns the active version, or ErrNoActive.
func (r *Registry) Active() (Version, error) { return 0, errTODO }

// Manifest reads one bundle's manifest.json (no database is opened).
func (r *Registry) Manifest(v Version) (Manifest, error) { return Manifest{}, errTODO }

// Activate makes v the active bundle after checking it opens.
func (r *Registry) Activate(v Version) error { return errTODO }

// Delete removes bundle v; it refuses the active bundle.
func (r *Registry) Delete(v Version) error { return errTODO }

// OpenBundle opens bundle v read-only.
func (r *Registry) OpenBundle(v Version) (*Bundle, error) { return nil, errTODO }

// NewBuilder starts writing a new bundle.
func (r *Registry) NewBuilder(m Manifest) (*Builder, error) { return nil, errTODO }

// Bundle is an open, read-only bundle. Its methods are safe for concurrent use.
type Bundle struct{}

// Manifest returns the bundle's manifest.
func (b *Bundle) Manifest() Manifest { return Manifest{} }

// Get calls fn with the value stored under key in table; the slice is valid only during fn.
// It returns ErrNotFound when the key is absent.
func (b *Bundle) Get(table string, key []byte, fn func(val []byte) error) error { return errTODO }

// Scan calls fn for every key of table in key order; slices are valid only during fn.
func (b *Bundle) Scan(table string, fn func(key, val []byte) error) error { return errTODO }

// Close closes the database.
func (b *Bundle) Close() error { return errTODO }

// Builder writes one new bundle.
type Builder struct{}

// Put stores val under key in table.
func (b *Builder) Put(table string, key, val []byte) error { return errTODO }

// Publish finishes the bundle, gives it the next version and, if activate, makes it active.
func (b *Builder) Publish(activate bool) (Manifest, error) { return Manifest{}, errTODO }

// Abort discards the bundle.
func (b *Builder) Abort() error { return errTODO }
