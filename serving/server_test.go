package serving

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/dgraph-io/badger/v4"

	"github.com/patron-crm/patron/models/registry"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

func TestUnavailableUntilTrained(t *testing.T) {
	reg := openRegistry(t)
	ts := start(t, reg, Options{Poll: 10 * time.Millisecond})
	ctx := context.Background()

	_, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c1"})
	if status.Code(err) != codes.Unavailable || !strings.Contains(status.Convert(err).Message(), "patron train --orders FILE --data-dir") {
		t.Errorf("GetCustomer before any bundle: got %v, want UNAVAILABLE telling to run patron train", err)
	}
	if _, err := ts.models().GetActiveModel(ctx, &patronv1.GetActiveModelRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("GetActiveModel before any bundle: got %v, want UNAVAILABLE", err)
	}
	list, err := ts.models().ListModels(ctx, &patronv1.ListModelsRequest{})
	if err != nil || len(list.GetModels()) != 0 {
		t.Errorf("ListModels before any bundle: got %v, %v; want an empty list", list, err)
	}
	for _, c := range []struct {
		path string
		code int
	}{
		{"/v1/customers/c1", http.StatusServiceUnavailable},
		{"/v1/items/i1", http.StatusServiceUnavailable},
		{"/v1/models/active", http.StatusServiceUnavailable},
		{"/readyz", http.StatusServiceUnavailable},
		{"/healthz", http.StatusOK},
	} {
		if code, body := ts.get(t, c.path); code != c.code {
			t.Errorf("GET %s before any bundle: %d %s, want %d", c.path, code, body, c.code)
		}
	}
	health := healthpb.NewHealthClient(ts.conn)
	if h, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || h.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health before any bundle: %v, %v; want NOT_SERVING", h, err)
	}

	// Reflection lists the services, so grpcurl and friends work.
	stream, err := reflectionpb.NewServerReflectionClient(ts.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	r, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	stream.CloseSend()
	var names []string
	for _, svc := range r.GetListServicesResponse().GetService() {
		names = append(names, svc.Name)
	}
	for _, want := range append([]string{"grpc.health.v1.Health"}, serviceNames...) {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, without %s", names, want)
		}
	}

	m := train(t, reg, ordersV1, false)
	ts.waitVersion(t, m.Version)

	if code, body := ts.get(t, "/readyz"); code != http.StatusOK || !strings.Contains(string(body), `"model_version":1`) {
		t.Errorf("GET /readyz after training: %d %s, want 200 naming version 1", code, body)
	}
	for _, svc := range append([]string{""}, serviceNames...) {
		if h, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc}); err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health of %q after training: %v, %v; want SERVING", svc, h, err)
		}
	}
	got, err := ts.models().GetActiveModel(ctx, &patronv1.GetActiveModelRequest{})
	if err != nil {
		t.Fatalf("GetActiveModel: %v", err)
	}
	if got.Version != int64(m.Version) || !got.Active || got.CodeVersion != "test" || !got.AsOfTime.AsTime().Equal(asOf) {
		t.Errorf("GetActiveModel = %v, want active v%d, code version test, as of %s", got, m.Version, asOf)
	}
	if v := got.Manifest.GetFields()["version"].GetNumberValue(); v != float64(m.Version) {
		t.Errorf("manifest.version = %v, want %d", v, m.Version)
	}
	if n := got.Manifest.GetFields()["counts"].GetStructValue().GetFields()["customers"].GetNumberValue(); n != 4 {
		t.Errorf("manifest.counts.customers = %v, want 4", n)
	}
	list, err = ts.models().ListModels(ctx, &patronv1.ListModelsRequest{})
	if err != nil || len(list.Models) != 1 || !list.Models[0].Active || list.Models[0].Version != int64(m.Version) {
		t.Errorf("ListModels = %v, %v; want one active model v%d", list, err, m.Version)
	}
}

