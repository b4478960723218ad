package main

import (
	"context"
	"errors"
)

// runDemo is a placeholder until the command is written.
func runDemo(ctx context.Context, a *app, args []string) error {
	return errors.New("demo: not implemented yet")
}
