// Command patron learns churn, customer-lifetime-value and item-similarity
// models from an online shop's order history and serves them over gRPC and REST.
//
// Usage:
//
//	patron <command> [flags]
//
// Run `patron help` for the list of commands and `patron <command> --help`
// for a command's flags and an example.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand of the patron binary.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, app *app, args []string) error
}

// app carries what every command needs: where to write, and the build version.
type app struct {
	stdout  io.Writer
	stderr  io.Writer
	stdin   io.Reader
	version string
}

func commands() []command {
	return []command{
		{"gen", "generate a synthetic order history with known ground truth", runGen},
		{"ingest", "validate an order file and print its cleaning summary", runIngest},
		{"train", "train models from an order file and publish a bundle", runTrain},
		{"eval", "evaluate the models offline on a time split, beside baselines", runEval},
		{"models", "list, show, activate or delete model bundles", runModels},
		{"export", "export customer lists (tiers, segments) as CSV or JSON Lines", runExport},
		{"customers", "forget customers on request (privacy erasure from bundles and training)", runCustomers},
		{"serve", "serve the active bundle over gRPC and REST", runServe},
		{"keys", "create and list API keys for serve (--keys-file)", runKeys},
		{"demo", "train on the bundled Online Retail data and serve it on localhost", runDemo},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, version: version}
	err := a.main(ctx, os.Args[1:])
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // --help printed the usage; asking for help is not a failure
		}
		fmt.Fprintf(os.Stderr, "patron: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// main runs the command named by args[0].
func (a *app) main(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			return a.main(ctx, []string{args[1], "--help"})
		}
		a.usage(a.stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, a, args[1:])
		}
	}
	a.usage(a.stderr)
	return usageError{fmt.Sprintf("unknown command %q (see the list above)", args[0])}
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintf(w, "patron %s: customer intelligence from order history\n\nUsage: patron <command> [flags]\n\nCommands:\n", a.version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'patron <command> --help' for a command's flags and an example.\n")
}

// usageError is a mistake in the command line; main exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// newFlagSet returns a flag set whose --help text shows the command's purpose
// and examples, so every command documents itself.
func (a *app) newFlagSet(name, synopsis, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet("patron "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: patron %s\n\n", synopsis)
		fmt.Fprintf(w, "Flags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nExamples:\n%s\n", examples)
	}
	return fs
}

// parseFlags parses args and rejects stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q (flags go before it? see --help)", fs.Name(), fs.Arg(0))}
	}
	return nil
}

func runVersion(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("version", "version", "  patron version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "patron %s\n", a.version)
	return nil
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
