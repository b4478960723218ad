package features

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestBeforeMatchesReadingBefore: cutting a Dataset in memory gives the same
// orders, timelines and customer x item matrix as reading only the lines
// before the date.
func TestBeforeMatchesReadingBefore(t *testing.T) {
	in := `order_id,customer_id,item_id,quantity,unit_price,ordered_at
o1,a,X1,1,2,2021-01-01
o1,a,Y1,1,3,2021-01-01
o2,b,X1,2,2,2021-01-03
o3,a,X1,1,2,2021-01-05
Co3,a,X1,-1,2,2021-01-06
o4,c,Z1,1,9,2021-01-07
o5,,Y1,1,3,2021-01-08
`
	full, err := Read(context.Background(), strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, day := range []int{1, 2, 4, 6, 7, 9} {
		cut := time.Date(2021, 1, day, 0, 0, 0, 0, time.UTC)
		got := full.Before(cut)
		want, err := Read(context.Background(), strings.NewReader(in), Options{Before: cut})
		if err != nil && day > 1 {
			t.Fatal(err)
		}
		if day == 1 {
			if len(got.Orders) != 0 || got.CustomerItems.NNZ() != 0 {
				t.Fatalf("before the first order: %d orders", len(got.Orders))
			}
			continue
		}
		if len(got.Orders) != len(want.Orders) || len(got.Returns) != len(want.Returns) {
			t.Fatalf("cut %d: %d orders %d returns, want %d %d", day, len(got.Orders), len(got.Returns), len(want.Orders), len(want.Returns))
		}
		// Compare per customer by name: the item sets with their order counts.
		for c := 0; c < want.Customers.Len(); c++ {
			name := want.Customers.Name(int32(c))
			gc, _ := got.Customers.Index(name)
			wi, wv := want.CustomerItems.Row(c)
			gi, gv := got.CustomerItems.Row(int(gc))
			if len(wi) != len(gi) {
				t.Fatalf("cut %d customer %s: %d items, want %d", day, name, len(gi), len(wi))
			}
			for k := range wi {
				if want.Items.Name(wi[k]) != got.Items.Name(gi[k]) || wv[k] != gv[k] {
					t.Fatalf("cut %d customer %s: items differ", day, name)
				}
			}
			if len(got.CustomerOrders.Of(int(gc))) != len(want.CustomerOrders.Of(c)) {
				t.Fatalf("cut %d customer %s: timeline differs", day, name)
			}
		}
	}
}
