package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// recsOrders is a small shop with three categories and planted structure:
// kitchen items are bought together, garden items together, home items
// together. c1 is a repeat buyer (mug in each of three orders). Ids with
// special characters: customer "cust/7 x?%", items "pot/large 10%",
// "a:popular" (a colon, and the verb of /v1/items:popular) and "popular"
// (the verb as an item id). 15 items, so the default limit 10 is visible.
const recsOrders = `order_id,customer_id,item_id,quantity,unit_price,ordered_at,item_name,category,country
o101,c1,mug,1,3.50,2024-01-05 10:00:00,Red Mug,kitchen,France
o101,c1,towel,1,2.00,2024-01-05 10:00:00,Tea Towel,kitchen,France
o102,c1,mug,1,3.50,2024-02-05 10:00:00,Red Mug,kitchen,France
o102,c1,teapot,1,12.00,2024-02-05 10:00:00,Teapot,kitchen,France
o103,c1,mug,2,3.50,2024-03-05 10:00:00,Red Mug,kitchen,France
o103,c1,spoon,1,1.50,2024-03-05 10:00:00,Wooden Spoon,kitchen,France
o201,c2,mug,1,3.50,2024-01-10 10:00:00,Red Mug,kitchen,France
o201,c2,towel,1,2.00,2024-01-10 10:00:00,Tea Towel,kitchen,France
o201,c2,kettle,1,20.00,2024-01-10 10:00:00,Kettle,kitchen,France
o202,c2,teapot,1,12.00,2024-02-20 10:00:00,Teapot,kitchen,France
o202,c2,spoon,1,1.50,2024-02-20 10:00:00,Wooden Spoon,kitchen,France
o301,c3,seeds,3,1.00,2024-01-12 10:00:00,Seed Mix,garden,United Kingdom
o301,c3,gloves,1,5.00,2024-01-12 10:00:00,Garden Gloves,garden,United Kingdom
o302,c3,trowel,1,4.00,2024-03-01 10:00:00,Trowel,garden,United Kingdom
o302,c3,seeds,1,1.00,2024-03-01 10:00:00,Seed Mix,garden,United Kingdom
o401,c4,seeds,2,1.00,2024-01-15 10:00:00,Seed Mix,garden,United Kingdom
o401,c4,gloves,1,5.00,2024-01-15 10:00:00,Garden Gloves,garden,United Kingdom
o401,c4,pot/large 10%,1,9.00,2024-01-15 10:00:00,Large Pot,garden,United Kingdom
o402,c4,hose,1,15.00,2024-02-15 10:00:00,Hose,garden,United Kingdom
o402,c4,trowel,1,4.00,2024-02-15 10:00:00,Trowel,garden,United Kingdom
o501,c5,candle,2,3.00,2024-01-20 10:00:00,Candle,home,Germany
o501,c5,frame,1,6.00,2024-01-20 10:00:00,Photo Frame,home,Germany
o501,c5,a:popular,1,25.00,2024-01-20 10:00:00,Colon Lamp,home,Germany
o502,c5,cushion,1,8.00,2024-03-10 10:00:00,Cushion,home,Germany
o502,c5,popular,1,7.00,2024-03-10 10:00:00,Item Named Popular,home,Germany
o601,c6,candle,1,3.00,2024-02-01 10:00:00,Candle,home,Germany
o601,c6,frame,1,6.00,2024-02-01 10:00:00,Photo Frame,home,Germany
o602,c6,cushion,1,8.00,2024-03-15 10:00:00,Cushion,home,Germany
o602,c6,candle,1,3.00,2024-03-15 10:00:00,Candle,home,Germany
o701,c7,mug,1,3.50,2024-02-02 10:00:00,Red Mug,kitchen,France
o701,c7,towel,1,2.00,2024-02-02 10:00:00,Tea Towel,kitchen,France
o701,c7,teapot,1,12.00,2024-02-02 10:00:00,Teapot,kitchen,France
o801,cust/7 x?%,mug,1,3.50,2024-02-10 10:00:00,Red Mug,kitchen,United Kingdom
o801,cust/7 x?%,kettle,1,20.00,2024-02-10 10:00:00,Kettle,kitchen,United Kingdom
o801,cust/7 x?%,spoon,1,1.50,2024-02-10 10:00:00,Wooden Spoon,kitchen,United Kingdom
o901,c8,seeds,1,1.00,2024-03-02 10:00:00,Seed Mix,garden,United Kingdom
o901,c8,gloves,1,5.00,2024-03-02 10:00:00,Garden Gloves,garden,United Kingdom
o901,c8,hose,1,15.00,2024-03-02 10:00:00,Hose,garden,United Kingdom
o1001,c9,towel,1,2.00,2024-03-12 10:00:00,Tea Towel,kitchen,France
o1001,c9,teapot,1,12.00,2024-03-12 10:00:00,Teapot,kitchen,France
o1001,c9,kettle,1,20.00,2024-03-12 10:00:00,Kettle,kitchen,France
o1101,c10,frame,1,6.00,2024-03-20 10:00:00,Photo Frame,home,Germany
o1101,c10,a:popular,1,25.00,2024-03-20 10:00:00,Colon Lamp,home,Germany
o1101,c10,popular,1,7.00,2024-03-20 10:00:00,Item Named Popular,home,Germany
`

