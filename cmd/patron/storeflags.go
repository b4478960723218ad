package main

import (
	"flag"
	"os"

	"github.com/patron-crm/patron/models/registry"
)

// storeFlags locate the data directory and its encryption key; every
// command that touches bundles shares them.
type storeFlags struct {
	dataDir string
	keyFile string
}

// defaultDataDir is $PATRON_DATA_DIR, else ./patron-data.
func defaultDataDir() string {
	if d := os.Getenv("PATRON_DATA_DIR"); d != "" {
		return d
	}
	return "patron-data"
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.dataDir, "data-dir", defaultDataDir(), "data directory holding the model bundles (env PATRON_DATA_DIR)")
	fs.StringVar(&s.keyFile, "encryption-key-file", "", "file with the AES key (16, 24 or 32 bytes; raw, hex or base64) that encrypts bundles at rest")
}

// open returns the registry of the data directory, keeping keep bundles.
func (s *storeFlags) open(keep int) (*registry.Registry, error) {
	opts := registry.Options{Keep: keep}
	if s.keyFile != "" {
		key, err := registry.ReadKeyFile(s.keyFile)
		if err != nil {
			return nil, err
		}
		opts.EncryptionKey = key
	}
	return registry.Open(s.dataDir, opts)
}
