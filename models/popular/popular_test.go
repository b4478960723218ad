package popular

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/patron-crm/patron/features"
)

type mem map[string][]byte

func (m mem) Put(table string, key, val []byte) error {
	m[table+"/"+string(key)] = append([]byte(nil), val...)
	return nil
}

func (m mem) Get(table string, key []byte, fn func([]byte) error) error {
	return fn(m[table+"/"+string(key)])
}

func TestFitDecayAndRoundTrip(t *testing.T) {
	// X1 sold in 3 old orders, Y1 in 2 recent ones (a guest order included).
	in := `order_id,customer_id,item_id,quantity,unit_price,ordered_at
o1,a,X1,1,1,2024-01-01
o2,b,X1,1,1,2024-01-02
o3,c,X1,1,1,2024-01-03
o4,,Y1,1,1,2024-03-30
o5,a,Y1,1,1,2024-03-31
`
	ds, err := features.Read(context.Background(), strings.NewReader(in), features.Options{})
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	all := Fit(ds, asOf, 0)
	if ds.Items.Name(all.Items[0]) != "X1" || all.Scores[0] != 3 || all.Scores[1] != 2 {
		t.Fatalf("all-time: %v %v", all.Items, all.Scores)
	}
	trend := Fit(ds, asOf, 30*24*time.Hour)
	if ds.Items.Name(trend.Items[0]) != "Y1" {
		t.Fatalf("trending: %v %v", trend.Items, trend.Scores)
	}
	if want := math.Exp2(-2.0/30) + math.Exp2(-1.0/30); math.Abs(trend.Scores[0]-want) > 1e-9 {
		t.Fatalf("trending score %v, want %v", trend.Scores[0], want)
	}
	m := mem{}
	if err := trend.Write(m, "trending"); err != nil {
		t.Fatal(err)
	}
	got, err := Load(m, "trending", ds.Items.Len())
	if err != nil || len(got.Items) != 2 || got.Scores[0] != trend.Scores[0] {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := Load(m, "trending", 1); err == nil {
		t.Fatal("item ids beyond the catalog accepted")
	}
}
