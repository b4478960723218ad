package features

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

const churnOrders = `order_id,customer_id,item_id,quantity,unit_price,ordered_at,item_name,category
a1,a,X1,1,10,2024-01-01 09:00,x,c1
a1,a,Y1,2,5,2024-01-01 09:00,y,c2
a2,a,X1,1,10,2024-01-01 15:00,x,c1
a3,a,X1,1,10,2024-02-10 09:00,x,c1
a4,a,Z1,1,40,2024-03-11 09:00,z,c1
Ca4,a,Z1,-1,40,2024-03-12 09:00,z,c1
b1,b,Y1,1,5,2024-03-20 09:00,y,c2
a5,a,X1,1,10,2024-04-05 09:00,x,c1
`

func readChurn(t *testing.T, in string) *Dataset {
	t.Helper()
	ds, err := Read(context.Background(), strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestChurnFeaturesByHand(t *testing.T) {
	ds := readChurn(t, churnOrders)
	cut := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	f := ComputeChurnFeatures(ds, cut, 90)
	if len(f.Customers) != 2 {
		t.Fatalf("%d customers, want a and b", len(f.Customers))
	}
	a := f.Row(0)
	get := func(row []float64, name string) float64 {
		for j, n := range f.Names {
			if n == name {
				return row[j]
			}
		}
		t.Fatalf("no feature %s", name)
		return 0
	}
	// a's transactions before April 1: Jan 1 (two orders merged), Feb 10, Mar 11; a5 is after the cutoff.
	tests := []struct {
		name string
		want float64
	}{
		{"recency_days", 21},            // Mar 11 -> Apr 1
		{"frequency", 3},                // Jan 1, Feb 10, Mar 11
		{"tenure_days", 91},             // Jan 1 -> Apr 1 (2024 is a leap year)
		{"mean_gap_days", 35},           // (40 + 30) / 2
		{"gap_std_days", math.Sqrt(50)}, // sample std of 40, 30
		{"recency_over_gap", 21.0 / 35},
		{"orders_30d", 1},                      // Mar 11
		{"orders_90d", 2},                      // Feb 10, Mar 11 (Jan 1 is 91 days back)
		{"log_spend_90d", math.Log1p(10 + 40)}, // Feb 10 and Mar 11
		{"order_trend_90d", (2.0 - 1) / (1 + 1)},
		{"distinct_items", 3},
		{"distinct_categories", 2},
		{"return_share", 40.0 / 80},                    // Z1 returned on Mar 12; bought 20+10+10+40 = 80
		{"log_monetary", math.Log1p(80 - 40)},          // net of returns
		{"log_mean_order_value", math.Log1p(80.0 / 3)}, // per transaction
		{"orders_same_window_last_year", 0},
		{"log_orders_180d", math.Log1p(3)},       // Jan 1 (91 days back), Feb 10, Mar 11
		{"log_spend_180d", math.Log1p(80)},       // gross of the Mar 12 return
		{"log_units", math.Log1p(3 + 1 + 1 + 1)}, // a1: 1 X1 + 2 Y1; a2, a3, a4: 1 each
		{"log_mean_unit_price", math.Log1p(80.0 / 6)},
		{"order_value_log_std", sampleStd(math.Log1p(30), math.Log1p(10), math.Log1p(40))}, // per transaction day
	}
	for _, tc := range tests {
		if got := get(a, tc.name); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	// b has one transaction: its usual gap is the median over repeat buyers (a: 35).
	b := f.Row(1)
	if get(b, "mean_gap_days") != 35 || get(b, "gap_std_days") != 0 || get(b, "recency_over_gap") != 12.0/35 ||
		get(b, "order_value_log_std") != 0 || get(b, "log_mean_unit_price") != math.Log1p(5) {
		t.Errorf("b: %v", b)
	}
	y := ChurnLabels(ds, f.Customers, cut, 90)
	if y[0] != 0 || y[1] != 1 { // a orders on Apr 5, b never again
		t.Errorf("labels %v", y)
	}
	f.AddColumn("score", []float64{0.25, 0.75})
	if col := f.Column("score"); col[1] != 0.75 || len(f.Row(0)) != len(ChurnFeatureNames)+1 {
		t.Errorf("AddColumn: %v", col)
	}
}

// sampleStd is the sample standard deviation of x, written out.
func sampleStd(x ...float64) float64 {
	m, s := 0.0, 0.0
	for _, v := range x {
		m += v / float64(len(x))
	}
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}

// TestChurnNoLeakage: changing, adding or removing orders and returns on or
// after the cutoff changes no feature.
func TestChurnNoLeakage(t *testing.T) {
	cut := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	base := ComputeChurnFeatures(readChurn(t, churnOrders), cut, 90)
	variants := []string{
		churnOrders + "a9,a,Q1,5,99,2024-04-01 00:00,q,c9\n",
		churnOrders + "Ca9,a,X1,-3,10,2024-05-01 00:00,x,c1\nc1,c,X1,1,1,2024-06-01,x,c1\n",
		strings.Replace(churnOrders, "a5,a,X1,1,10,2024-04-05 09:00,x,c1\n", "", 1),
	}
	for k, in := range variants {
		f := ComputeChurnFeatures(readChurn(t, in), cut, 90)
		if len(f.Customers) != len(base.Customers) {
			t.Fatalf("variant %d: %d customers, want %d", k, len(f.Customers), len(base.Customers))
		}
		for i := range base.X {
			if f.X[i] != base.X[i] {
				t.Fatalf("variant %d: feature %s of row %d changed: %v -> %v", k, base.Names[i%len(base.Names)], i/len(base.Names), base.X[i], f.X[i])
			}
		}
	}
}

func TestChurnSameWindowLastYear(t *testing.T) {
	in := `order_id,customer_id,item_id,quantity,unit_price,ordered_at
o1,a,X1,1,1,2023-04-10
o2,a,X1,1,1,2023-05-01
o3,a,X1,1,1,2023-08-01
o4,a,X1,1,1,2024-03-01
`
	f := ComputeChurnFeatures(readChurn(t, in), time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), 90)
	// The window Apr 1 - Jun 30 2024, a year back (365 days): Apr 2 2023 - Jul 1 2023.
	if got := f.Column("orders_same_window_last_year")[0]; got != 2 {
		t.Fatalf("same window last year: %v, want 2", got)
	}
}
