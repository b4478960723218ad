package recommend_test

import (
	"context"
	"slices"
	"testing"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/features/synth"
	"github.com/patron-crm/patron/models/gbt"
	"github.com/patron-crm/patron/models/recommend"
)

// stump is a one-split model: log-odds lo when feature f is at most 0.5,
// hi otherwise.
func stump(f int, lo, hi float64) *gbt.Model {
	return &gbt.Model{D: len(recommend.RerankFeatureNames), Trees: []gbt.Tree{{Nodes: []gbt.Node{
		{Feature: f, Threshold: 0.5, Left: 1, Right: 2}, {Feature: -1, Value: lo}, {Feature: -1, Value: hi},
	}}}}
}

func TestRerankCandidates(t *testing.T) {
	ds := shop(t)
	m := fit(t, ds, recommend.ModelEASE)
	s, found := m.RerankCandidates("b")
	if !found {
		t.Fatal("customer b not found")
	}
	d := len(recommend.RerankFeatureNames)
	if len(s.Items) == 0 || len(s.X) != len(s.Items)*d {
		t.Fatalf("%d items, %d values", len(s.Items), len(s.X))
	}
	for k, id := range s.Items {
		if id == "tea" || id == "cup" || id == "pot" {
			t.Errorf("candidate %s was bought by b", id)
		}
		if fill := s.X[k*d+2]; (fill == 1) != (s.X[k*d+1] == 0) {
			t.Errorf("candidate %s: fill %v with vote %v", id, fill, s.X[k*d+1])
		}
		if k > 0 && s.X[k*d+1] > s.X[(k-1)*d+1] {
			t.Errorf("candidates not in vote order: %v", s.Items)
		}
	}
	if _, found := m.RerankCandidates("nobody"); found {
		t.Error("unknown customer found")
	}
}

// TestWithReranker checks that a re-ranker reorders what a customer is
// recommended (here: one that prefers the trending fill items to the
// voted ones) and that nothing else changes: bought items stay out,
// nothing repeats, and the plain recommender is untouched.
func TestWithReranker(t *testing.T) {
	ds := shop(t)
	m := fit(t, ds, recommend.ModelEASE)
	plain, err := m.ForCustomer(recommend.Request{CustomerID: "a", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	cands, _ := m.RerankCandidates("a")
	fills := 0
	for k := range cands.Items {
		if cands.X[k*len(recommend.RerankFeatureNames)+2] == 1 {
			fills++
		}
	}
	if fills == 0 {
		t.Fatalf("no fill candidates for a: %v", cands.Items)
	}
	rr := m.WithReranker(stump(2, -3, 3)) // feature 2: fill
	if !rr.Reranked() || m.Reranked() {
		t.Fatal("Reranked wrong")
	}
	got, err := rr.ForCustomer(recommend.Request{CustomerID: "a", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(ids(got), ids(plain)) {
		t.Fatalf("re-ranking changed nothing: %v", ids(got))
	}
	first := got.Items[0]
	if first.Reason.Kind != recommend.ReasonPopular || first.Score != 1 {
		t.Errorf("first item %+v: want a fill item with score 1", first)
	}
	seen := map[string]bool{}
	for _, it := range got.Items {
		if seen[it.ItemID] || it.ItemID == "tea" || it.ItemID == "cup" {
			t.Errorf("item %s repeated or bought: %v", it.ItemID, ids(got))
		}
		seen[it.ItemID] = true
	}
	again, _ := m.ForCustomer(recommend.Request{CustomerID: "a", Limit: 5})
	if !slices.Equal(ids(again), ids(plain)) {
		t.Errorf("the plain recommender changed: %v then %v", ids(plain), ids(again))
	}
}

// TestRerankDepth checks a customer with more candidates than the
// re-ranker orders: the RerankDepth best by vote come first, in the
// re-ranker's order, and the rest of the list follows in vote order.
func TestRerankDepth(t *testing.T) {
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories, cfg.Seed = 2000, 400, 4, 3
	ds, err := synth.Dataset(context.Background(), cfg, features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := recommend.Fit(ds, cfg.End, recommend.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	// Prefers candidates far down the vote order (feature 0: log rank).
	rr := m.WithReranker(stump(0, -2, 2))
	req := recommend.Request{Limit: recommend.PersonalCandidates}
	checked := 0
	for _, id := range ds.Customers.Names() {
		req.CustomerID = id
		plain, err := m.ForCustomer(req)
		if err != nil {
			t.Fatal(err)
		}
		if len(plain.Items) < recommend.PersonalCandidates || plain.Items[len(plain.Items)-1].Reason.Kind != recommend.ReasonBecauseYouBought {
			continue // fewer voted candidates than a full list
		}
		got, err := rr.ForCustomer(req)
		if err != nil {
			t.Fatal(err)
		}
		head, tail := ids(got)[:recommend.RerankDepth], ids(got)[recommend.RerankDepth:]
		wantHead := ids(plain)[:recommend.RerankDepth]
		if slices.Equal(head, wantHead) {
			t.Fatalf("customer %s: the re-ranker changed nothing", id)
		}
		slices.Sort(head)
		slices.Sort(wantHead)
		if !slices.Equal(head, wantHead) {
			t.Fatalf("customer %s: re-ranked head %v, want the vote's best %v", id, head, wantHead)
		}
		if want := ids(plain)[recommend.RerankDepth:]; !slices.Equal(tail, want) {
			t.Fatalf("customer %s: tail %v, want the vote order %v", id, tail, want)
		}
		if checked++; checked == 20 {
			break
		}
	}
	if checked == 0 {
		t.Fatal("no customer with a full list of voted candidates")
	}
}
