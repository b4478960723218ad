package recommend

import (
	"errors"
	"testing"
)

// FuzzDecodeHistory: a damaged customer record is an error, never a panic
// or an item id outside the catalog.
func FuzzDecodeHistory(f *testing.F) {
	h := History{
		Items: []HistItem{{Item: 3, Orders: 2, Last: 1600000000, Weight: 0.5, Rebuy: 1.5, IntervalDays: 12}, {Item: 1, Orders: 1, Last: 1500000000, Weight: 0.1}},
		CF:    []Cand{{Item: 2, Score: 1, From: 3}, {Item: 0, Score: 0.4, From: -1}},
	}
	f.Add(appendHistory(nil, &h))
	f.Add([]byte{historyFormat, 0, 0})
	f.Add([]byte{historyFormat, 1, 9, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got History
		err := decodeHistory(b, 5, &got)
		if err != nil {
			if !errors.Is(err, errCorruptHistory) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, it := range got.Items {
			if it.Item < 0 || it.Item >= 5 {
				t.Fatalf("item %d outside the catalog", it.Item)
			}
		}
		for _, c := range got.CF {
			if c.Item < 0 || c.Item >= 5 || c.From < -1 || c.From >= 5 {
				t.Fatalf("candidate %+v outside the catalog", c)
			}
		}
	})
}

func TestHistoryRoundTrip(t *testing.T) {
	h := History{
		Items: []HistItem{{Item: 3, Orders: 2, Last: 1600000000, Weight: 0.5, Rebuy: 1.5, IntervalDays: 12}},
		CF:    []Cand{{Item: 2, Score: 1, From: 3}, {Item: 0, Score: 0.4, From: -1}},
	}
	b := appendHistory(nil, &h)
	var got History
	if err := decodeHistory(b, 5, &got); err != nil || len(got.Items) != 1 || got.Items[0] != h.Items[0] || len(got.CF) != 2 || got.CF[1] != h.CF[1] {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for n := 0; n < len(b); n++ {
		if err := decodeHistory(b[:n], 5, &got); err == nil {
			t.Fatalf("truncated to %d bytes accepted", n)
		}
	}
}
