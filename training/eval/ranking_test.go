package eval

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
)

func TestListMetricsByHand(t *testing.T) {
	// Truth {1, 2, 3}; the list hits at ranks 2 and 4 (1-based) within the first 10.
	inTruth := make([]bool, 30)
	for _, i := range []int32{1, 2, 3} {
		inTruth[i] = true
	}
	list := []int32{9, 1, 8, 3, 7, 6, 5, 4, 20, 21, 2}
	got := listMetrics(list, inTruth, 3)
	dcg := 1/math.Log2(3) + 1/math.Log2(5)
	idcg := 1 + 1/math.Log2(3) + 1/math.Log2(4)
	want10 := []float64{1, 2.0 / 10, 2.0 / 3, dcg / idcg}
	dcg20 := dcg + 1/math.Log2(12) // the 11th item is a hit too
	want20 := []float64{1, 3.0 / 20, 1, dcg20 / idcg}
	for j, w := range append(want10, want20...) {
		if math.Abs(got[j]-w) > 1e-12 {
			t.Fatalf("metric %d: got %v, want %v (all: %v)", j, got[j], w, got)
		}
	}
	if m := listMetrics([]int32{5, 6}, inTruth, 3); m[0] != 0 || m[3] != 0 {
		t.Fatalf("no hits: %v", m)
	}
}

func TestRankSplitTruth(t *testing.T) {
	in := `order_id,customer_id,item_id,quantity,unit_price,ordered_at
o1,a,X1,1,1,2024-01-01
o2,a,Y1,1,1,2024-02-10
o3,a,X1,1,1,2024-02-11
o4,b,X1,1,1,2024-01-05
o5,c,Z1,1,1,2024-02-20
o6,b,Y1,1,1,2024-03-20
`
	ds, err := features.Read(context.Background(), strings.NewReader(in), features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewRankSplit(ds, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	// a: before {X1}, after {Y1, X1}; b: nothing in the window; c: nothing before.
	if len(s.Customers) != 1 || ds.Customers.Name(s.Customers[0]) != "a" {
		t.Fatalf("test customers %v", s.Customers)
	}
	name := func(ids []int32) (out []string) {
		for _, i := range ids {
			out = append(out, ds.Items.Name(i))
		}
		return out
	}
	if got := name(s.TruthAll[0]); len(got) != 2 {
		t.Fatalf("truth all %v", got)
	}
	if got := name(s.TruthNew[0]); len(got) != 1 || got[0] != "Y1" {
		t.Fatalf("truth new %v", got)
	}
	// A recommender that returns Y1 first scores 1 on task new.
	y, _ := ds.Items.Index("Y1")
	rep := s.Evaluate("perfect", TaskNew, func(c int32, k int, ex bool, dst []int32) []int32 { return append(dst, y) })
	if rep.Customers != 1 || rep.NDCG(10) != 1 || rep.At[0].HitRate != 1 {
		t.Fatalf("report %+v", rep)
	}
}