// near compares money and day counts computed in floating point.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestGetCustomerAndItem(t *testing.T) {
	reg := openRegistry(t)
	m := train(t, reg, ordersV1, false)
	ts := start(t, reg, Options{})
	ts.waitVersion(t, m.Version)
	ctx := context.Background()

	c, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c1"})
	if err != nil {
		t.Fatalf("GetCustomer c1: %v", err)
	}
	last := time.Date(2024, 2, 3, 9, 0, 0, 0, time.UTC)
	if c.CustomerId != "c1" || c.Country != "France" || c.OrderCount != 2 || c.ReturnCount != 1 || c.DistinctItems != 3 ||
		!near(c.Spend, 22) || !near(c.ReturnedValue, 1.25) || !near(c.NetValue, 20.75) || !near(c.MeanOrderValue, 11) ||
		!c.FirstOrderTime.AsTime().Equal(time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC)) || !c.LastOrderTime.AsTime().Equal(last) ||
		!near(c.DaysSinceLastOrder, asOf.Sub(last).Hours()/24) || c.ModelVersion != int64(m.Version) || !c.AsOfTime.AsTime().Equal(asOf) {
		t.Errorf("GetCustomer c1 = %v", c)
	}
	if len(c.RecentOrders) != 2 || c.RecentOrders[0].OrderId != "o2" || c.RecentOrders[1].OrderId != "o1" {
		t.Fatalf("recent orders of c1 = %v, want o2 then o1", c.RecentOrders)
	}
	if o := c.RecentOrders[1]; !near(o.Value, 17) || o.LineCount != 2 || !near(o.Quantity, 3) {
		t.Errorf("order o1 = %v, want value 17, 2 lines, quantity 3", o)
	}
	one := int32(1)
	if c, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c1", RecentOrders: &one}); err != nil || len(c.RecentOrders) != 1 || c.RecentOrders[0].OrderId != "o2" {
		t.Errorf("GetCustomer c1 recent_orders=1: %v, %v; want only o2", c, err)
	}
	zero := int32(0)
	if c, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c1", RecentOrders: &zero}); err != nil || len(c.RecentOrders) != 0 || c.OrderCount != 2 {
		t.Errorf("GetCustomer c1 recent_orders=0: %v, %v; want no orders listed, order count 2", c, err)
	}

	it, err := ts.items().GetItem(ctx, &patronv1.GetItemRequest{ItemId: "i2"})
	if err != nil {
		t.Fatalf("GetItem i2: %v", err)
	}
	if it.ItemId != "i2" || it.Name != "Tea Towel" || it.Category != "kitchen" || it.OrderCount != 2 || it.CustomerCount != 2 ||
		!near(it.Quantity, 5) || !near(it.Revenue, 6.25) || !near(it.ReturnedQuantity, 1) ||
		!it.FirstSoldTime.AsTime().Equal(time.Date(2024, 2, 3, 9, 0, 0, 0, time.UTC)) ||
		!it.LastSoldTime.AsTime().Equal(time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)) || it.ModelVersion != int64(m.Version) {
		t.Errorf("GetItem i2 = %v", it)
	}

	// REST answers the same as gRPC, in protobuf's JSON mapping.
	rest := func(path string, msg proto.Message) {
		t.Helper()
		code, body := ts.get(t, path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		if err := protojson.Unmarshal(body, msg); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
	var rc patronv1.Customer
	rest("/v1/customers/c1", &rc)
	if !proto.Equal(&rc, c) {
		t.Errorf("REST customer c1 = %v, gRPC gave %v", &rc, c)
	}
	var ri patronv1.Item
	rest("/v1/items/i2", &ri)
	if !proto.Equal(&ri, it) {
		t.Errorf("REST item i2 = %v, gRPC gave %v", &ri, it)
	}
	rest("/v1/customers/c1?recent_orders=1", &rc)
	if len(rc.RecentOrders) != 1 {
		t.Errorf("REST recent_orders=1 gave %d orders", len(rc.RecentOrders))
	}
	code, body := ts.get(t, "/v1/customers/c1")
	if !strings.Contains(string(body), `"customerId":"c1"`) || !strings.Contains(string(body), `"netValue":20.75`) {
		t.Errorf("REST JSON does not use lowerCamelCase field names: %d %s", code, body)
	}
	var model patronv1.Model
	rest("/v1/models/active", &model)
	if model.Version != int64(m.Version) {
		t.Errorf("REST active model = %v", &model)
	}
	var list patronv1.ListModelsResponse
	rest("/v1/models", &list)
	if len(list.Models) != 1 || !list.Models[0].Active {
		t.Errorf("REST models = %v", &list)
	}
}

func TestSpecialCharacterIDsOverREST(t *testing.T) {
	reg := openRegistry(t)
	m := train(t, reg, ordersV1, false)
	ts := start(t, reg, Options{})
	ts.waitVersion(t, m.Version)
	for _, c := range []struct{ path, id string }{
		{"/v1/customers/", "cust/7 x?%"},
		{"/v1/customers/", "../c9"},
		{"/v1/items/", "a/b c"},
	} {
		code, body := ts.get(t, c.path+url.PathEscape(c.id))
		if code != http.StatusOK {
			t.Errorf("GET %s%s: %d %s", c.path, url.PathEscape(c.id), code, body)
			continue
		}
		var got struct {
			CustomerID string `json:"customerId"`
			ItemID     string `json:"itemId"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if got.CustomerID+got.ItemID != c.id {
			t.Errorf("GET %s%s answered for %q, want %q", c.path, url.PathEscape(c.id), got.CustomerID+got.ItemID, c.id)
		}
	}
}

func TestBadRequests(t *testing.T) {
	reg := openRegistry(t)
	m := train(t, reg, ordersV1, false)
	ts := start(t, reg, Options{})
	ts.waitVersion(t, m.Version)
	ctx := context.Background()
	long := strings.Repeat("x", MaxIDBytes+1)
	n := func(v int32) *int32 { return &v }

	for _, c := range []struct {
		name     string
		call     func() error
		path     string // REST equivalent; "" when REST cannot express it
		code     codes.Code
		httpCode int
		msg      string
	}{
		{"unknown customer", func() error {
			_, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "nobody"})
			return err
		}, "/v1/customers/nobody", codes.NotFound, 404, `customer "nobody" not found`},
		{"unknown item", func() error {
			_, err := ts.items().GetItem(ctx, &patronv1.GetItemRequest{ItemId: "no/such item"})
			return err
		}, "/v1/items/no%2Fsuch%20item", codes.NotFound, 404, `item "no/such item" not found`},
		{"empty customer id", func() error {
			_, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{})
			return err
		}, "", codes.InvalidArgument, 400, "customer_id is required"},
		{"empty item id", func() error {
			_, err := ts.items().GetItem(ctx, &patronv1.GetItemRequest{})
			return err
		}, "", codes.InvalidArgument, 400, "item_id is required"},
		{"long customer id", func() error {
			_, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: long})
			return err
		}, "/v1/customers/" + long, codes.InvalidArgument, 400, "at most 256 bytes"},
		{"long item id", func() error {
			_, err := ts.items().GetItem(ctx, &patronv1.GetItemRequest{ItemId: long})
			return err
		}, "/v1/items/" + long, codes.InvalidArgument, 400, "at most 256 bytes"},
		{"recent orders too many", func() error {
			_, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c1", RecentOrders: n(101)})
			return err
		}, "/v1/customers/c1?recent_orders=101", codes.InvalidArgument, 400, "recent_orders is 101; use 0..100"},
		{"recent orders negative", func() error {
			_, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c1", RecentOrders: n(-1)})
			return err
		}, "/v1/customers/c1?recentOrders=-1", codes.InvalidArgument, 400, "recent_orders is -1"},
		{"id not UTF-8", nil, "/v1/items/%FF", codes.InvalidArgument, 400, "not valid UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.call != nil {
				checkGRPCError(t, c.call(), c.code, c.msg)
			}
			if c.path != "" {
				code, body := ts.get(t, c.path)
				checkRESTError(t, c.path, code, body, c.httpCode, c.code, c.msg)
			}
		})
	}

	if code, body := ts.get(t, "/v1/nothing/here"); code != http.StatusNotFound {
		t.Errorf("GET unknown path: %d %s, want 404", code, body)
	}
	big := strings.NewReader(strings.Repeat("x", defaultMaxRequestBytes+1))
	resp, err := http.Post(ts.base+"/v1/models", "application/json", big)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST of %d bytes: %d, want 413", defaultMaxRequestBytes+1, resp.StatusCode)
	}
	resp, err = http.Post(ts.base+"/readyz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz: %d, want 405", resp.StatusCode)
	}
}

func TestOpenAPIDocument(t *testing.T) {
	ts := start(t, openRegistry(t), Options{})
	code, body := ts.get(t, "/openapi.json")
	if code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", code)
	}
	var doc struct {
		Swagger string                     `json:"swagger"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("GET /openapi.json: %v", err)
	}
	if doc.Swagger != "2.0" || doc.Paths["/v1/models/active"] == nil {
		t.Errorf("GET /openapi.json: swagger %q, paths %d; want 2.0 with /v1/models/active", doc.Swagger, len(doc.Paths))
	}
}

// TestHotReload publishes a new bundle while clients query over gRPC and
// REST: no request may fail, the served version must change, and the old
// bundle must be closed once its last request is done.
func TestHotReload(t *testing.T) {
	reg := openRegistry(t)
	m1 := train(t, reg, ordersV1, false)
	ts := start(t, reg, Options{Poll: 10 * time.Millisecond})
	ts.waitVersion(t, m1.Version)
	old := ts.cur.p.Load()
	ctx := context.Background()

	var (
		stop     atomic.Bool
		requests atomic.Int64
		mu       sync.Mutex
		failures []string
		seen     = map[int64]bool{}
		wg       sync.WaitGroup
	)
	record := func(v int64, err error) {
		requests.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failures = append(failures, err.Error())
			return
		}
		seen[v] = true
	}
	for g := range 4 {
		wg.Go(func() {
			for !stop.Load() {
				if g%2 == 0 {
					c, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c1"})
					switch {
					case err != nil:
					case c.ModelVersion == 1 && c.OrderCount != 2, c.ModelVersion == 2 && c.OrderCount != 3:
						err = errors.New("customer c1 does not match its bundle version: " + c.String())
					}
					record(c.GetModelVersion(), err)
					continue
				}
				code, body, err := ts.tryGet("/v1/items/i1")
				var it patronv1.Item
				switch {
				case err != nil:
				case code != http.StatusOK:
					err = errors.New("REST item i1: " + http.StatusText(code) + " " + string(body))
				default:
					err = protojson.Unmarshal(body, &it)
				}
				record(it.ModelVersion, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	m2 := train(t, reg, ordersV2, false)
	ts.waitVersion(t, m2.Version)
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during the reload; first: %s", len(failures), requests.Load(), failures[0])
	}
	if !seen[int64(m1.Version)] || !seen[int64(m2.Version)] {
		t.Errorf("versions answered during the reload: %v; want both %d and %d", seen, m1.Version, m2.Version)
	}
	// The watcher drops its reference just after the swap; give it time.
	for deadline := time.Now().Add(5 * time.Second); !old.closed.Load() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if !old.closed.Load() || old.refs.Load() != 0 {
		t.Errorf("old bundle after the reload: closed %v with %d references; want closed with 0", old.closed.Load(), old.refs.Load())
	}
	t.Logf("%d requests during the reload, none failed", requests.Load())
}

// TestRefusesBadBundle activates broken bundles behind the registry's back:
// each is refused once, with a reason in the log, and the good bundle keeps
// serving.
func TestRefusesBadBundle(t *testing.T) {
	for _, c := range []struct {
		name   string
		break_ func(t *testing.T, dir string)
		reason string
	}{
		{"database corrupt", func(t *testing.T, dir string) {
			// Badger's MANIFEST lists the database's tables; garbage there
			// makes the database unopenable.
			if err := os.WriteFile(filepath.Join(dir, "db", "MANIFEST"), []byte("not a badger manifest"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "open model bundle"},
		{"table missing", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) {
				tables := m["tables"].([]any)
				var keep []any
				for _, tb := range tables {
					if tb.(map[string]any)["name"] != "profiles/items" {
						keep = append(keep, tb)
					}
				}
				m["tables"] = keep
			})
		}, `lacks table`},
		{"records unreadable", func(t *testing.T, dir string) {
			rewriteTable(t, dir, "profiles/customers", func(txn *badger.Txn, key []byte) error {
				return txn.Set(key, []byte{0xff, 0xff})
			})
		}, `probe read of table`},
		{"rows missing", func(t *testing.T, dir string) {
			rewriteTable(t, dir, "profiles/items", func(txn *badger.Txn, key []byte) error {
				return txn.Delete(key)
			})
		}, "table is empty"},
		{"recommendation table missing", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) {
				var keep []any
				for _, tb := range m["tables"].([]any) {
					if tb.(map[string]any)["name"] != "recommend/similar" {
						keep = append(keep, tb)
					}
				}
				m["tables"] = keep
			})
		}, `lacks table \"recommend/similar\"`}, // quotes escaped in the text log
		{"recommendations unreadable", func(t *testing.T, dir string) {
			rewriteTable(t, dir, "recommend/meta", func(txn *badger.Txn, key []byte) error {
				return txn.Set(key, []byte{0xff, 0xff})
			})
		}, "load recommendation models"},
		{"format unknown", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m map[string]any) { m["format"] = 99 })
		}, "format 99"},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg := openRegistry(t)
			m1 := train(t, reg, ordersV1, false)
			ts := start(t, reg, Options{Poll: time.Hour}) // the test steps the watcher
			ts.waitVersion(t, m1.Version)

			m2 := train(t, reg, ordersV2, true)
			c.break_(t, filepath.Join(reg.Dir(), "models", m2.Version.String()))
			setActive(t, reg, m2.Version)
			for range 5 {
				ts.checkNow(t)
			}
			if n := strings.Count(ts.logs.String(), "refusing model bundle"); n != 1 {
				t.Errorf("bundle refused %d times in the log after 5 checks, want once; log:\n%s", n, ts.logs)
			}
			if !strings.Contains(ts.logs.String(), c.reason) {
				t.Errorf("log does not give the reason %q:\n%s", c.reason, ts.logs)
			}
			if got, err := ts.models().GetActiveModel(context.Background(), &patronv1.GetActiveModelRequest{}); err != nil || got.Version != int64(m1.Version) {
				t.Errorf("after the refusal GetActiveModel = %v, %v; want v%d still", got, err, m1.Version)
			}
			if code, body := ts.get(t, "/v1/customers/c1"); code != http.StatusOK || !strings.Contains(string(body), `"orderCount":"2"`) {
				t.Errorf("after the refusal GET customer c1: %d %s; want v1's answer", code, body)
			}

			// ACTIVE changes back and forth: the bad version is tried again.
			setActive(t, reg, m1.Version)
			ts.checkNow(t)
			setActive(t, reg, m2.Version)
			ts.checkNow(t)
			if n := strings.Count(ts.logs.String(), "refusing model bundle"); n != 2 {
				t.Errorf("bundle refused %d times after ACTIVE changed again, want 2", n)
			}
		})
	}
}

