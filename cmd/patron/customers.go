package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/patron-crm/patron/models/privacy"
	"github.com/patron-crm/patron/serving"
)

const customersExamples = `  patron customers forget 12748 --data-dir patron-data
  patron customers forget 12748 17850 --data-dir /var/lib/patron --encryption-key-file /etc/patron/bundle.key
  patron customers forget --ids-file erasure-requests.txt --data-dir patron-data --json`

// runCustomers runs the customer data commands: forget (privacy erasure).
func runCustomers(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "forget" {
		fs := a.newFlagSet("customers", "customers forget ID [ID...] [flags]", customersExamples)
		if len(args) > 0 && strings.HasPrefix(args[0], "-") {
			if err := parseFlags(fs, args); err != nil {
				return err
			}
		}
		fs.Usage()
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return usageError{"customers: name a subcommand: forget"}
		}
		return usageError{fmt.Sprintf("customers: unknown subcommand %q: use forget", args[0])}
	}
	return runForget(ctx, a, args[1:])
}

// runForget erases customers: see privacy.Forget.
func runForget(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("customers forget", "customers forget ID [ID...] [--ids-file FILE] [--data-dir DIR] [--json]\n\n"+
		"Erases customers on request: their id hashes join DIR/suppressed (servers answer them as unknown within\n"+
		"a second; training leaves their order lines out), the active bundle is republished without their rows\n"+
		"and the retained bundles are rewritten without them, and DIR/audit.log gets one line per customer\n"+
		"(the id's SHA-256, never the id). Running it again is harmless.", customersExamples)
	var sf storeFlags
	sf.register(fs)
	idsFile := fs.String("ids-file", "", "file of customer ids to forget, one a line (blank lines and # comments ignored)")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	// Ids may come before or after the flags.
	var ids []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		ids, args = append(ids, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	ids = append(ids, fs.Args()...)
	if *idsFile != "" {
		more, err := readIDsFile(*idsFile)
		if err != nil {
			return err
		}
		ids = append(ids, more...)
	}
	if len(ids) == 0 {
		return usageError{"customers forget: name the customer ids to forget (patron customers forget 12748 17850), or give --ids-file FILE with one id a line"}
	}
	for _, id := range ids {
		if err := checkCustomerID(id); err != nil {
			return usageError{"customers forget: " + err.Error()}
		}
	}
	if _, err := os.Stat(sf.dataDir); err != nil {
		return fmt.Errorf("customers forget: data directory %s: %w (give the directory `patron train` wrote, with --data-dir or PATRON_DATA_DIR)", sf.dataDir, err)
	}
	reg, err := sf.open(0)
	if err != nil {
		return err
	}
	p := a.newProgress(*jsonOut)
	p.Printf("forgetting %s customers in %s: suppression list, then the bundles", commaInt(int64(len(ids))), sf.dataDir)
	res, err := privacy.Forget(reg, ids, "cli:"+osUser())
	p.Done()
	if err != nil {
		return fmt.Errorf("customers forget: %w\nthe ids are on the suppression list already, so servers hide them; fix the cause and run the same command again to finish removing their rows", err)
	}
	known, removed := 0, int64(0)
	for _, c := range res.Customers {
		if c.Known {
			known++
		}
		removed += c.RowsRemoved
	}
	if *jsonOut {
		type customer struct {
			Hash              string `json:"customer_id_sha256"`
			Known             bool   `json:"known"`
			AlreadySuppressed bool   `json:"already_suppressed"`
			RowsRemoved       int64  `json:"rows_removed"`
		}
		out := struct {
			Customers  []customer `json:"customers"`
			NewVersion int64      `json:"new_version,omitempty"`
			Replaced   int64      `json:"replaced_version,omitempty"`
			Rewritten  []int64    `json:"rewritten_versions"`
			Rows       int64      `json:"rows_removed"`
			Duration   float64    `json:"duration_seconds"`
			Audit      string     `json:"audit_log"`
		}{NewVersion: int64(res.NewVersion), Replaced: int64(res.Replaced), Rewritten: []int64{}, Rows: res.RowsRemoved,
			Duration: res.Duration.Seconds(), Audit: privacy.AuditPath(sf.dataDir)}
		for _, c := range res.Customers {
			out.Customers = append(out.Customers, customer{c.Hash.String(), c.Known, c.AlreadySuppressed, c.RowsRemoved})
		}
		for _, v := range res.Rewritten {
			out.Rewritten = append(out.Rewritten, int64(v))
		}
		return writeJSON(a.stdout, out)
	}
	fmt.Fprintf(a.stdout, "forgot %s customer(s) (%s known to a bundle): on the suppression list %s\n",
		commaInt(int64(len(res.Customers))), commaInt(int64(known)), privacy.SuppressedPath(sf.dataDir))
	if res.NewVersion != 0 {
		fmt.Fprintf(a.stdout, "  active bundle v%d republished without them as v%d (now active; running servers switch to it), v%d deleted\n",
			res.Replaced, res.NewVersion, res.Replaced)
	}
	if len(res.Rewritten) > 0 {
		vs := make([]string, len(res.Rewritten))
		for i, v := range res.Rewritten {
			vs[i] = "v" + v.String()
		}
		fmt.Fprintf(a.stdout, "  retained bundles rewritten without them: %s\n", strings.Join(vs, ", "))
	}
	fmt.Fprintf(a.stdout, "  %s rows removed in %s; audit record in %s\n", commaInt(res.RowsRemoved),
		res.Duration.Round(time.Millisecond), privacy.AuditPath(sf.dataDir))
	return nil
}

// readIDsFile reads customer ids, one a line.
func readIDsFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--ids-file: %w", err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		id := strings.TrimSpace(sc.Text())
		if id == "" || strings.HasPrefix(id, "#") {
			continue
		}
		if err := checkCustomerID(id); err != nil {
			return nil, usageError{fmt.Sprintf("--ids-file %s line %d: %v", path, n, err)}
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--ids-file %s: %w", path, err)
	}
	return ids, nil
}

// checkCustomerID applies the API's id rules (serving.ValidateID).
func checkCustomerID(id string) error {
	if err := serving.ValidateID(id); err != nil {
		return fmt.Errorf("customer id %q %v", truncateID(id), err)
	}
	return nil
}

// truncateID shortens an id for a message.
func truncateID(id string) string {
	if len(id) > 40 {
		return id[:40] + "..."
	}
	return id
}

// osUser names the OS user running the command, for the audit log.
func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return fmt.Sprint(os.Getuid())
}
