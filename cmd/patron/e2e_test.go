package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// TestEndToEnd runs the whole path a user takes, in process but over real
// sockets: `patron gen` writes a synthetic history with ground truth,
// `patron train` publishes a bundle, `patron serve` answers over gRPC and
// REST, and a second training run is picked up by the running server.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	orders := filepath.Join(dir, "orders.csv.gz")
	data := filepath.Join(dir, "data")
	if _, _, err := runCLI(t, "", "gen", "--out", orders, "--customers", "400", "--items", "150", "--seed", "11"); err != nil {
		t.Fatalf("gen: %v", err)
	}
	if _, _, err := runCLI(t, "", "train", "--orders", orders, "--data-dir", data); err != nil {
		t.Fatalf("train: %v", err)
	}
	// Ground truth: a customer and how many orders the generator gave them.
	customer, truthOrders := busiestCustomer(t, filepath.Join(dir, "orders.truth.customers.csv"))
	// An admin key: the test reads customers, items and models.
	keysFile := filepath.Join(dir, "keys.txt")
	out, _, err := runCLI(t, "", "keys", "new", "--name", "e2e", "--scopes", "admin", "--keys-file", keysFile)
	if err != nil {
		t.Fatalf("keys new: %v", err)
	}
	key := strings.TrimSpace(out)

	logs := &lockedBuffer{}
	a := &app{stdout: io.Discard, stderr: logs, stdin: strings.NewReader(""), version: "e2e"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- a.main(ctx, []string{"serve", "--data-dir", data, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--poll", "50ms", "--keys-file", keysFile})
	}()
	grpcAddr, httpAddr := waitListening(t, logs, done)

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()), withBearer(key))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hc.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", hc, err)
	}

	// gRPC: the customer's order count is the generator's truth.
	cs := patronv1.NewCustomerServiceClient(conn)
	c, err := cs.GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: customer})
	if err != nil {
		t.Fatalf("GetCustomer(%s): %v", customer, err)
	}
	if c.OrderCount != int64(truthOrders) || c.ModelVersion != 1 || c.Spend <= 0 {
		t.Fatalf("GetCustomer(%s): %d orders in bundle v%d, truth %d", customer, c.OrderCount, c.ModelVersion, truthOrders)
	}
	if _, err := cs.GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "no-such-customer"}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown customer over gRPC: %v, want NotFound", err)
	}

	// REST: the same answer through the gateway.
	var rc struct {
		CustomerID string `json:"customerId"`
		OrderCount string `json:"orderCount"`
	}
	getJSON(t, key, "http://"+httpAddr+"/v1/customers/"+customer, 200, &rc)
	if rc.CustomerID != customer || rc.OrderCount != strconv.Itoa(truthOrders) {
		t.Fatalf("REST customer: %+v, want %s with %d orders", rc, customer, truthOrders)
	}
	var ri struct {
		ItemID     string `json:"itemId"`
		OrderCount string `json:"orderCount"`
	}
	getJSON(t, key, "http://"+httpAddr+"/v1/items/100001", 200, &ri)
	if ri.ItemID != "100001" || ri.OrderCount == "" {
		t.Fatalf("REST item: %+v", ri)
	}
	getJSON(t, key, "http://"+httpAddr+"/v1/customers/no-such-customer", 404, nil)

	// A second training run (as of an earlier date) is served without a restart.
	if _, _, err := runCLI(t, "", "train", "--orders", orders, "--data-dir", data, "--as-of", "2025-06-01"); err != nil {
		t.Fatalf("second train: %v", err)
	}
	ms := patronv1.NewModelServiceClient(conn)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		m, err := ms.GetActiveModel(ctx, &patronv1.GetActiveModelRequest{})
		if err == nil && m.Version == 2 {
			if got := m.AsOfTime.AsTime().Format("2006-01-02"); got != "2025-06-01" {
				t.Fatalf("bundle 2 as of %s", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not switch to bundle 2: %v %v\n%s", m, err, logs)
		}
	}
	c2, err := cs.GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: customer})
	switch {
	case status.Code(err) == codes.NotFound: // first order after the as-of date
	case err != nil:
		t.Fatalf("GetCustomer from bundle 2: %v", err)
	case c2.ModelVersion != 2 || !c2.LastOrderTime.AsTime().Before(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)):
		t.Fatalf("bundle 2 (as of 2025-06-01) answered v%d with last order %v", c2.ModelVersion, c2.LastOrderTime.AsTime())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// withBearer makes a client send key as "authorization: Bearer" metadata
// with every unary call.
func withBearer(key string) grpc.DialOption {
	return grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key), method, req, reply, cc, opts...)
	})
}

// busiestCustomer returns the customer with the most orders in a truth file.
func busiestCustomer(t *testing.T, path string) (string, int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	best, bestN := "", -1
	for _, r := range rows[1:] {
		n, _ := strconv.Atoi(r[col["orders"]])
		if n > bestN {
			best, bestN = r[col["customer_id"]], n
		}
	}
	return best, bestN
}

// waitListening waits for `patron serve` to log its addresses.
func waitListening(t *testing.T, logs *lockedBuffer, done chan error) (grpcAddr, httpAddr string) {
	t.Helper()
	re := regexp.MustCompile(`msg=listening grpc=(\S+) http=(\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			return m[1], m[2]
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped early: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// getJSON GETs url with an API key (none if empty), checks the status and
// decodes the body into v (if not nil).
func getJSON(t *testing.T, key, url string, code int, v any) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != code {
		t.Fatalf("GET %s: %d %s, want %d", url, resp.StatusCode, body, code)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
	}
}
