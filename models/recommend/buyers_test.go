package recommend

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
)

// TestRebuyBuyers: customer z bought "mug" and "jar" together twice, 60 and 90
// days before the as-of date. In the last RecentBuyersDays = 14 days "jar"
// was bought by c0 (twice), c1 and c2 and by a guest, so b_b = 3 (a
// customer counts once, guests not at all); "mug" by c4 exactly 14 days
// before (inside the window) and c3 20 days before (outside), so b_a = 1.
// With RebuyBuyers u, each of z's buy-again scores is its score at u = 0
// times (1 + b_j)^u: 4^u for "jar", 2^u for "mug".
func TestRebuyBuyers(t *testing.T) {
	var b strings.Builder
	b.WriteString("order_id,customer_id,item_id,quantity,unit_price,ordered_at\n")
	n := 0
	line := func(cust, item string, at time.Time) {
		n++
		fmt.Fprintf(&b, "o%d,%s,%s,1,2.5,%s\n", n, cust, item, at.Format("2006-01-02 15:04:05"))
	}
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return asOf.AddDate(0, 0, -d) }
	for _, d := range []int{90, 60} {
		line("z", "mug", day(d))
		line("z", "jar", day(d))
	}
	line("c0", "jar", day(3))
	line("c0", "jar", day(12))
	line("c1", "jar", day(5))
	line("c2", "jar", day(10))
	line("", "jar", day(2)) // a guest
	line("c4", "mug", day(14))
	line("c3", "mug", day(20))
	ds, err := features.Read(context.Background(), strings.NewReader(b.String()), features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := newItemStats(ds, asOf)
	mug, _ := ds.Items.Index("mug")
	jar, _ := ds.Items.Index("jar")
	if got, want := float64(st.buyers[jar]), math.Log(4); math.Abs(got-want) > 1e-6 {
		t.Errorf("log(1 + recent buyers of jar) = %v, want log 4 = %v", got, want)
	}
	if got, want := float64(st.buyers[mug]), math.Log(2); math.Abs(got-want) > 1e-6 {
		t.Errorf("log(1 + recent buyers of mug) = %v, want log 2 = %v", got, want)
	}

	rebuy := func(u float64) map[string]float64 {
		p := DefaultParams()
		p.Personal = ModelPopular
		p.RebuyBuyers = u
		m, err := FitForRanking(ds, asOf, p)
		if err != nil {
			t.Fatal(err)
		}
		h, found, err := m.hist.history("z", &History{})
		if err != nil || !found {
			t.Fatal(found, err)
		}
		out := map[string]float64{}
		for _, it := range h.Items {
			out[m.cat.ids[it.Item]] = float64(it.Rebuy)
		}
		return out
	}
	base := rebuy(0)
	if base["mug"] <= 0 || base["jar"] <= 0 {
		t.Fatalf("scores at u = 0: %v, want positive", base)
	}
	for _, tc := range []struct {
		u, wantMug, wantJar float64 // u; the multipliers (1 + b_j)^u of mug and jar
	}{
		{u: 0.2, wantMug: 1.148698355, wantJar: 1.319507911},
		{u: 0.5, wantMug: 1.414213562, wantJar: 2},
		{u: 1, wantMug: 2, wantJar: 4},
	} {
		got := rebuy(tc.u)
		for item, want := range map[string]float64{"mug": tc.wantMug, "jar": tc.wantJar} {
			if r := got[item] / base[item]; math.Abs(r-want) > 1e-5*want {
				t.Errorf("u = %v: %s scores %v times its u = 0 score, want %v", tc.u, item, r, want)
			}
		}
	}
}
