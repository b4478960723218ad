package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/patron-crm/patron/models/registry"
)

const modelsExamples = `  patron models list --data-dir patron-data
  patron models show 3 --data-dir patron-data      (or: show active)
  patron models activate 2 --data-dir patron-data  (roll back; a running server follows)
  patron models delete 1 --data-dir patron-data`

// runModels lists, shows, activates and deletes the bundles of a data directory.
func runModels(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := a.newFlagSet("models", "models list|show V|activate V|delete V [flags]", modelsExamples)
		var sf storeFlags
		sf.register(fs)
		fs.Bool("json", false, "print JSON")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		fs.Usage()
		return usageError{"models: name a subcommand: list, show, activate or delete"}
	}
	sub, rest := args[0], args[1:]
	var synopsis string
	needVersion := true
	switch sub {
	case "list":
		synopsis, needVersion = "models list [--data-dir DIR] [--json]", false
	case "show":
		synopsis = "models show V|active [--data-dir DIR]"
	case "activate":
		synopsis = "models activate V [--data-dir DIR]"
	case "delete":
		synopsis = "models delete V [--data-dir DIR]"
	default:
		return usageError{fmt.Sprintf("models: unknown subcommand %q: use list, show, activate or delete", sub)}
	}
	fs := a.newFlagSet("models "+sub, synopsis, modelsExamples)
	var sf storeFlags
	sf.register(fs)
	jsonOut := fs.Bool("json", false, "print JSON")
	// The version may come before or after the flags.
	var arg string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		arg, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if arg == "" && fs.NArg() > 0 {
		arg = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("models %s: unexpected argument %q", sub, fs.Arg(0))}
	}
	if needVersion && arg == "" {
		return usageError{fmt.Sprintf("models %s: name a version (see `patron models list`)", sub)}
	}
	if !needVersion && arg != "" {
		return usageError{fmt.Sprintf("models %s: unexpected argument %q", sub, arg)}
	}
	reg, err := sf.open(0)
	if err != nil {
		return err
	}
	var v registry.Version
	if needVersion {
		if sub == "show" && arg == "active" {
			if v, err = reg.Active(); err != nil {
				return err
			}
		} else if v, err = registry.ParseVersion(arg); err != nil {
			return usageError{err.Error()}
		}
	}
	switch sub {
	case "list":
		return a.listModels(reg, *jsonOut)
	case "show":
		m, err := reg.Manifest(v)
		if err != nil {
			return err
		}
		return writeJSON(a.stdout, m)
	case "activate":
		if err := reg.Activate(v); err != nil {
			return err
		}
		return a.report(*jsonOut, map[string]any{"active": v}, "bundle %d is active; running servers switch to it within seconds\n", v)
	default: // delete
		if err := reg.Delete(v); err != nil {
			return err
		}
		return a.report(*jsonOut, map[string]any{"deleted": v}, "deleted bundle %d\n", v)
	}
}

// listModels prints one line per bundle, the active one marked.
func (a *app) listModels(reg *registry.Registry, jsonOut bool) error {
	ms, err := reg.List()
	if err != nil {
		return err
	}
	active, err := reg.Active()
	if err != nil && !errors.Is(err, registry.ErrNoActive) {
		return err
	}
	if jsonOut {
		type entry struct {
			registry.Manifest
			Active bool `json:"active"`
		}
		out := make([]entry, len(ms))
		for i, m := range ms {
			out[i] = entry{m, m.Version == active}
		}
		return writeJSON(a.stdout, out)
	}
	if len(ms) == 0 {
		fmt.Fprintf(a.stdout, "no bundles in %s: run `patron train --orders FILE --data-dir %s`\n", reg.Dir(), reg.Dir())
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tACTIVE\tCREATED\tAS OF\tCUSTOMERS\tITEMS\tORDERS\tCODE\tINPUT")
	for _, m := range ms {
		mark := ""
		if m.Version == active {
			mark = "*"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Version, mark,
			m.CreatedAt.Local().Format("2006-01-02 15:04"), m.AsOf.Format("2006-01-02"),
			commaInt(m.Counts["customers"]), commaInt(m.Counts["items"]), commaInt(m.Counts["orders"]),
			m.CodeVersion, m.Input.Path)
	}
	return tw.Flush()
}

// report prints v as JSON, or the formatted text.
func (a *app) report(jsonOut bool, v any, format string, args ...any) error {
	if jsonOut {
		return writeJSON(a.stdout, v)
	}
	fmt.Fprintf(a.stdout, format, args...)
	return nil
}
