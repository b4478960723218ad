package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// Configuration of long-running commands comes from three places, the
// first that sets a flag winning:
//
//  1. the command line (--grpc-addr :9090);
//  2. the environment: PATRON_ and the flag's name in capitals with
//     dashes as underscores (PATRON_GRPC_ADDR=:9090);
//  3. a config file named by --config (or PATRON_CONFIG): one "name = value"
//     per line, names as the flags', blank lines and # comments ignored.
//
// So a deployment can keep its settings in a file, override one in the
// environment, and a person can override anything on the command line.

// envName is the environment variable of flag name.
func envName(name string) string {
	return "PATRON_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applyConfig fills the flags of fs not set on the command line from the
// environment and then from the config file (fs must have been parsed;
// configFlag names the flag holding the file's path).
func applyConfig(fs *flag.FlagSet, configFlag string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == configFlag {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("environment %s=%q: %v", envName(f.Name), v, err))
			}
			set[f.Name] = true
		}
	})
	path := fs.Lookup(configFlag).Value.String()
	if path == "" {
		path = os.Getenv(envName(configFlag))
	}
	if path != "" {
		values, err := readConfig(path, fs)
		if err != nil {
			return usageError{err.Error()}
		}
		for name, v := range values {
			if set[name] {
				continue
			}
			if err := fs.Set(name, v.value); err != nil {
				errs = append(errs, fmt.Errorf("config %s line %d: %s = %q: %v", path, v.line, name, v.value, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

type configValue struct {
	value string
	line  int
}

// readConfig reads "name = value" lines, checking every name is a flag of fs.
func readConfig(path string, fs *flag.FlagSet) (map[string]configValue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	out := map[string]configValue{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return nil, fmt.Errorf("config %s line %d: want name = value, got %q", path, n, line)
		}
		if fs.Lookup(name) == nil {
			return nil, fmt.Errorf("config %s line %d: unknown setting %q (the settings are the flags of `patron %s --help`)", path, n, name, strings.TrimPrefix(fs.Name(), "patron "))
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("config %s line %d: %s is set twice", path, n, name)
		}
		out[name] = configValue{strings.Trim(value, `"`), n}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return out, nil
}