// recsCategory is the category of every item of recsOrders.
var recsCategory = map[string]string{
	"mug": "kitchen", "towel": "kitchen", "teapot": "kitchen", "spoon": "kitchen", "kettle": "kitchen",
	"seeds": "garden", "gloves": "garden", "pot/large 10%": "garden", "trowel": "garden", "hose": "garden",
	"candle": "home", "frame": "home", "a:popular": "home", "cushion": "home", "popular": "home",
}

// c1Bought are the items the repeat buyer c1 bought.
var c1Bought = []string{"mug", "towel", "teapot", "spoon"}

// reasonKinds are the reasons the API documents.
var reasonKinds = []string{"because_you_bought", "bought_together", "similar", "time_to_reorder", "popular"}

// recsServer trains recsOrders and serves it.
func recsServer(t *testing.T) (*testServer, int64) {
	t.Helper()
	reg := openRegistry(t)
	m := train(t, reg, recsOrders, false)
	ts := start(t, reg, Options{})
	ts.waitVersion(t, m.Version)
	return ts, int64(m.Version)
}

func (ts *testServer) recs() patronv1.RecommendationServiceClient {
	return patronv1.NewRecommendationServiceClient(ts.conn)
}

// want are the invariants every recommendation response must keep.
type want struct {
	version  int64
	n        int      // exact number of items; -1: at least one
	never    []string // items that must not be returned
	category string   // when set, every item is of it
}

// checkRecs checks the invariants of a response.
func checkRecs(t *testing.T, what string, r *patronv1.RecommendationsResponse, w want) {
	t.Helper()
	if r.ModelVersion != w.version {
		t.Errorf("%s: model_version %d, want %d", what, r.ModelVersion, w.version)
	}
	switch {
	case w.n >= 0 && len(r.Items) != w.n:
		t.Errorf("%s: %d items, want %d: %v", what, len(r.Items), w.n, ids(r))
	case w.n < 0 && len(r.Items) == 0:
		t.Errorf("%s: no items", what)
	}
	seen := map[string]bool{}
	for _, it := range r.Items {
		if seen[it.ItemId] {
			t.Errorf("%s: item %q returned twice: %v", what, it.ItemId, ids(r))
		}
		seen[it.ItemId] = true
		cat, known := recsCategory[it.ItemId]
		if !known {
			t.Errorf("%s: item %q is not in the catalog", what, it.ItemId)
		}
		if slices.Contains(w.never, it.ItemId) {
			t.Errorf("%s: item %q returned though excluded: %v", what, it.ItemId, ids(r))
		}
		if w.category != "" && cat != w.category {
			t.Errorf("%s: item %q of category %q returned for category %q", what, it.ItemId, cat, w.category)
		}
		if it.Name == "" || !(it.Score >= 0) {
			t.Errorf("%s: item %v: want a name and a score >= 0", what, it)
		}
		rs := it.GetReason()
		if !slices.Contains(reasonKinds, rs.GetKind()) || rs.GetText() == "" {
			t.Errorf("%s: item %q has reason %v; want one of %v with a text", what, it.ItemId, rs, reasonKinds)
		}
		if rs.GetKind() != "popular" {
			if _, ok := recsCategory[rs.GetItemId()]; !ok {
				t.Errorf("%s: item %q: reason %q names item %q, not in the catalog", what, it.ItemId, rs.GetKind(), rs.GetItemId())
			}
		}
	}
}

