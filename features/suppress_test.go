package features

import (
	"bytes"
	"strings"
	"testing"
)

// TestSuppressedCustomers: the lines of suppressed customers are dropped and
// counted under their own reason, the summary and the rejects file keep
// their line numbers only, and the Dataset knows nothing of them.
func TestSuppressedCustomers(t *testing.T) {
	in := `order_id,customer_id,item_id,quantity,unit_price,ordered_at
o1,c1,i1,1,2.00,2024-01-01
o2,17850,i1,1,2.00,2024-01-02
o2,17850,i2,3,1.00,2024-01-02
o3,c2,i2,1,1.00,2024-01-03
o4,17850.0,i2,1,1.00,2024-01-04
o5,,i1,1,2.00,2024-01-05
`
	// The same lines as JSON (line numbers shift by one: no header).
	inJSONL := `{"order_id":"o0","customer_id":"c0","item_id":"i9","quantity":1,"unit_price":1,"ordered_at":"2024-01-01"}
{"order_id":"o1","customer_id":"c1","item_id":"i1","quantity":1,"unit_price":2,"ordered_at":"2024-01-01"}
{"order_id":"o2","customer_id":"17850","item_id":"i1","quantity":1,"unit_price":2,"ordered_at":"2024-01-02"}
{"order_id":"o2","customer_id":"17850","item_id":"i2","quantity":3,"unit_price":1,"ordered_at":"2024-01-02"}
{"order_id":"o3","customer_id":"c2","item_id":"i2","quantity":1,"unit_price":1,"ordered_at":"2024-01-03"}
{"order_id":"o4","customer_id":"17850.0","item_id":"i2","quantity":1,"unit_price":1,"ordered_at":"2024-01-04"}
{"order_id":"o5","customer_id":"","item_id":"i1","quantity":1,"unit_price":2,"ordered_at":"2024-01-05"}
`
	for _, format := range []string{"csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			src := in
			if format == "jsonl" {
				src = inJSONL
			}
			asked := 0
			var rej bytes.Buffer
			ds := read(t, src, Options{Rejects: &rej, Suppressed: func(id []byte) bool {
				asked++
				return string(id) == "17850"
			}})
			s := ds.Summary
			r := s.Reason(ReasonSuppressed)
			others := map[string]int{"csv": 3, "jsonl": 4}[format] // o0 is JSON only
			if r.Count != 3 || r.Kind != "dropped" || s.Dropped != 3 || int(s.Kept) != others {
				t.Fatalf("suppressed %d (%s), dropped %d, kept %d; want 3, dropped, 3, %d", r.Count, r.Kind, s.Dropped, s.Kept, others)
			}
			if len(r.Examples) != 3 || r.Examples[0].Line != 3 || r.Examples[2].Line != 6 {
				t.Errorf("examples %+v, want lines 3, 4, 6", r.Examples)
			}
			for _, e := range r.Examples {
				if e.Text != "" {
					t.Errorf("example keeps text %q", e.Text)
				}
			}
			var txt strings.Builder
			if err := s.WriteText(&txt); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(txt.String(), "17850") || strings.Contains(rej.String(), "17850") {
				t.Errorf("the id reached the summary or the rejects file:\n%s\n%s", txt.String(), rej.String())
			}
			if !strings.Contains(rej.String(), "3,dropped,suppressed_customer,,,") {
				t.Errorf("rejects file lacks the line number:\n%s", rej.String())
			}
			if ds.Customers.Len() != others-1 {
				t.Errorf("%d customers, want %d", ds.Customers.Len(), others-1)
			}
			for c := 0; c < ds.Customers.Len(); c++ {
				if strings.HasPrefix(ds.Customers.Name(int32(c)), "17850") {
					t.Errorf("dataset holds %s", ds.Customers.Name(int32(c)))
				}
			}
			// Adjacent lines of one customer ask once; guests never.
			if asked != others+1 {
				t.Errorf("asked %d times, want %d", asked, others+1)
			}
		})
	}
}
