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

// TestRebuyTrend: customer z bought "old" and "hot" together twice, so the
// formula scores them the same; "hot" sells more in the last 30 days than
// before, "old" less, so with RebuyTrend "hot" scores higher, by
// exp(g (t_hot - t_old)).
func TestRebuyTrend(t *testing.T) {
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
		line("z", "old", day(d))
		line("z", "hot", day(d))
	}
	for k := range 6 {
		line(fmt.Sprintf("c%d", k), "hot", day(5+k))  // 6 orders in the last 30 days
		line(fmt.Sprintf("c%d", k), "old", day(40+k)) // 6 orders 30-120 days ago
	}
	ds, err := features.Read(context.Background(), strings.NewReader(b.String()), features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rebuy := func(g float64) map[string]float64 {
		p := DefaultParams()
		p.Personal = ModelPopular
		p.RebuyTrend = g
		p.RebuyBuyers = 0 // "hot" has recent buyers, "old" none
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
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Abs(b) }
	plain, trend := rebuy(0), rebuy(0.5)
	if plain["hot"] != plain["old"] || plain["hot"] <= 0 {
		t.Fatalf("without the trend: %v, want equal positive scores", plain)
	}
	st := newItemStats(ds, asOf)
	hot, _ := ds.Items.Index("hot")
	old, _ := ds.Items.Index("old")
	// hot: log((6+1)/(2/3+1)) (z's orders are 60 and 90 days old); old:
	// log(1/(8/3+1)).
	if !near(float64(st.trend[hot]), math.Log(7/(2.0/3+1))) || !near(float64(st.trend[old]), math.Log(1/(8.0/3+1))) {
		t.Fatalf("trends %v %v", st.trend[hot], st.trend[old])
	}
	want := plain["hot"] * math.Exp(0.5*float64(st.trend[hot]))
	if got := trend["hot"]; !near(got, want) || !(trend["hot"] > trend["old"]) {
		t.Errorf("with the trend: %v, want hot %v and above old", trend, want)
	}
	if got, want := trend["old"], plain["old"]*math.Exp(0.5*float64(st.trend[old])); !near(got, want) {
		t.Errorf("old: %v, want %v", got, want)
	}
}
