package buyagain

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
)

func TestScores(t *testing.T) {
	// c buys A on days 1, 11, 21 (every 10 days), B on day 2 only, and
	// C on days 5 and 25 (every 20 days, so C is not yet due on day 31).
	in := `order_id,customer_id,item_id,quantity,unit_price,ordered_at
o1,c,A1,1,1,2024-01-01
o2,c,B1,1,1,2024-01-02
o3,c,C1,1,1,2024-01-05
o4,c,A1,1,1,2024-01-11
o5,c,A1,1,1,2024-01-21
o6,c,C1,1,1,2024-01-25
`
	ds, err := features.Read(context.Background(), strings.NewReader(in), features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	s := New(ds, asOf, Params{CountPower: 1, HalfLifeGaps: 4, DueWeight: 1}, Signals{})
	c, _ := ds.Customers.Index("c")
	items := s.Customer(c, s.NewScratch(), nil)
	got := map[string]Item{}
	for _, it := range items {
		got[ds.Items.Name(it.Item)] = it
	}
	a, b, cc := got["A1"], got["B1"], got["C1"]
	if a.Orders != 3 || a.Interval != 10 || cc.Interval != 20 || b.Orders != 1 || b.Interval != 0 {
		t.Fatalf("counts/intervals: %+v %+v %+v", a, b, cc)
	}
	// Mean gap between c's 6 orders: 24/5 = 4.8 days; half-life 4 gaps = 19.2 days (above the 14-day floor).
	h := 4 * 4.8
	wantA := 3 * math.Exp2(-10/h) * 2           // 10 days since the last, interval 10: fully due
	wantC := 2 * math.Exp2(-6/h) * (1 + 6.0/20) // 6 days of a 20-day interval
	wantB := 1 * math.Exp2(-29/h)               // bought once: no due term
	for _, x := range []struct {
		name      string
		got, want float64
	}{{"A", a.Score, wantA}, {"C", cc.Score, wantC}, {"B", b.Score, wantB}} {
		if math.Abs(x.got-x.want) > 1e-9 {
			t.Errorf("%s: score %v, want %v", x.name, x.got, x.want)
		}
	}
	if !(a.Score > cc.Score && cc.Score > b.Score) {
		t.Fatalf("order A > C > B expected: %v %v %v", a.Score, cc.Score, b.Score)
	}
}

// repeatShop: x buys tea twice and a cup once, y tea and a cup once each
// before 2024-02-01 (tea: 1 repeater of 2 buyers; over all items: 1 of 4
// (item, buyer) pairs), and y a cup again after it.
func repeatShop(t *testing.T) (ds *features.Dataset, asOf time.Time) {
	t.Helper()
	in := `order_id,customer_id,item_id,quantity,unit_price,ordered_at
o1,x,tea,1,1,2024-01-01
o1,x,cup,1,1,2024-01-01
o2,x,tea,1,1,2024-01-05
o3,y,tea,1,1,2024-01-02
o3,y,cup,1,1,2024-01-02
o4,y,cup,1,1,2024-03-01
`
	ds, err := features.Read(context.Background(), strings.NewReader(in), features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ds, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
}

// TestRepeatRates: an item's repeat rate is the share of its buyers who
// bought it in more than one order, shrunk toward the share over all items
// (Laplace's rule), so a shop with no repeat buyer yet still gives rates
// above 0.
func TestRepeatRates(t *testing.T) {
	ds, asOf := repeatShop(t)
	ds = ds.Before(asOf) // the order after the as-of date does not count
	rates := RepeatRates(ds)
	tea, _ := ds.Items.Index("tea")
	cup, _ := ds.Items.Index("cup")
	prior := (1.0 + 1) / (4 + 2)
	wantTea := (1 + RepeatPrior*prior) / (2 + RepeatPrior)
	wantCup := (0 + RepeatPrior*prior) / (2 + RepeatPrior)
	if math.Abs(rates[tea]-wantTea) > 1e-12 || math.Abs(rates[cup]-wantCup) > 1e-12 {
		t.Fatalf("rates tea %v cup %v, want %v %v", rates[tea], rates[cup], wantTea, wantCup)
	}
	if s := New(ds, asOf, Params{RepeatPower: 1}, Signals{}); len(s.Signals().Rates) != ds.Items.Len() {
		t.Error("New did not compute the rates it needs")
	}
	// By 2024-01-03 x and y have one order each: no repeater anywhere.
	first := RepeatRates(ds.Before(time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)))
	if want := RepeatPrior * (1.0 / 6) / (2 + RepeatPrior); math.Abs(first[tea]-want) > 1e-12 || first[tea] != first[cup] {
		t.Errorf("no repeaters: rates tea %v cup %v, want %v", first[tea], first[cup], want)
	}
}

// TestItemFactors: each item's score is the plain score times
// r_i^ρ exp(g t_i) (1 + b_i)^u, for the signals given; a factor whose
// signal is missing is 1.
func TestItemFactors(t *testing.T) {
	ds, asOf := repeatShop(t)
	ds = ds.Before(asOf)
	rates := RepeatRates(ds)
	tea, _ := ds.Items.Index("tea")
	cup, _ := ds.Items.Index("cup")
	trend := make([]float32, ds.Items.Len())
	logBuyers := make([]float32, ds.Items.Len())
	trend[tea], trend[cup] = 0.5, -1
	logBuyers[tea], logBuyers[cup] = float32(math.Log(4)), float32(math.Log(2)) // 3 and 1 recent buyers
	full := Signals{Rates: rates, Trend: trend, LogBuyers: logBuyers}
	x, _ := ds.Customers.Index("x")
	scores := func(p Params, sig Signals) map[int32]float64 {
		p.CountPower, p.HalfLifeGaps = 1, 4
		s := New(ds, asOf, p, sig)
		out := map[int32]float64{}
		for _, it := range s.Customer(x, s.NewScratch(), nil) {
			out[it.Item] = it.Score
		}
		return out
	}
	plain := scores(Params{}, full)
	for _, tc := range []struct {
		name     string
		p        Params
		sig      Signals
		tea, cup float64 // the factors
	}{
		{"repeat rate", Params{RepeatPower: 0.5}, full, math.Sqrt(rates[tea]), math.Sqrt(rates[cup])},
		{"trend", Params{TrendPower: 0.2}, full, math.Exp(0.2 * 0.5), math.Exp(-0.2)},
		{"recent buyers", Params{BuyersPower: 0.5}, full, 2, math.Sqrt2},
		{"all three", Params{RepeatPower: 1, TrendPower: 0.2, BuyersPower: 1},
			full, rates[tea] * math.Exp(0.1) * 4, rates[cup] * math.Exp(-0.2) * 2},
		{"no trend or buyers signals", Params{TrendPower: 0.2, BuyersPower: 1}, Signals{Rates: rates}, 1, 1},
	} {
		got := scores(tc.p, tc.sig)
		for item, want := range map[int32]float64{tea: tc.tea, cup: tc.cup} {
			// float32 signals: a relative tolerance.
			if f := got[item] / plain[item]; math.Abs(f-want) > 1e-6*want {
				t.Errorf("%s: item %d scores %v times the plain score, want %v", tc.name, item, f, want)
			}
		}
	}
}
