package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/patron-crm/patron/features"
)

func runIngest(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("ingest", "ingest --orders FILE [flags]",
		`  patron ingest --orders data/online_retail.csv.gz
  patron ingest --orders orders.jsonl --json > summary.json
  zcat orders.csv.gz | patron ingest --orders - --rejects rejects.csv
  patron ingest --orders export.csv --delimiter ';' --columns order_id=Bestellung,customer_id=Kunde --tz Europe/Berlin`)
	var rf readFlags
	rf.register(fs)
	rf.registerDataDir(fs)
	asOf := fs.String("as-of", "", "only read lines before this date (YYYY-MM-DD), as training would")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts, rej, err := rf.options()
	if err != nil {
		return err
	}
	if rej != nil {
		defer rej.Close()
	}
	if *asOf != "" {
		if opts.Before, err = parseDate("as-of", *asOf, opts.Location); err != nil {
			return err
		}
	}
	p := a.newProgress(*jsonOut)
	opts.Progress = readProgress(p, rf.orders)
	ds, err := a.readOrders(ctx, rf.orders, opts)
	p.Done()
	var summary *features.Summary
	var re *features.RejectsError
	switch {
	case err == nil:
		summary = &ds.Summary
	case errors.As(err, &re):
		summary = &re.Summary // show what was found, then fail
	default:
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if werr := enc.Encode(summary); werr != nil {
			return werr
		}
	} else if werr := summary.WriteText(a.stdout); werr != nil {
		return werr
	}
	if rej != nil {
		if cerr := rej.Close(); cerr != nil && err == nil {
			return cerr
		}
	}
	return err
}
