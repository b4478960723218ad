package synth

import (
	"context"
	"fmt"
	"io"

	"github.com/patron-crm/patron/features"
)

// Dataset generates the shop cfg describes and reads its order lines with
// opts, streaming them from Generate to features.Read through a pipe (a
// million customers never sit in memory as CSV). It is what tests and
// benchmarks that need a history with a known truth start from.
func Dataset(ctx context.Context, cfg Config, opts features.Options) (*features.Dataset, error) {
	pr, pw := io.Pipe()
	go func() {
		_, _, err := Generate(ctx, cfg, Output{Orders: pw})
		pw.CloseWithError(err)
	}()
	ds, err := features.Read(ctx, pr, opts)
	// Unblock Generate if Read stopped early.
	pr.CloseWithError(fmt.Errorf("synth: reading stopped"))
	if err != nil {
		return nil, fmt.Errorf("synth: generate and read: %w", err)
	}
	return ds, nil
}
