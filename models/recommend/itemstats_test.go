package recommend

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/buyagain"
)

// TestBuyAgainItemSignals: customer z bought "mug" and "jar" together 90
// and 60 days before the as-of date. In the last 30 days "jar" was ordered
// by c0 (twice, 3 and 12 days before), c1, c2 and a guest, "mug" by c4 (14
// days before) and c3 (20 days before). The item statistics give the
// trend t = log((orders in 30 days + 1) / (orders 30-120 days before / 3 + 1))
// and the recent buyers b, distinct customers in the last RecentBuyersDays
// = 14 days (a customer counts once, a guest not at all, day 14 is in), and
// z's buy-again scores carry them: exp(g t) (1 + b)^u, with the repeat rate's
// r^0.5, over the scores without any item factor.
func TestBuyAgainItemSignals(t *testing.T) {
	var b strings.Builder
	b.WriteString("order_id,customer_id,item_id,quantity,unit_price,ordered_at\n")
	n := 0
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	line := func(cust, item string, daysBefore int) {
		n++
		fmt.Fprintf(&b, "o%d,%s,%s,1,2.5,%s\n", n, cust, item, asOf.AddDate(0, 0, -daysBefore).Format("2006-01-02 15:04:05"))
	}
	for _, d := range []int{90, 60} {
		line("z", "mug", d)
		line("z", "jar", d)
	}
	line("c0", "jar", 3)
	line("c0", "jar", 12)
	line("c1", "jar", 5)
	line("c2", "jar", 10)
	line("", "jar", 2) // a guest
	line("c4", "mug", 14)
	line("c3", "mug", 20)
	ds, err := features.Read(context.Background(), strings.NewReader(b.String()), features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mug, _ := ds.Items.Index("mug")
	jar, _ := ds.Items.Index("jar")
	type want struct{ trend, buyers float64 }
	wants := map[int32]want{
		jar: {math.Log(6 / (2.0/3 + 1)), 3}, // 5 orders in 30 days, z's 2 before
		mug: {math.Log(3 / (2.0/3 + 1)), 1}, // 2 orders in 30 days, c3's outside the 14
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*max(1, math.Abs(b)) }
	st := newItemStats(ds, asOf)
	for j, w := range wants {
		if !near(float64(st.trend[j]), w.trend) || !near(float64(st.buyers[j]), math.Log1p(w.buyers)) {
			t.Errorf("item %d: trend %v, log(1 + buyers) %v; want %v, log(1 + %v)", j, st.trend[j], st.buyers[j], w.trend, w.buyers)
		}
	}

	rebuy := func(p buyagain.Params) map[int32]float64 {
		rp := DefaultParams()
		rp.Personal, rp.BuyAgain = ModelPopular, p
		m, err := FitForRanking(ds, asOf, rp)
		if err != nil {
			t.Fatal(err)
		}
		h, found, err := m.hist.history("z", &History{})
		if err != nil || !found {
			t.Fatal(found, err)
		}
		out := map[int32]float64{}
		for _, it := range h.Items {
			out[it.Item] = float64(it.Rebuy)
		}
		return out
	}
	p := DefaultParams().BuyAgain
	bare := p
	bare.RepeatPower, bare.TrendPower, bare.BuyersPower = 0, 0, 0
	plain, got := rebuy(bare), rebuy(p)
	rates := buyagain.RepeatRates(ds.Before(asOf))
	for j, w := range wants {
		factor := math.Pow(rates[j], p.RepeatPower) * math.Exp(p.TrendPower*w.trend) * math.Pow(1+w.buyers, p.BuyersPower)
		if plain[j] <= 0 || !near(got[j]/plain[j], factor) {
			t.Errorf("item %d: buy-again score %v, %v times the bare %v; want %v times", j, got[j], got[j]/plain[j], plain[j], factor)
		}
	}
}