// TestRefusedFirstBundle starts on a broken active bundle: the server stays
// unready and says why, then serves a good bundle once one is activated.
func TestRefusedFirstBundle(t *testing.T) {
	reg := openRegistry(t)
	m1 := train(t, reg, ordersV1, false)
	editManifest(t, filepath.Join(reg.Dir(), "models", m1.Version.String()), func(m map[string]any) { m["tables"] = []any{} })
	ts := start(t, reg, Options{Poll: time.Hour})
	ts.checkNow(t) // the first check ran in Serve; this one waits for it

	_, err := ts.customers().GetCustomer(context.Background(), &patronv1.GetCustomerRequest{CustomerId: "c1"})
	if status.Code(err) != codes.Unavailable || !strings.Contains(status.Convert(err).Message(), "bundle v1 was refused") {
		t.Errorf("GetCustomer on a refused bundle: %v, want UNAVAILABLE naming the refusal", err)
	}
	if code, body := ts.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(string(body), "lacks table") {
		t.Errorf("GET /readyz on a refused bundle: %d %s, want 503 with the reason", code, body)
	}
	m2 := train(t, reg, ordersV2, false)
	ts.checkNow(t)
	ts.waitVersion(t, m2.Version)
	if code, _ := ts.get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz after a good bundle: %d, want 200", code)
	}
}

