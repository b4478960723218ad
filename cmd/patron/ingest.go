package main

import (
	"context"
	"errors"
)

// runIngest is a placeholder until the command is written.
func runIngest(ctx context.Context, a *app, args []string) error {
	return errors.New("ingest: not implemented yet")
}
