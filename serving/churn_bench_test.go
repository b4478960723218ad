package serving

import (
	"context"
	"testing"
	"time"

	"github.com/patron-crm/patron/models/value"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// BenchmarkCustomerChurn reads churn scores through the gRPC service
// methods, in process, on a bundle trained from Online Retail: one customer
// (target p99 under 200 µs) and a batch of 1,000 (target p99 under 20 ms).
//
//	go test ./serving -run '^$' -bench CustomerChurn -benchtime 2s
func BenchmarkCustomerChurn(b *testing.B) {
	s := retailServer(b)
	l := s.cur.acquire()
	if l.churn == nil || l.values == nil {
		s.release(l)
		b.Fatalf("the Online Retail bundle has no churn or value model: %s %s", l.churnMissing, l.valuesMissing)
	}
	pg, err := l.values.List(value.ListRequest{OrderBy: value.OrderByValueAtRisk, PageSize: value.MaxPageSize})
	s.release(l)
	if err != nil || len(pg.Customers) != value.MaxPageSize {
		b.Fatalf("list customers: %v", err)
	}
	ids := make([]string, len(pg.Customers))
	for i, c := range pg.Customers {
		ids[i] = c.CustomerID
	}
	svc := &customerService{s: s}
	ctx := context.Background()
	b.Run("one", func(b *testing.B) {
		b.ReportAllocs()
		d := newLatencies()
		req := &patronv1.GetCustomerChurnRequest{CustomerId: ids[0]}
		for b.Loop() {
			t0 := time.Now()
			sc, err := svc.GetCustomerChurn(ctx, req)
			d = append(d, time.Since(t0))
			if err != nil || sc.Probability <= 0 {
				b.Fatalf("GetCustomerChurn: %v, %v", sc, err)
			}
		}
		d.report(b)
	})
	b.Run("batch_1000", func(b *testing.B) {
		b.ReportAllocs()
		d := newLatencies()
		req := &patronv1.BatchGetCustomerChurnRequest{CustomerIds: ids}
		for b.Loop() {
			t0 := time.Now()
			r, err := svc.BatchGetCustomerChurn(ctx, req)
			d = append(d, time.Since(t0))
			if err != nil || len(r.Scores) != len(ids) {
				b.Fatalf("BatchGetCustomerChurn: %d scores, %v", len(r.GetScores()), err)
			}
		}
		d.report(b)
	})
}