func ids(r *patronv1.RecommendationsResponse) []string {
	var out []string
	for _, it := range r.Items {
		out = append(out, it.ItemId)
	}
	return out
}

// restRecs GETs or POSTs a REST path and decodes the response; it fails the
// test unless the status is 200.
func (ts *testServer) restRecs(t *testing.T, method, path, body string) *patronv1.RecommendationsResponse {
	t.Helper()
	code, b := ts.do(t, method, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	var r patronv1.RecommendationsResponse
	if err := protojson.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, b)
	}
	return &r
}

// do sends a REST request and returns the status code and body.
func (ts *testServer) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, buf.Bytes()
}

func i32(v int32) *int32 { return &v }

// TestRecommendationEndpoints asks each endpoint over gRPC and REST: the
// answers agree, keep the invariants, and name the model version.
func TestRecommendationEndpoints(t *testing.T) {
	ts, v := recsServer(t)
	ctx := context.Background()
	api := ts.recs()

	type call struct {
		name       string
		grpc       func() (*patronv1.RecommendationsResponse, error)
		method     string
		path, body string
		want       want
		check      func(t *testing.T, r *patronv1.RecommendationsResponse)
	}
	for _, c := range []call{
		{
			name: "customer default",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.GetRecommendations(ctx, &patronv1.GetRecommendationsRequest{CustomerId: "c1"})
			},
			method: "GET", path: "/v1/customers/c1/recommendations",
			// 15 items, 4 bought by c1: 10 (the default) remain.
			want: want{version: v, n: DefaultLimit, never: c1Bought},
			check: func(t *testing.T, r *patronv1.RecommendationsResponse) {
				if r.ColdStart {
					t.Error("c1 is known, yet cold_start is set")
				}
				// c1 bought kitchen items; the kitchen item c1 did not buy
				// (kettle) is a personalized pick, ranked first.
				if len(r.Items) > 0 && (r.Items[0].ItemId != "kettle" || r.Items[0].Reason.Kind == "popular") {
					t.Errorf("c1's first recommendation is %v, want kettle for a personalized reason", r.Items[0])
				}
			},
		},
		{
			name: "customer include purchased",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.GetRecommendations(ctx, &patronv1.GetRecommendationsRequest{CustomerId: "c1", Limit: i32(5), IncludePurchased: true})
			},
			method: "GET", path: "/v1/customers/c1/recommendations?limit=5&include_purchased=true",
			want: want{version: v, n: 5},
			check: func(t *testing.T, r *patronv1.RecommendationsResponse) {
				n := 0
				for _, it := range r.Items {
					if slices.Contains(c1Bought, it.ItemId) {
						n++
					}
				}
				if n == 0 {
					t.Errorf("include_purchased for repeat buyer c1 returned none of the items bought (%v): %v", c1Bought, ids(r))
				}
				if !slices.Contains(ids(r), "mug") {
					t.Errorf("include_purchased for c1, who bought mug in every order, did not return mug: %v", r.Items)
				}
			},
		},
		{
			name: "customer exclude and category",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.GetRecommendations(ctx, &patronv1.GetRecommendationsRequest{CustomerId: "c1", Limit: i32(100), ExcludeItemIds: []string{"kettle", "seeds", "no such item"}, Category: "garden"})
			},
			method: "GET", path: "/v1/customers/c1/recommendations?limit=100&exclude_item_ids=kettle&exclude_item_ids=seeds&exclude_item_ids=no+such+item&category=garden",
			want: want{version: v, n: 4, never: append([]string{"kettle", "seeds"}, c1Bought...), category: "garden"},
		},
		{
			name: "unknown customer is cold start",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.GetRecommendations(ctx, &patronv1.GetRecommendationsRequest{CustomerId: "nobody", Limit: i32(3)})
			},
			method: "GET", path: "/v1/customers/nobody/recommendations?limit=3",
			want: want{version: v, n: 3},
			check: func(t *testing.T, r *patronv1.RecommendationsResponse) {
				if !r.ColdStart {
					t.Error("unknown customer: cold_start not set")
				}
				for _, it := range r.Items {
					if it.Reason.Kind != "popular" {
						t.Errorf("cold start item %v has reason %q, want popular", it.ItemId, it.Reason.Kind)
					}
				}
			},
		},
		{
			name: "customer id with special characters",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.GetRecommendations(ctx, &patronv1.GetRecommendationsRequest{CustomerId: "cust/7 x?%", ExcludeItemIds: []string{"pot/large 10%", "a:popular"}})
			},
			method: "GET", path: "/v1/customers/" + url.PathEscape("cust/7 x?%") + "/recommendations?" + url.Values{"exclude_item_ids": {"pot/large 10%", "a:popular"}}.Encode(),
			want: want{version: v, n: DefaultLimit, never: []string{"mug", "kettle", "spoon", "pot/large 10%", "a:popular"}},
			check: func(t *testing.T, r *patronv1.RecommendationsResponse) {
				if r.ColdStart {
					t.Error(`customer "cust/7 x?%" is known, yet cold_start is set (the id was mangled on the way?)`)
				}
			},
		},
		{
			name: "similar",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.GetSimilarItems(ctx, &patronv1.GetSimilarItemsRequest{ItemId: "seeds", Limit: i32(4)})
			},
			method: "GET", path: "/v1/items/seeds/similar?limit=4",
			want: want{version: v, n: 4, never: []string{"seeds"}},
			check: func(t *testing.T, r *patronv1.RecommendationsResponse) {
				// Seeds are bought with gloves in three orders out of four.
				if len(r.Items) > 0 && (r.Items[0].ItemId != "gloves" || r.Items[0].Reason.ItemId != "seeds") {
					t.Errorf("first item similar to seeds: %v, want gloves because of seeds", r.Items[0])
				}
			},
		},
		{
			name: "similar with special characters, exclude and category",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.GetSimilarItems(ctx, &patronv1.GetSimilarItemsRequest{ItemId: "pot/large 10%", ExcludeItemIds: []string{"gloves"}, Category: "garden"})
			},
			method: "GET", path: "/v1/items/" + url.PathEscape("pot/large 10%") + "/similar?exclude_item_ids=gloves&category=garden",
			want: want{version: v, n: 3, never: []string{"pot/large 10%", "gloves"}, category: "garden"},
		},
		{
			name: "similar to an item with a colon",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.GetSimilarItems(ctx, &patronv1.GetSimilarItemsRequest{ItemId: "a:popular", Limit: i32(2)})
			},
			method: "GET", path: "/v1/items/a:popular/similar?limit=2",
			want: want{version: v, n: 2, never: []string{"a:popular"}},
		},
		{
			name: "basket",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.RecommendBasket(ctx, &patronv1.RecommendBasketRequest{ItemIds: []string{"candle", "frame", "candle", "unknown"}, Limit: i32(3)})
			},
			method: "POST", path: "/v1/recommendations:basket", body: `{"itemIds": ["candle", "frame", "candle", "unknown"], "limit": 3}`,
			want: want{version: v, n: 3, never: []string{"candle", "frame"}},
			check: func(t *testing.T, r *patronv1.RecommendationsResponse) {
				if len(r.Items) > 0 && (recsCategory[r.Items[0].ItemId] != "home" || r.Items[0].Reason.Kind == "popular") {
					t.Errorf("first item for a cart of candle and frame: %v, want a home item bought with them", r.Items[0])
				}
			},
		},
		{
			name: "basket for a customer",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.RecommendBasket(ctx, &patronv1.RecommendBasketRequest{ItemIds: []string{"kettle"}, CustomerId: "c1", Limit: i32(100), ExcludeItemIds: []string{"hose"}, Category: "kitchen"})
			},
			// snake_case field names are accepted too.
			method: "POST", path: "/v1/recommendations:basket", body: `{"item_ids": ["kettle"], "customer_id": "c1", "limit": 100, "exclude_item_ids": ["hose"], "category": "kitchen"}`,
			// The whole kitchen is the cart or bought by c1 already.
			want: want{version: v, n: 0, never: append([]string{"kettle", "hose"}, c1Bought...), category: "kitchen"},
		},
		{
			name: "popular",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.ListPopularItems(ctx, &patronv1.ListPopularItemsRequest{})
			},
			method: "GET", path: "/v1/items:popular",
			want: want{version: v, n: DefaultLimit},
			check: func(t *testing.T, r *patronv1.RecommendationsResponse) {
				if len(r.Items) > 0 && r.Items[0].Reason.Kind != "popular" {
					t.Errorf("popular item with reason %v", r.Items[0].Reason)
				}
			},
		},
		{
			name: "popular limit 0 is the default",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.ListPopularItems(ctx, &patronv1.ListPopularItemsRequest{Limit: i32(0)})
			},
			method: "GET", path: "/v1/items:popular?limit=0",
			want: want{version: v, n: DefaultLimit},
		},
		{
			name: "popular limit 100 returns the catalog",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.ListPopularItems(ctx, &patronv1.ListPopularItemsRequest{Limit: i32(MaxLimit)})
			},
			method: "GET", path: "/v1/items:popular?limit=100",
			want: want{version: v, n: len(recsCategory)},
		},
		{
			name: "popular in a category",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.ListPopularItems(ctx, &patronv1.ListPopularItemsRequest{Limit: i32(1), Category: "home"})
			},
			method: "GET", path: "/v1/items:popular?limit=1&category=home",
			want: want{version: v, n: 1, category: "home"},
		},
		{
			name: "popular in an unknown category",
			grpc: func() (*patronv1.RecommendationsResponse, error) {
				return api.ListPopularItems(ctx, &patronv1.ListPopularItemsRequest{Category: "Kitchen"})
			},
			method: "GET", path: "/v1/items:popular?category=Kitchen",
			want: want{version: v, n: 0},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, err := c.grpc()
			if err != nil {
				t.Fatalf("gRPC: %v", err)
			}
			checkRecs(t, "gRPC", g, c.want)
			if c.check != nil {
				c.check(t, g)
			}
			r := ts.restRecs(t, c.method, c.path, c.body)
			if !proto.Equal(r, g) {
				t.Errorf("%s %s = %v\ngRPC gave %v", c.method, c.path, r, g)
			}
			t.Logf("%s: %v", c.name, ids(g))
		})
	}
}

