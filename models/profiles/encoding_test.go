package profiles

import (
	"errors"
	"testing"
	"time"
)

// FuzzDecode: a damaged record is an error, never a panic or a huge allocation.
func FuzzDecode(f *testing.F) {
	it := Item{ID: "A", Name: "Apple", Category: "fruit", Orders: 3, Customers: 2, Quantity: 6, Revenue: 9,
		FirstSold: time.Unix(1600000000, 0), LastSold: time.Unix(1600100000, 0)}
	f.Add(encodeItem(nil, &it))
	f.Add([]byte{recordFormat, 2, 'U', 'K', 1, 1, 2, 'o', '1', 10})
	f.Add([]byte{recordFormat, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := decodeCustomer("x", b); err != nil && !errors.Is(err, errCorrupt) {
			t.Fatalf("customer: unexpected error %v", err)
		}
		if _, err := decodeItem("x", b); err != nil && !errors.Is(err, errCorrupt) {
			t.Fatalf("item: unexpected error %v", err)
		}
	})
}

func TestItemRoundTripAndTruncation(t *testing.T) {
	it := Item{ID: "A", Name: "Apple", Category: "fruit", Orders: 3, Customers: 2, Quantity: 6, Revenue: 9,
		ReturnedQuantity: 1, FirstSold: time.Unix(1600000000, 0).UTC(), LastSold: time.Unix(1600100000, 0).UTC()}
	rec := encodeItem(nil, &it)
	got, err := decodeItem("A", rec)
	if err != nil || got != it {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for n := 0; n < len(rec); n++ {
		if _, err := decodeItem("A", rec[:n]); !errors.Is(err, errCorrupt) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
}
