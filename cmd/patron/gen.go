package main

import (
	"context"
	"errors"
)

// runGen is a placeholder until the command is written.
func runGen(ctx context.Context, a *app, args []string) error {
	return errors.New("gen: not implemented yet")
}