// TestRecommendationRoutes checks that the custom-method paths and the
// resource paths do not capture each other's requests.
func TestRecommendationRoutes(t *testing.T) {
	ts, _ := recsServer(t)
	for _, c := range []struct {
		path string
		code int
		want string // in the body
	}{
		{"/v1/items:popular?limit=1", 200, `"modelVersion":"1"`},
		{"/v1/items/popular", 200, `"name":"Item Named Popular"`},            // an item named like the verb
		{"/v1/items/a:popular", 200, `"name":"Colon Lamp"`},                  // the verb after a colon in an id
		{"/v1/items/a%3Apopular", 200, `"name":"Colon Lamp"`},                // percent-encoded colon
		{"/v1/items/popular/similar?limit=1", 200, `"reason"`},               // similar to the item "popular"
		{"/v1/items/a:popular/similar?limit=1", 200, `"reason"`},             // colon inside a path
		{"/v1/items/seeds:popular", 404, `item \"seeds:popular\" not found`}, // not the popular list
		{"/v1/customers/c1/recommendations", 200, `"items"`},
		{"/v1/customers/c1", 200, `"customerId":"c1"`},
	} {
		code, body := ts.get(t, c.path)
		if code != c.code || !strings.Contains(string(body), c.want) {
			t.Errorf("GET %s: %d %s; want %d with %s", c.path, code, body, c.code, c.want)
		}
	}
	// The OpenAPI document lists the four paths.
	_, doc := ts.get(t, "/openapi.json")
	for _, p := range []string{`"/v1/customers/{customerId}/recommendations"`, `"/v1/items/{itemId}/similar"`, `"/v1/recommendations:basket"`, `"/v1/items:popular"`} {
		if !strings.Contains(string(doc), p) {
			t.Errorf("/openapi.json does not list %s", p)
		}
	}
	// The basket is a POST; a GET is 405.
	if code, body := ts.get(t, "/v1/recommendations:basket"); code != http.StatusMethodNotAllowed || !strings.Contains(string(body), "GET is not allowed") {
		t.Errorf("GET /v1/recommendations:basket: %d %s, want 405 saying GET is not allowed", code, body)
	}
}

