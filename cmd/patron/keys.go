package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/patron-crm/patron/serving"
)

const keysExamples = `  patron keys new --name shop1 --scopes recommend --keys-file keys.txt        # storefront: recommendations only
  patron keys new --name crm --scopes customers:read --keys-file keys.txt     # CRM: value, churn, lists
  patron keys new --name ops --scopes admin --keys-file keys.txt              # everything, models included
  KEY=$(patron keys new --name shop2 --scopes recommend --keys-file keys.txt) # the key is printed once, on stdout
  patron keys list --keys-file keys.txt
  patron serve --data-dir patron-data --keys-file keys.txt
Revoke a key by deleting its line from the keys file and restarting patron serve.`

// runKeys creates and lists the API keys `patron serve --keys-file` accepts.
// The keys file holds names, scopes and SHA-256 hashes, never keys.
func runKeys(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := a.newFlagSet("keys", "keys new|list --keys-file FILE [flags]", keysExamples)
		fs.String("keys-file", "", "the keys file")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		fs.Usage()
		return usageError{"keys: name a subcommand: new or list"}
	}
	switch args[0] {
	case "new":
		return runKeysNew(a, args[1:])
	case "list":
		return runKeysList(a, args[1:])
	}
	return usageError{fmt.Sprintf("keys: unknown subcommand %q: use new or list", args[0])}
}

// runKeysNew makes a random key, appends its hash line to the keys file and
// prints the key, once, on stdout.
func runKeysNew(a *app, args []string) error {
	fs := a.newFlagSet("keys new", "keys new --name NAME --scopes SCOPE[,SCOPE] --keys-file FILE", keysExamples)
	name := fs.String("name", "", "who holds the key (letters, digits, '.', '_', '-'); shown in logs and errors")
	scopeList := fs.String("scopes", "", "comma-separated scopes: recommend, customers:read, admin")
	keysFile := fs.String("keys-file", "", "keys file to append to (created with mode 0600)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" || *scopeList == "" || *keysFile == "" {
		return usageError{"keys new: --name, --scopes and --keys-file are required"}
	}
	if err := serving.CheckKeyName(*name); err != nil {
		return usageError{"keys new: --name: " + err.Error()}
	}
	scopes, err := serving.ParseScopes(*scopeList)
	if err != nil {
		return usageError{"keys new: --scopes: " + err.Error()}
	}

	// Refuse a file that does not parse (the server would refuse it too)
	// and a name already in use.
	old, err := os.ReadFile(*keysFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("keys new: %w", err)
	}
	ks, err := serving.ParseKeys(strings.NewReader(string(old)), *keysFile)
	if err != nil {
		return fmt.Errorf("keys new: %w (fix that line, then try again)", err)
	}
	if ks.HasName(*name) {
		return fmt.Errorf("keys new: %s already has a key named %q; choose another name, or delete its line to replace it", *keysFile, *name)
	}

	key := serving.NewKey()
	line := serving.FormatKeyLine(*name, scopes, key) + "\n"
	if len(old) > 0 && old[len(old)-1] != '\n' {
		line = "\n" + line
	}
	f, err := os.OpenFile(*keysFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("keys new: %w", err)
	}
	if _, err := io.WriteString(f, line); err != nil {
		f.Close()
		return fmt.Errorf("keys new: write %s: %w", *keysFile, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("keys new: write %s: %w", *keysFile, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keys new: write %s: %w", *keysFile, err)
	}
	fmt.Fprintln(a.stdout, key)
	fmt.Fprintf(a.stderr, "added key %q (scopes %s) to %s.\nThe key above is shown only this once and is not stored: give it to its holder now.\n"+
		"Send it as \"Authorization: Bearer <key>\"; restart patron serve to load the new file.\n", *name, *scopeList, *keysFile)
	return nil
}

// runKeysList prints the names and scopes of a keys file (there are no keys
// in it to print).
func runKeysList(a *app, args []string) error {
	fs := a.newFlagSet("keys list", "keys list --keys-file FILE [--json]", keysExamples)
	keysFile := fs.String("keys-file", "", "keys file to read")
	jsonOut := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *keysFile == "" {
		return usageError{"keys list: --keys-file is required"}
	}
	f, err := os.Open(*keysFile)
	if err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	defer f.Close()
	ks, err := serving.ParseKeys(f, *keysFile)
	if err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	keys := ks.Keys()
	if *jsonOut {
		return writeJSON(a.stdout, keys)
	}
	if len(keys) == 0 {
		fmt.Fprintf(a.stdout, "%s holds no keys; add one with `patron keys new --name NAME --scopes recommend --keys-file %s`\n", *keysFile, *keysFile)
		return nil
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSCOPES")
	for _, k := range keys {
		s := make([]string, len(k.Scopes))
		for i, sc := range k.Scopes {
			s[i] = string(sc)
		}
		fmt.Fprintf(w, "%s\t%s\n", k.Name, strings.Join(s, ","))
	}
	return w.Flush()
}
