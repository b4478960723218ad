package main

import (
	"context"
	"errors"
)

// runModels is a placeholder until the command is written.
func runModels(ctx context.Context, a *app, args []string) error {
	return errors.New("models: not implemented yet")
}