// TestGracefulShutdown cancels Serve while a request holds the bundle: Serve
// returns promptly, listeners close, and the bundle closes when released.
func TestGracefulShutdown(t *testing.T) {
	reg := openRegistry(t)
	m := train(t, reg, ordersV1, false)
	ts := start(t, reg, Options{})
	ts.waitVersion(t, m.Version)
	if _, err := ts.customers().GetCustomer(context.Background(), &patronv1.GetCustomerRequest{CustomerId: "c1"}); err != nil {
		t.Fatal(err)
	}
	held := ts.cur.acquire() // as a request still running would

	ts.stop(t)
	if held.closed.Load() {
		t.Fatal("bundle closed while a request still holds it")
	}
	ts.release(held)
	if !held.closed.Load() {
		t.Error("bundle not closed after its last reference was released")
	}
	if _, ok := ts.Active(); ok {
		t.Error("server still reports an active bundle after Serve returned")
	}
	if _, err := http.Get(ts.base + "/healthz"); err == nil {
		t.Error("HTTP still answers after Serve returned")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := ts.customers().GetCustomer(ctx, &patronv1.GetCustomerRequest{CustomerId: "c1"}); err == nil {
		t.Error("gRPC still answers after Serve returned")
	}
	if err := ts.Serve(context.Background(), nil, nil); err == nil {
		t.Error("second Serve did not fail")
	}
}

// TestRefcount checks that a swapped-out bundle closes only after its last
// reference, whoever holds it.
func TestRefcount(t *testing.T) {
	reg := openRegistry(t)
	m1 := train(t, reg, ordersV1, false)
	s := New(reg, Options{})
	open := func(v registry.Version) *loadedBundle {
		l, err := openBundle(reg, v)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a := open(m1.Version)
	if old := s.cur.swap(a); old != nil {
		t.Fatal("fresh server has a bundle")
	}
	r1, r2 := s.cur.acquire(), s.cur.acquire()
	if r1 != a || r2 != a || a.refs.Load() != 3 {
		t.Fatalf("acquire: got %p %p with %d refs, want %p with 3", r1, r2, a.refs.Load(), a)
	}
	b := open(m1.Version)
	s.release(s.cur.swap(b))
	if a.closed.Load() {
		t.Fatal("old bundle closed with requests holding it")
	}
	s.release(r1)
	if a.closed.Load() {
		t.Fatal("old bundle closed with a request holding it")
	}
	s.release(r2)
	if !a.closed.Load() {
		t.Fatal("old bundle not closed after its last request")
	}
	if a.tryAcquire() {
		t.Fatal("a closed bundle was acquired")
	}
	if got := s.cur.acquire(); got != b {
		t.Fatalf("acquire after swap = %p, want the new bundle %p", got, b)
	} else {
		s.release(got)
	}
	s.release(s.cur.swap(nil))
	if !b.closed.Load() {
		t.Fatal("bundle not closed after the server dropped it")
	}
}

// setActive points ACTIVE at v directly, as a foreign writer or an operator
// editing the file would, bypassing the registry's checks.
func setActive(t *testing.T, reg *registry.Registry, v registry.Version) {
	t.Helper()
	path := filepath.Join(reg.Dir(), "ACTIVE")
	tmp := path + ".test"
	if err := os.WriteFile(tmp, []byte(v.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// editManifest rewrites a bundle's manifest.json through edit.
func editManifest(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, "manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriteTable opens a published bundle's database read-write (which the
// registry never does) and applies change to every key of table.
func rewriteTable(t *testing.T, dir, table string, change func(txn *badger.Txn, key []byte) error) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "db")).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	prefix := append([]byte(table), 0)
	var keys [][]byte
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		t.Fatalf("table %s: %d keys, %v", table, len(keys), err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		for _, k := range keys {
			if err := change(txn, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
