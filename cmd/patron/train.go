package main

import (
	"context"
	"errors"
)

// runTrain is a placeholder until the command is written.
func runTrain(ctx context.Context, a *app, args []string) error {
	return errors.New("train: not implemented yet")
}