// TestRecommendationBadRequests checks every error case over gRPC and REST.
func TestRecommendationBadRequests(t *testing.T) {
	ts, _ := recsServer(t)
	ctx := context.Background()
	api := ts.recs()
	long := strings.Repeat("x", MaxIDBytes+1)
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("item%d", i)
		}
		return out
	}
	manyQuery := url.Values{"exclude_item_ids": many(MaxExclude + 1)}.Encode()
	manyJSON, _ := json.Marshal(map[string]any{"itemIds": many(MaxBasketItems + 1)})

	for _, c := range []struct {
		name               string
		call               func() error
		method, path, body string // REST equivalent; "" when REST cannot express it
		code               codes.Code
		httpCode           int
		msg                string
	}{
		{"limit 101", func() error {
			_, err := api.GetRecommendations(ctx, &patronv1.GetRecommendationsRequest{CustomerId: "c1", Limit: i32(101)})
			return err
		}, "GET", "/v1/customers/c1/recommendations?limit=101", "", codes.InvalidArgument, 400, "limit is 101; use 1..100"},
		{"limit negative", func() error {
			_, err := api.GetSimilarItems(ctx, &patronv1.GetSimilarItemsRequest{ItemId: "mug", Limit: i32(-1)})
			return err
		}, "GET", "/v1/items/mug/similar?limit=-1", "", codes.InvalidArgument, 400, "limit is -1"},
		{"popular limit 101", func() error {
			_, err := api.ListPopularItems(ctx, &patronv1.ListPopularItemsRequest{Limit: i32(101)})
			return err
		}, "GET", "/v1/items:popular?limit=101", "", codes.InvalidArgument, 400, "limit is 101"},
		{"basket limit negative", func() error {
			_, err := api.RecommendBasket(ctx, &patronv1.RecommendBasketRequest{ItemIds: []string{"mug"}, Limit: i32(-5)})
			return err
		}, "POST", "/v1/recommendations:basket", `{"itemIds":["mug"],"limit":-5}`, codes.InvalidArgument, 400, "limit is -5"},
		{"limit not a number", nil, "GET", "/v1/items:popular?limit=ten", "", codes.InvalidArgument, 400, "limit"},
		{"unknown item on similar", func() error {
			_, err := api.GetSimilarItems(ctx, &patronv1.GetSimilarItemsRequest{ItemId: "no/such item"})
			return err
		}, "GET", "/v1/items/no%2Fsuch%20item/similar", "", codes.NotFound, 404, `item "no/such item" not found in model bundle v1`},
		{"empty customer id", func() error {
			_, err := api.GetRecommendations(ctx, &patronv1.GetRecommendationsRequest{})
			return err
		}, "", "", "", codes.InvalidArgument, 400, "customer_id is required"},
		{"long customer id", func() error {
			_, err := api.GetRecommendations(ctx, &patronv1.GetRecommendationsRequest{CustomerId: long})
			return err
		}, "GET", "/v1/customers/" + long + "/recommendations", "", codes.InvalidArgument, 400, "customer_id is 257 bytes long; ids are at most 256 bytes"},
		{"customer id not UTF-8", nil, "GET", "/v1/customers/%FF/recommendations", "", codes.InvalidArgument, 400, "not valid UTF-8 (percent-encode ids in URLs as UTF-8)"},
		{"empty item id", func() error {
			_, err := api.GetSimilarItems(ctx, &patronv1.GetSimilarItemsRequest{})
			return err
		}, "", "", "", codes.InvalidArgument, 400, "item_id is required"},
		{"long item id", func() error {
			_, err := api.GetSimilarItems(ctx, &patronv1.GetSimilarItemsRequest{ItemId: long})
			return err
		}, "GET", "/v1/items/" + long + "/similar", "", codes.InvalidArgument, 400, "item_id is 257 bytes long"},
		{"too many excludes", func() error {
			_, err := api.GetRecommendations(ctx, &patronv1.GetRecommendationsRequest{CustomerId: "c1", ExcludeItemIds: many(MaxExclude + 1)})
			return err
		}, "GET", "/v1/customers/c1/recommendations?" + manyQuery, "", codes.InvalidArgument, 400, "exclude_item_ids has 1001 ids; at most 1000"},
		{"too many excludes on similar", func() error {
			_, err := api.GetSimilarItems(ctx, &patronv1.GetSimilarItemsRequest{ItemId: "mug", ExcludeItemIds: many(MaxExclude + 1)})
			return err
		}, "GET", "/v1/items/mug/similar?" + manyQuery, "", codes.InvalidArgument, 400, "exclude_item_ids has 1001 ids"},
		{"long exclude id", func() error {
			_, err := api.RecommendBasket(ctx, &patronv1.RecommendBasketRequest{ItemIds: []string{"mug"}, ExcludeItemIds: []string{long}})
			return err
		}, "POST", "/v1/recommendations:basket", `{"itemIds":["mug"],"excludeItemIds":["` + long + `"]}`, codes.InvalidArgument, 400, "exclude_item_ids[0] is 257 bytes long"},
		{"long category", func() error {
			_, err := api.ListPopularItems(ctx, &patronv1.ListPopularItemsRequest{Category: long})
			return err
		}, "GET", "/v1/items:popular?category=" + long, "", codes.InvalidArgument, 400, "category is 257 bytes long"},
		{"empty exclude id", func() error {
			_, err := api.GetRecommendations(ctx, &patronv1.GetRecommendationsRequest{CustomerId: "c1", ExcludeItemIds: []string{"mug", ""}})
			return err
		}, "GET", "/v1/customers/c1/recommendations?exclude_item_ids=mug&exclude_item_ids=", "", codes.InvalidArgument, 400, "exclude_item_ids[1] is empty"},
		{"empty basket", func() error {
			_, err := api.RecommendBasket(ctx, &patronv1.RecommendBasketRequest{CustomerId: "c1"})
			return err
		}, "POST", "/v1/recommendations:basket", `{"customerId":"c1"}`, codes.InvalidArgument, 400, "item_ids is empty"},
		{"basket too large", func() error {
			_, err := api.RecommendBasket(ctx, &patronv1.RecommendBasketRequest{ItemIds: many(MaxBasketItems + 1)})
			return err
		}, "POST", "/v1/recommendations:basket", string(manyJSON), codes.InvalidArgument, 400, "item_ids has 101 ids; a cart is at most 100 items"},
		{"basket item too long", func() error {
			_, err := api.RecommendBasket(ctx, &patronv1.RecommendBasketRequest{ItemIds: []string{"mug", long}})
			return err
		}, "POST", "/v1/recommendations:basket", `{"itemIds":["mug","` + long + `"]}`, codes.InvalidArgument, 400, "item_ids[1] is 257 bytes long"},
		{"basket customer too long", func() error {
			_, err := api.RecommendBasket(ctx, &patronv1.RecommendBasketRequest{ItemIds: []string{"mug"}, CustomerId: long})
			return err
		}, "POST", "/v1/recommendations:basket", `{"itemIds":["mug"],"customerId":"` + long + `"}`, codes.InvalidArgument, 400, "customer_id is 257 bytes long"},
		{"basket body not JSON", nil, "POST", "/v1/recommendations:basket", `{"itemIds":`, codes.InvalidArgument, 400, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.call != nil {
				checkGRPCError(t, c.call(), c.code, c.msg)
			}
			if c.path != "" {
				code, body := ts.do(t, c.method, c.path, c.body)
				checkRESTError(t, c.method+" "+c.path, code, body, c.httpCode, c.code, c.msg)
			}
		})
	}
}

// TestRecommendationsUnavailable: before any bundle, every endpoint is
// UNAVAILABLE (503), after validation passes.
func TestRecommendationsUnavailable(t *testing.T) {
	ts := start(t, openRegistry(t), Options{})
	_, err := ts.recs().ListPopularItems(context.Background(), &patronv1.ListPopularItemsRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("ListPopularItems without a bundle: %v, want UNAVAILABLE", err)
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/customers/c1/recommendations", ""},
		{"GET", "/v1/items/mug/similar", ""},
		{"POST", "/v1/recommendations:basket", `{"itemIds":["mug"]}`},
		{"GET", "/v1/items:popular", ""},
	} {
		if code, body := ts.do(t, c.method, c.path, c.body); code != http.StatusServiceUnavailable || !strings.Contains(string(body), "patron train") {
			t.Errorf("%s %s without a bundle: %d %s, want 503 saying to train", c.method, c.path, code, body)
		}
	}
}
