package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/profiles"
	"github.com/patron-crm/patron/models/registry"
	"github.com/patron-crm/patron/training"
)

// runDemo trains on the Online Retail data shipped in the repository and
// serves the bundle on localhost, printing calls to try with real ids.
func runDemo(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("demo", "demo [--orders FILE] [--data-dir DIR] [--grpc-addr ADDR] [--http-addr ADDR]",
		`  patron demo                       (what `+"`make demo`"+` runs; stop it with Ctrl-C)
  patron demo --http-addr 127.0.0.1:18080 --grpc-addr 127.0.0.1:19090`)
	orders := fs.String("orders", "data/online_retail.csv.gz", "order file to train on (the UCI Online Retail data in this repository)")
	dataDir := fs.String("data-dir", "demo-data", "data directory for the demo's bundles")
	grpcAddr := fs.String("grpc-addr", "127.0.0.1:9090", "gRPC listen address (loopback)")
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", "REST listen address (loopback)")
	trainOnly := fs.Bool("train-only", false, "train and print the example calls, but do not serve")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, addr := range []string{*grpcAddr, *httpAddr} {
		if err := checkLoopback(addr); err != nil {
			return usageError{fmt.Sprintf("demo: %v", err)}
		}
	}

	reg, err := registry.Open(*dataDir, registry.Options{Keep: 2})
	if err != nil {
		return err
	}
	p := a.newProgress(false)
	fmt.Fprintf(a.stdout, "training on %s into %s ...\n", *orders, *dataDir)
	start := time.Now()
	res, err := training.Train(ctx, reg, training.Config{
		Orders:      *orders,
		Read:        features.Options{Progress: readProgress(p, *orders)},
		Seed:        1,
		CodeVersion: a.version,
		Progress:    func(stage string) { p.Printf("%s", stage) },
	})
	p.Done()
	if err != nil {
		return fmt.Errorf("demo: %w (run `make demo` from the repository root, where %s is)", err, *orders)
	}
	c := res.Manifest.Counts
	fmt.Fprintf(a.stdout, "bundle v%d: %s customers, %s items, %s orders, as of %s (%s)\n\n",
		res.Manifest.Version, commaInt(c["customers"]), commaInt(c["items"]), commaInt(c["orders"]),
		res.Manifest.AsOf.Format("2006-01-02"), time.Since(start).Round(time.Millisecond))

	customer, item, err := demoIDs(reg, res.Manifest.Version)
	if err != nil {
		return err
	}
	h := "http://" + *httpAddr
	fmt.Fprintf(a.stdout, `Try it (in another terminal):
  curl -s %[1]s/v1/models/active
  curl -s %[1]s/v1/customers/%[2]s?recent_orders=3
  curl -s %[1]s/v1/items/%[3]s
  curl -s '%[1]s/v1/customers/%[2]s/recommendations?limit=5'
  curl -s '%[1]s/v1/customers/%[2]s/recommendations?limit=5&include_purchased=true'
  curl -s '%[1]s/v1/items/%[3]s/similar?limit=5'
  curl -s -X POST %[1]s/v1/recommendations:basket -d '{"itemIds":["%[6]s"],"limit":5}'
  curl -s '%[1]s/v1/items:popular?limit=5'
  curl -s '%[1]s/v1/customers/%[2]s/value?horizon_days=90'
  curl -s %[1]s/v1/customers/%[2]s/churn
  curl -s '%[1]s/v1/customers?tier=platinum&page_size=5'
  curl -s '%[1]s/v1/customers?risk_band=high&order_by=value_at_risk&page_size=5'
  curl -s %[1]s/v1/customers/no-such-customer        (404 with a message)
  grpcurl -plaintext %[4]s list
  grpcurl -plaintext -d '{"customer_id":"%[5]s"}' %[4]s patron.v1.CustomerService/GetCustomer
  grpcurl -plaintext -d '{"customer_id":"%[5]s","limit":5}' %[4]s patron.v1.RecommendationService/GetRecommendations
  grpcurl -plaintext %[4]s grpc.health.v1.Health/Check
OpenAPI document: %[1]s/openapi.json

`, h, url.PathEscape(customer), url.PathEscape(item), *grpcAddr, customer, item)
	if *trainOnly {
		return nil
	}
	fmt.Fprintf(a.stdout, "serving %s on gRPC %s and REST %s; Ctrl-C stops\n", *dataDir, *grpcAddr, *httpAddr)
	// Loopback only (checked above), so the demo needs no API keys.
	return runServe(ctx, a, []string{"--data-dir", *dataDir, "--grpc-addr", *grpcAddr, "--http-addr", *httpAddr, "--insecure-no-auth"})
}

// demoIDs picks real ids for the example calls: the customer with the most
// orders and the item bought by the most customers.
func demoIDs(reg *registry.Registry, v registry.Version) (customer, item string, err error) {
	b, err := reg.OpenBundle(v)
	if err != nil {
		return "", "", err
	}
	defer b.Close()
	st := profiles.Open(b)
	best := -1
	err = b.Scan(profiles.CustomerTable, func(k, _ []byte) error {
		c, err := st.Customer(string(k))
		if err != nil {
			return err
		}
		if len(c.Orders) > best {
			best, customer = len(c.Orders), c.ID
		}
		return nil
	})
	if err != nil {
		return "", "", fmt.Errorf("demo: read customers: %w", err)
	}
	var most int64 = -1
	err = b.Scan(profiles.ItemTable, func(k, _ []byte) error {
		it, err := st.Item(string(k))
		if err != nil {
			return err
		}
		if it.Customers > most {
			most, item = it.Customers, it.ID
		}
		return nil
	})
	if err != nil {
		return "", "", fmt.Errorf("demo: read items: %w", err)
	}
	return customer, item, nil
}

// checkLoopback refuses addresses other than loopback ones: the demo serves
// customer data without access control.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not a loopback address; the demo only listens on 127.0.0.1 or localhost", addr)
	}
	return nil
}
