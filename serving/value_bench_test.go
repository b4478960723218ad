package serving

import (
	"context"
	"testing"
	"time"

	"github.com/patron-crm/patron/models/value"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// BenchmarkCustomerValue reads one customer's value through the gRPC
// service method, in process, on a bundle trained from Online Retail: at
// the default horizon (stored predictions: one Badger read and a decode)
// and at other horizons (predictions recomputed from the stored
// sufficient statistics). The customer is the one with the highest CLV, a
// frequent repeat buyer. The target is a p99 under 200 µs.
//
//	go test ./serving -run '^$' -bench CustomerValue -benchtime 2s
func BenchmarkCustomerValue(b *testing.B) {
	s := retailServer(b)
	l := s.cur.acquire()
	if l.values == nil {
		s.release(l)
		b.Fatalf("the Online Retail bundle has no customer-value model: %s", l.valuesMissing)
	}
	top, err := l.values.List(value.ListRequest{OrderBy: value.OrderByCLV, PageSize: 1})
	s.release(l)
	if err != nil || len(top.Customers) != 1 {
		b.Fatalf("list the top customer: %v, %v", top, err)
	}
	id := top.Customers[0].CustomerID
	b.Logf("customer %s: %d orders, CLV %.2f at %d days, %d customers in the bundle",
		id, top.Customers[0].Orders, top.Customers[0].CLV, top.Customers[0].HorizonDays, top.TotalSize)
	svc := &customerService{s: s}
	ctx := context.Background()
	h := func(n int32) *int32 { return &n }
	for _, c := range []struct {
		name    string
		horizon *int32
		want    int32
	}{
		{"default_horizon", nil, 365},
		{"horizon_30", h(30), 30},
		{"horizon_730", h(730), 730},
		{"horizon_1825", h(value.MaxHorizonDays), value.MaxHorizonDays},
	} {
		req := &patronv1.GetCustomerValueRequest{CustomerId: id, HorizonDays: c.horizon}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			d := newLatencies()
			for b.Loop() {
				t0 := time.Now()
				v, err := svc.GetCustomerValue(ctx, req)
				d = append(d, time.Since(t0))
				if err != nil || v.HorizonDays != c.want || v.Clv <= 0 {
					b.Fatalf("GetCustomerValue(%s, %v) = %v, %v", id, c.horizon, v, err)
				}
			}
			d.report(b)
		})
	}
}
