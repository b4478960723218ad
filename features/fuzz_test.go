package features

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// FuzzReader feeds arbitrary bytes to Read: it must never panic or hang,
// and whatever it accepts must satisfy the Dataset invariants (every line
// counted once, sorted rows, chronological orders).
func FuzzReader(f *testing.F) {
	seeds := []string{
		header + "1,c1,A,2,1.5,2011-01-02 10:00:00,Mug,Kitchen,UK\n",
		header + "1,,A,1,2,2011-01-02,,,\nC2,c1,A,-1,2,2011-01-03,,,\n1,c1,A,1,2,2011-01-02,,,\n",
		header + "1,17850.0,POST,1,0,20110102,\"a,b\",,\n\"1\",c,\"B\"\"x\",3,4,2011-01-02T00:00:00Z,,,\n",
		`{"order_id":"1","customer_id":"c","item_id":"A","quantity":1,"unit_price":2,"ordered_at":"2011-01-02"}` + "\n",
		"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n536365,85123A,X,6,2010-12-01 08:26:00,2.55,17850.0,UK\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := Read(context.Background(), bytes.NewReader(data), Options{MaxErrorRate: -1})
		if err != nil {
			var re *RejectsError
			if errors.As(err, &re) {
				t.Fatalf("no error-rate limit was set, got %v", err)
			}
			return
		}
		checkInvariants(t, ds)
	})
}
