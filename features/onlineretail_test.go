package features

import (
	"context"
	"testing"
	"time"
)

// onlineRetail is the UCI Online Retail export shipped with the repository.
const onlineRetail = "../data/online_retail.csv.gz"

// TestOnlineRetailKnownCounts checks the reader against the counts published
// for the file (../data/README.md): every line read, guest lines,
// cancellations, distinct ids and the date range.
func TestOnlineRetailKnownCounts(t *testing.T) {
	ds, err := ReadFile(context.Background(), onlineRetail, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, ds)
	s := ds.Summary
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"lines", s.Lines, 541909},
		{"rejected", s.Rejected, 0},
		{"without customer id", s.WithoutCustomer, 135080},
		{"cancellation lines", s.Cancellations, 9288},
		{"negative quantity lines", s.NegativeQuantity, 10624},
		{"customer ids", int64(s.CustomerIDs), 4372},
		{"item ids", int64(s.ItemIDs), 4070},
		{"order ids", int64(s.OrderIDs), 25900},
		{"countries", int64(s.Countries), 38},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if !s.Gzip || s.SHA256 == "" {
		t.Errorf("gzip %v sha %q", s.Gzip, s.SHA256)
	}
	if got := s.First.Format(time.DateTime); got != "2010-12-01 08:26:00" {
		t.Errorf("first line at %s", got)
	}
	if got := s.Last.Format(time.DateTime); got != "2011-12-09 12:50:00" {
		t.Errorf("last line at %s", got)
	}
	// Every line with a customer id is either in the dataset's customers or
	// only on dropped lines; no customer model sees guests.
	if ds.Customers.Len() > s.CustomerIDs || ds.Customers.Len() < 4300 {
		t.Errorf("dataset customers %d", ds.Customers.Len())
	}
}
