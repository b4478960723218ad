package synth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Truth is the content of the <base>.truth.json file.
type Truth struct {
	Generator string `json:"generator"`
	Config    Config `json:"config"`
	Counts    Stats  `json:"counts"`
}

// WriteTruthJSON writes the configuration and counts of a run as indented JSON.
func WriteTruthJSON(w io.Writer, cfg Config, st Stats) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Truth{Generator: "patron synth (BG/NBD, Fader, Hardie & Lee 2005)", Config: cfg, Counts: st})
}

// Paths are the files WriteFiles writes.
type Paths struct {
	Orders    string `json:"orders"`
	Customers string `json:"truth_customers,omitempty"`
	Items     string `json:"truth_items,omitempty"`
	JSON      string `json:"truth_json,omitempty"`
}

// TruthPaths returns the truth files beside an order file: <base>.truth.*,
// where base is the path without .csv, .csv.gz or .gz. A non-empty dir
// puts them there instead, under the same base name.
func TruthPaths(orders, dir string) Paths {
	base := orders
	for _, ext := range []string{".csv.gz", ".gz", ".csv"} {
		if strings.HasSuffix(base, ext) {
			base = strings.TrimSuffix(base, ext)
			break
		}
	}
	if dir != "" {
		base = filepath.Join(dir, filepath.Base(base))
	}
	return Paths{Orders: orders, Customers: base + ".truth.customers.csv", Items: base + ".truth.items.csv", JSON: base + ".truth.json"}
}

// WriteFiles generates cfg's shop into the files p names: the orders (gzip
// when the name ends in .gz; "-" writes stdout instead) and, where p names
// them, the truth files. Each file is written under a temporary name and
// renamed when complete, so a failed run leaves no partial file behind.
func WriteFiles(ctx context.Context, cfg Config, p Paths, stdout io.Writer, progress func(Progress)) (Config, Stats, error) {
	var created []*atomicFile
	defer func() {
		for _, f := range created {
			f.abort()
		}
	}()
	open := func(path string) (*atomicFile, error) {
		if path == "" {
			return nil, nil
		}
		f, err := createAtomic(path)
		if err != nil {
			return nil, err
		}
		created = append(created, f)
		return f, nil
	}
	if p.Orders == "" {
		return cfg, Stats{}, errors.New("synth: no order file given")
	}
	out := Output{Orders: stdout, Progress: progress}
	if p.Orders != "-" {
		of, err := open(p.Orders)
		if err != nil {
			return cfg, Stats{}, err
		}
		out.Orders = of.f
	}
	cf, err := open(p.Customers)
	if err != nil {
		return cfg, Stats{}, err
	}
	itf, err := open(p.Items)
	if err != nil {
		return cfg, Stats{}, err
	}
	jf, err := open(p.JSON)
	if err != nil {
		return cfg, Stats{}, err
	}

	var zw *gzip.Writer
	if strings.HasSuffix(p.Orders, ".gz") {
		zw = gzip.NewWriter(out.Orders)
		out.Orders = zw
	}
	if cf != nil {
		out.Customers = cf.f
	}
	if itf != nil {
		out.Items = itf.f
	}
	cfg, st, err := Generate(ctx, cfg, out)
	if err != nil {
		return cfg, st, err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return cfg, st, fmt.Errorf("write %s: %w", p.Orders, err)
		}
	}
	if jf != nil {
		if err := WriteTruthJSON(jf.f, cfg, st); err != nil {
			return cfg, st, fmt.Errorf("write %s: %w", p.JSON, err)
		}
	}
	for _, f := range created {
		if err := f.commit(); err != nil {
			return cfg, st, err
		}
	}
	created = nil
	return cfg, st, nil
}

// atomicFile is a file written under a temporary name in its directory.
type atomicFile struct {
	f    *os.File
	path string
}

func createAtomic(path string) (*atomicFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &atomicFile{f: f, path: path}, nil
}

func (a *atomicFile) commit() error {
	if err := a.f.Chmod(0o644); err != nil {
		a.abort()
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	if err := a.f.Close(); err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	if err := os.Rename(a.f.Name(), a.path); err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	return nil
}

func (a *atomicFile) abort() {
	a.f.Close()
	os.Remove(a.f.Name())
}
