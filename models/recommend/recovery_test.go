package recommend_test

import (
	"context"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/features/synth"
	"github.com/patron-crm/patron/models/recommend"
)

// TestRecoversPlantedCategories: the generator draws each customer's items
// from a few preferred latent categories, so items bought by the same
// customers share a category far more often than chance. The similar-items
// and personal lists must find that structure.
func TestRecoversPlantedCategories(t *testing.T) {
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories, cfg.Seed = 4000, 300, 10, 7
	cfg.GuestShare, cfg.ReturnRate = 0, 0
	ds, err := synth.Dataset(context.Background(), cfg, features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat := map[string]string{}
	for i, id := range ds.Items.Names() {
		cat[id] = ds.ItemCategory[i]
	}
	lines := map[string]float64{}
	total := 0.0
	for _, i := range ds.OrderItems.Idx {
		lines[ds.ItemCategory[i]]++
		total++
	}
	chance := 0.0
	for _, n := range lines {
		chance += (n / total) * (n / total)
	}
	for _, personal := range []string{recommend.ModelEASE, recommend.ModelRP3Beta} {
		p := recommend.DefaultParams()
		p.Personal = personal
		p.EASE.MinCustomers = 2
		m, err := recommend.Fit(ds, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), p)
		if err != nil {
			t.Fatal(err)
		}
		same, n := 0.0, 0.0
		for _, id := range ds.Items.Names() {
			r, err := m.Similar(id, recommend.Filter{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range r.Items {
				if it.Reason.Kind != recommend.ReasonSimilar {
					continue
				}
				n++
				if cat[it.ItemID] == cat[id] {
					same++
				}
			}
		}
		if n == 0 || same/n < 0.6 || same/n < 3*chance {
			t.Fatalf("%s: similar items share the category %.2f of the time (chance %.2f)", personal, same/n, chance)
		}
		// Personal lists come from the categories the customer already buys
		// far more often than popular items do.
		hit, cnt, popHit, popCnt := 0.0, 0.0, 0.0, 0.0
		pop, _ := m.Popular(recommend.Filter{Limit: 100})
		for c := 0; c < ds.Customers.Len(); c += 7 {
			bought := map[string]bool{}
			items, _ := ds.CustomerItems.Row(c)
			for _, i := range items {
				bought[ds.ItemCategory[i]] = true
			}
			for _, it := range pop.Items {
				popCnt++
				if bought[cat[it.ItemID]] {
					popHit++
				}
			}
			r, _ := m.ForCustomer(recommend.Request{CustomerID: ds.Customers.Name(int32(c)), Limit: 5})
			for _, it := range r.Items {
				if it.Reason.Kind == recommend.ReasonBecauseYouBought {
					cnt++
					if bought[cat[it.ItemID]] {
						hit++
					}
				}
			}
		}
		if cnt == 0 || hit/cnt < 1.5*popHit/popCnt {
			t.Fatalf("%s: %.2f of personal recommendations in the customer's categories, popular items %.2f", personal, hit/cnt, popHit/popCnt)
		}
		t.Logf("%s: similar same-category %.2f (chance %.2f); in the customer's categories: personal %.2f, popular %.2f", personal, same/n, chance, hit/cnt, popHit/popCnt)
	}
}
