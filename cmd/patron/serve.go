package main

import (
	"context"
	"errors"
)

// runServe is a placeholder until the command is written.
func runServe(ctx context.Context, a *app, args []string) error {
	return errors.New("serve: not implemented yet")
}
