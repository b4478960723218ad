package recommend_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/recommend"
	"github.com/patron-crm/patron/models/registry"
)

// shop is a small history with planted structure: tea and cups go together
// (customers a..f), socks and shoes go together (g..k), and customer a buys
// tea every two weeks.
func shop(t testing.TB) *features.Dataset {
	var b strings.Builder
	b.WriteString("order_id,customer_id,item_id,quantity,unit_price,ordered_at,item_name,category\n")
	n := 0
	line := func(cust, item string, day int) {
		n++
		cat := map[string]string{"tea": "kitchen", "cup": "kitchen", "pot": "kitchen", "sock": "clothes", "shoe": "clothes", "hat": "clothes"}[item]
		fmt.Fprintf(&b, "o%d-%s,%s,%s,1,2.5,2024-01-%02d 10:00:00,%s name,%s\n", day, cust, cust, item, day, item, cat)
	}
	for _, c := range []string{"a", "b", "c", "d", "e", "f"} {
		line(c, "tea", 2)
		line(c, "cup", 2)
	}
	for _, c := range []string{"b", "c", "d"} {
		line(c, "pot", 5)
	}
	for _, c := range []string{"g", "h", "i", "j", "k"} {
		line(c, "sock", 3)
		line(c, "shoe", 3)
		line(c, "hat", 4)
	}
	line("a", "tea", 16)
	line("a", "tea", 30)
	_ = n
	ds, err := features.Read(context.Background(), strings.NewReader(b.String()), features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func fit(t testing.TB, ds *features.Dataset, personal string) *recommend.Recommender {
	p := recommend.DefaultParams()
	p.Personal = personal
	p.EASE.MinCustomers = 1
	p.Together.MinSupport = 1
	m, err := recommend.Fit(ds, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ids(r recommend.Result) []string {
	var out []string
	for _, it := range r.Items {
		out = append(out, it.ItemID)
	}
	return out
}

func TestRecommendPlantedStructure(t *testing.T) {
	ds := shop(t)
	for _, personal := range []string{recommend.ModelEASE, recommend.ModelRP3Beta, recommend.ModelCosine} {
		t.Run(personal, func(t *testing.T) {
			m := fit(t, ds, personal)
			// e bought tea and cup: the pot (bought with them by b, c, d) comes first, never tea or cup.
			r, err := m.ForCustomer(recommend.Request{CustomerID: "e", Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			got := ids(r)
			if len(got) != 3 || got[0] != "pot" || r.ColdStart {
				t.Fatalf("e: %v (cold %v), want pot first", got, r.ColdStart)
			}
			if r.Items[0].Reason.Kind != recommend.ReasonBecauseYouBought || !strings.Contains(r.Items[0].Reason.Text, "Because you bought") {
				t.Fatalf("reason %+v", r.Items[0].Reason)
			}
			for _, id := range got {
				if id == "tea" || id == "cup" {
					t.Fatalf("bought item %s recommended by default: %v", id, got)
				}
			}
			// With purchased items, a's tea (bought three times, every two weeks) is time to reorder.
			r, _ = m.ForCustomer(recommend.Request{CustomerID: "a", Limit: 3, IncludePurchased: true})
			if r.Items[0].ItemID != "tea" || r.Items[0].Reason.Kind != recommend.ReasonTimeToReorder || !strings.Contains(r.Items[0].Reason.Text, "14 days") {
				t.Fatalf("a with purchased: %+v", r.Items)
			}
		})
	}
}

func TestSimilarBasketPopular(t *testing.T) {
	m := fit(t, shop(t), recommend.ModelEASE)
	r, err := m.Similar("sock", recommend.Filter{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(r); !reflect.DeepEqual(got, []string{"hat", "shoe"}) && !reflect.DeepEqual(got, []string{"shoe", "hat"}) {
		t.Fatalf("similar to sock: %v", got)
	}
	if _, err := m.Similar("nope", recommend.Filter{}); !errors.Is(err, recommend.ErrUnknownItem) {
		t.Fatalf("unknown item: %v", err)
	}
	r, err = m.Basket(recommend.BasketRequest{ItemIDs: []string{"sock", "unknown-item"}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(r); len(got) != 1 || got[0] != "shoe" || r.Items[0].Reason.Kind != recommend.ReasonBoughtTogether {
		t.Fatalf("basket [sock]: %+v", r.Items)
	}
	// A known customer's basket leaves out what they bought: b bought tea, cup and pot.
	r, _ = m.Basket(recommend.BasketRequest{ItemIDs: []string{"tea"}, CustomerID: "b", Limit: 5})
	for _, it := range r.Items {
		if it.ItemID == "cup" || it.ItemID == "pot" || it.ItemID == "tea" {
			t.Fatalf("basket for b returns %s, which b bought: %v", it.ItemID, ids(r))
		}
	}
	r, _ = m.Popular(recommend.Filter{Limit: 2, Category: "clothes"})
	for _, it := range r.Items {
		if it.ItemID != "sock" && it.ItemID != "shoe" && it.ItemID != "hat" {
			t.Fatalf("popular clothes: %v", ids(r))
		}
	}
	r, _ = m.ForCustomer(recommend.Request{CustomerID: "stranger", Limit: 4})
	if !r.ColdStart || len(r.Items) != 4 || r.Items[0].Reason.Kind != recommend.ReasonPopular {
		t.Fatalf("cold start: %+v", r)
	}
}

// TestInvariants: whatever is asked, no item twice, never an excluded item,
// the category and limit respected; bad limits are ErrBadRequest.
func TestInvariants(t *testing.T) {
	m := fit(t, shop(t), recommend.ModelEASE)
	all := []string{"tea", "cup", "pot", "sock", "shoe", "hat"}
	for _, cust := range []string{"a", "b", "g", "stranger"} {
		for _, inc := range []bool{false, true} {
			for _, ex := range [][]string{nil, {"pot"}, {"hat", "shoe", "tea"}} {
				for _, cat := range []string{"", "kitchen", "clothes"} {
					for _, limit := range []int{0, 1, 3, 100} {
						req := recommend.Request{CustomerID: cust, Limit: limit, IncludePurchased: inc, ExcludeItemIDs: ex, Category: cat}
						results := map[string]recommend.Result{}
						r, err := m.ForCustomer(req)
						if err != nil {
							t.Fatal(err)
						}
						results["customer"] = r
						if r, err = m.Basket(recommend.BasketRequest{ItemIDs: []string{"tea"}, CustomerID: cust, Limit: limit, ExcludeItemIDs: ex, Category: cat}); err != nil {
							t.Fatal(err)
						}
						results["basket"] = r
						if r, err = m.Similar("cup", recommend.Filter{Limit: limit, ExcludeItemIDs: ex, Category: cat}); err != nil {
							t.Fatal(err)
						}
						results["similar"] = r
						if r, err = m.Popular(recommend.Filter{Limit: limit, ExcludeItemIDs: ex, Category: cat}); err != nil {
							t.Fatal(err)
						}
						results["popular"] = r
						for kind, r := range results {
							seen := map[string]bool{}
							want := limit
							if want == 0 {
								want = recommend.DefaultLimit
							}
							if len(r.Items) > want {
								t.Fatalf("%s %+v: %d items", kind, req, len(r.Items))
							}
							for _, it := range r.Items {
								if seen[it.ItemID] {
									t.Fatalf("%s %+v: %s twice", kind, req, it.ItemID)
								}
								seen[it.ItemID] = true
								for _, x := range ex {
									if it.ItemID == x {
										t.Fatalf("%s %+v: excluded %s returned", kind, req, x)
									}
								}
								if (kind == "basket" && it.ItemID == "tea") || (kind == "similar" && it.ItemID == "cup") {
									t.Fatalf("%s returned its own input %s", kind, it.ItemID)
								}
								if cat != "" && !strings.Contains(catOf(it.ItemID), cat) {
									t.Fatalf("%s %+v: %s not in %s", kind, req, it.ItemID, cat)
								}
								if it.Reason.Text == "" {
									t.Fatalf("%s: no reason for %s", kind, it.ItemID)
								}
							}
							_ = all
						}
					}
				}
			}
		}
	}
	for _, limit := range []int{-1, 101} {
		if _, err := m.ForCustomer(recommend.Request{CustomerID: "a", Limit: limit}); !errors.Is(err, recommend.ErrBadRequest) {
			t.Fatalf("limit %d: %v", limit, err)
		}
	}
	if _, err := m.Basket(recommend.BasketRequest{}); !errors.Is(err, recommend.ErrBadRequest) {
		t.Fatalf("empty basket: %v", err)
	}
	if _, err := m.Popular(recommend.Filter{ExcludeItemIDs: make([]string, recommend.MaxExclude+1)}); !errors.Is(err, recommend.ErrBadRequest) {
		t.Fatalf("too many exclusions: %v", err)
	}
}

func catOf(item string) string {
	return map[string]string{"tea": "kitchen", "cup": "kitchen", "pot": "kitchen", "sock": "clothes", "shoe": "clothes", "hat": "clothes"}[item]
}

// TestBundleRoundTrip: a recommender written to a real bundle and opened
// again answers exactly as the one in memory (what is evaluated is served).
func TestBundleRoundTrip(t *testing.T) {
	ds, err := features.ReadFile(context.Background(), "../../data/online_retail.csv.gz", features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2011, 9, 1, 0, 0, 0, 0, time.UTC)
	p := recommend.DefaultParams()
	p.Personal = recommend.ModelRP3Beta // fast; the storage is the same for every model
	mem, err := recommend.Fit(ds, asOf, p)
	if err != nil {
		t.Fatal(err)
	}
	// Re-ranked lists are computed when the bundle is written: served
	// must equal memory with a re-ranker too (feature 6: item trend).
	mem = mem.WithReranker(stump(6, -1, 1))
	reg, _ := registry.Open(t.TempDir(), registry.Options{})
	b, _ := reg.NewBuilder(registry.Manifest{})
	if err := mem.Write(b); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(true); err != nil {
		t.Fatal(err)
	}
	bundle, err := reg.OpenBundle(1)
	if err != nil {
		t.Fatal(err)
	}
	defer bundle.Close()
	served, err := recommend.Open(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if !served.AsOf.Equal(asOf) || served.Params.Personal != recommend.ModelRP3Beta {
		t.Fatalf("params: %v %+v", served.AsOf, served.Params)
	}
	for pass := range 2 { // the second pass reads the served histories from its cache
		for c := 0; c < ds.Customers.Len(); c += 97 {
			id := ds.Customers.Name(int32(c))
			for _, inc := range []bool{false, true} {
				req := recommend.Request{CustomerID: id, Limit: 20, IncludePurchased: inc}
				a, err1 := mem.ForCustomer(req)
				b, err2 := served.ForCustomer(req)
				if err1 != nil || err2 != nil || !reflect.DeepEqual(a, b) {
					t.Fatalf("pass %d, customer %s include=%v: memory %v (%v) != served %v (%v)", pass, id, inc, ids(a), err1, ids(b), err2)
				}
			}
		}
	}
	if st, ok := served.HistoryCacheStats(); !ok || st.Hits == 0 || st.Entries == 0 {
		t.Errorf("history cache %+v (%v): want hits on the second pass", st, ok)
	}
	a, _ := mem.Similar("85123A", recommend.Filter{Limit: 10})
	b2, _ := served.Similar("85123A", recommend.Filter{Limit: 10})
	if !reflect.DeepEqual(a, b2) || len(a.Items) != 10 {
		t.Fatalf("similar differs: %v vs %v", ids(a), ids(b2))
	}
}
