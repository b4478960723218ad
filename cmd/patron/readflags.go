package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/privacy"
)

// readFlags are the flags that say how to read an order file; ingest and
// train share them so a file that ingests cleanly trains the same way.
type readFlags struct {
	orders       string
	format       string
	columns      string
	delimiter    string
	tz           string
	nonProduct   string
	noDefaultNP  bool
	maxErrorRate float64
	rejects      string
	// dataDir, when set, is the data directory whose suppression list
	// (forgotten customers) applies to the read.
	dataDir string
}

func (r *readFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.orders, "orders", "", "order file: CSV or JSON Lines, plain or gzip (detected); - reads stdin (required)")
	fs.StringVar(&r.format, "format", "auto", "input format: auto, csv or jsonl")
	fs.StringVar(&r.columns, "columns", "", "map canonical columns to the file's names, e.g. order_id=Invoice,customer_id=Client")
	fs.StringVar(&r.delimiter, "delimiter", ",", "CSV field delimiter (one character; \\t for tab)")
	fs.StringVar(&r.tz, "tz", "UTC", "time zone of timestamps without one, e.g. Europe/London")
	fs.StringVar(&r.nonProduct, "non-product", "", "more item ids that are not products, comma separated; a trailing * matches a prefix\n(defaults: "+strings.Join(features.DefaultNonProductCodes(), ",")+")")
	fs.BoolVar(&r.noDefaultNP, "no-default-non-product", false, "do not drop the default non-product item ids")
	fs.Float64Var(&r.maxErrorRate, "max-error-rate", features.DefaultMaxErrorRate, "fail when more than this share of lines is malformed (0.01 = 1%; -1 = no limit)")
	fs.StringVar(&r.rejects, "rejects", "", "write every rejected or dropped line with its reason to this CSV file")
}

// registerDataDir adds --data-dir for commands that read orders without
// publishing (ingest, eval): its suppression list applies to them too.
func (r *readFlags) registerDataDir(fs *flag.FlagSet) {
	fs.StringVar(&r.dataDir, "data-dir", defaultDataDir(), "data directory whose suppression list applies: lines of forgotten customers are dropped and counted (env PATRON_DATA_DIR)")
}

// options turns the flags into reader options. The caller closes the
// returned rejects file (nil when --rejects is not given).
func (r *readFlags) options() (features.Options, *os.File, error) {
	var o features.Options
	if r.orders == "" {
		return o, nil, usageError{"--orders is required: give an order file (CSV or JSON Lines, plain or gzip) or - for stdin"}
	}
	switch r.format {
	case "auto", "":
		o.Format = features.FormatAuto
	case "csv":
		o.Format = features.FormatCSV
	case "jsonl", "json":
		o.Format = features.FormatJSONL
	default:
		return o, nil, usageError{fmt.Sprintf("--format %q: want auto, csv or jsonl", r.format)}
	}
	cols, err := features.ParseColumnMap(r.columns)
	if err != nil {
		return o, nil, usageError{"--columns: " + err.Error()}
	}
	o.Columns = cols
	d := r.delimiter
	if d == `\t` || d == "tab" {
		d = "\t"
	}
	if len(d) != 1 {
		return o, nil, usageError{fmt.Sprintf("--delimiter %q: want one character such as , ; | or \\t", r.delimiter)}
	}
	o.Delimiter = d[0]
	loc, err := time.LoadLocation(r.tz)
	if err != nil {
		return o, nil, usageError{fmt.Sprintf("--tz %q: %v (use an IANA name such as Europe/London, or UTC)", r.tz, err)}
	}
	o.Location = loc
	rules := features.DefaultNonProduct()
	if r.noDefaultNP {
		rules, _ = features.NewNonProductRules(nil)
	}
	if r.nonProduct != "" {
		if rules, err = rules.With(strings.Split(r.nonProduct, ",")); err != nil {
			return o, nil, usageError{"--non-product: " + err.Error()}
		}
	}
	o.NonProduct = rules
	switch {
	case r.maxErrorRate < 0:
		o.MaxErrorRate = -1
	case r.maxErrorRate == 0:
		o.MaxErrorRate = features.NoMalformedLines
	case r.maxErrorRate > 1:
		return o, nil, usageError{fmt.Sprintf("--max-error-rate %v: give a share between 0 and 1 (0.01 = 1%%), or -1 for no limit", r.maxErrorRate)}
	default:
		o.MaxErrorRate = r.maxErrorRate
	}
	if r.dataDir != "" {
		list, err := privacy.Load(r.dataDir)
		if err != nil {
			return o, nil, fmt.Errorf("%w (the suppression list of forgotten customers; fix or restore it before reading orders)", err)
		}
		if list.Len() > 0 {
			o.Suppressed = list.ContainsBytes
		}
	}
	var rej *os.File
	if r.rejects != "" {
		if rej, err = os.Create(r.rejects); err != nil {
			return o, nil, fmt.Errorf("--rejects: %w", err)
		}
		o.Rejects = rej
	}
	return o, rej, nil
}

// parseDate reads a date flag: YYYY-MM-DD or RFC 3339, in loc.
func parseDate(name, s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Sprintf("--%s %q: want a date such as 2011-09-01 or an RFC 3339 time", name, s)}
}

// readProgress shows how far reading an order file has got, on a terminal.
func readProgress(p *progress, path string) func(features.Progress) {
	var size int64
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return func(pr features.Progress) {
		if size > 0 {
			p.Printf("reading %s: %3.0f%%, %s lines", path, 100*float64(pr.Bytes)/float64(size), commaInt(pr.Lines))
		} else {
			p.Printf("reading %s: %s lines", path, commaInt(pr.Lines))
		}
	}
}

// commaInt formats 1234567 as "1,234,567".
func commaInt(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// readOrders reads the order file named by --orders; "-" reads the command's
// standard input.
func (a *app) readOrders(ctx context.Context, path string, opts features.Options) (*features.Dataset, error) {
	if path == "-" {
		if opts.Source == "" {
			opts.Source = "stdin"
		}
		return features.Read(ctx, a.stdin, opts)
	}
	return features.ReadFile(ctx, path, opts)
}

// input is the reader training should use instead of opening path: the
// command's standard input for "-", else nil.
func (a *app) input(path string) io.Reader {
	if path == "-" {
		return a.stdin
	}
	return nil
}
