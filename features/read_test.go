package features

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const header = "order_id,customer_id,item_id,quantity,unit_price,ordered_at,item_name,category,country\n"

func read(t *testing.T, input string, opts Options) *Dataset {
	t.Helper()
	ds, err := Read(context.Background(), strings.NewReader(input), opts)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	checkInvariants(t, ds)
	return ds
}

// checkInvariants verifies what every Dataset must satisfy, whatever the input.
func checkInvariants(t testing.TB, ds *Dataset) {
	t.Helper()
	s := &ds.Summary
	if s.Lines != s.Rejected+s.Dropped+s.Kept {
		t.Fatalf("lines %d != rejected %d + dropped %d + kept %d", s.Lines, s.Rejected, s.Dropped, s.Kept)
	}
	if s.Kept != s.PurchaseLines+s.GuestPurchaseLines+s.ReturnLines+s.GuestReturnLines {
		t.Fatalf("kept %d != sum of kinds", s.Kept)
	}
	var byReason int64
	for _, r := range s.Reasons {
		byReason += r.Count
	}
	if byReason != s.Rejected+s.Dropped {
		t.Fatalf("reasons sum %d != rejected+dropped %d", byReason, s.Rejected+s.Dropped)
	}
	if ds.OrderItems.Rows != len(ds.Orders) || len(ds.OrderItems.Ptr) != len(ds.Orders)+1 {
		t.Fatalf("order matrix shape")
	}
	for o := range ds.Orders {
		items, qty := ds.OrderItems.Row(o)
		if len(items) == 0 {
			t.Fatalf("order %d has no items", o)
		}
		for i := range items {
			if i > 0 && items[i] <= items[i-1] {
				t.Fatalf("order %d items not strictly increasing", o)
			}
			if qty[i] <= 0 {
				t.Fatalf("order %d item quantity %v", o, qty[i])
			}
		}
		if o > 0 && ds.Orders[o].Time < ds.Orders[o-1].Time {
			t.Fatalf("orders not chronological at %d", o)
		}
	}
	for c := 0; c < ds.Customers.Len(); c++ {
		for _, o := range ds.CustomerOrders.Of(c) {
			if ds.Orders[o].Customer != int32(c) {
				t.Fatalf("timeline of customer %d holds order of %d", c, ds.Orders[o].Customer)
			}
		}
	}
	if len(ds.ItemName) != ds.Items.Len() || len(ds.CustomerCountry) != ds.Customers.Len() {
		t.Fatalf("catalog field lengths")
	}
}

func TestCleaningRules(t *testing.T) {
	tests := []struct {
		name   string
		lines  string
		opts   Options
		reason string // expected reason (or "" for kept)
		check  func(t *testing.T, ds *Dataset)
	}{
		{name: "purchase kept",
			lines: "1,c1,A,2,1.5,2011-01-02 10:00:00,Mug,Kitchen,UK\n",
			check: func(t *testing.T, ds *Dataset) {
				if ds.Summary.PurchaseLines != 1 || len(ds.Orders) != 1 || ds.Orders[0].Value != 3 {
					t.Fatalf("summary %+v orders %+v", ds.Summary, ds.Orders)
				}
				if ds.ItemName[0] != "Mug" || ds.ItemCategory[0] != "Kitchen" || ds.CustomerCountry[0] != "UK" {
					t.Fatalf("catalog %q %q %q", ds.ItemName, ds.ItemCategory, ds.CustomerCountry)
				}
			}},
		{name: "guest line kept for co-purchase, not a customer",
			lines: "1,,A,1,2,2011-01-02,,,\n1,,E,1,2,2011-01-02,,,\n",
			check: func(t *testing.T, ds *Dataset) {
				s := ds.Summary
				if s.WithoutCustomer != 2 || s.GuestPurchaseLines != 2 || ds.Customers.Len() != 0 || s.GuestOrders != 1 {
					t.Fatalf("summary %+v", s)
				}
				if items, _ := ds.OrderItems.Row(0); len(items) != 2 || !ds.Orders[0].IsGuest() {
					t.Fatalf("guest order items %v", items)
				}
			}},
		{name: "cancellation is a return, never a purchase",
			lines: "1,c1,A,2,1.5,2011-01-02,,,\nC2,c1,A,-1,1.5,2011-01-05,,,\n",
			check: func(t *testing.T, ds *Dataset) {
				s := ds.Summary
				if s.ReturnLines != 1 || s.PurchaseLines != 1 || s.Cancellations != 1 || len(ds.Orders) != 1 {
					t.Fatalf("summary %+v", s)
				}
				r := ds.Returns[0]
				if r.OrderID != "C2" || r.Quantity != 1 || r.Value != 1.5 || r.Customer != 0 {
					t.Fatalf("return %+v", r)
				}
				if got := ds.CustomerReturns.Of(0); len(got) != 1 {
					t.Fatalf("customer returns %v", got)
				}
			}},
		{name: "negative quantity without C is a return",
			lines: "7,c1,A,-3,2,2011-01-05,,,\n",
			check: func(t *testing.T, ds *Dataset) {
				if ds.Summary.ReturnLines != 1 || len(ds.Orders) != 0 || ds.Returns[0].Quantity != 3 {
					t.Fatalf("summary %+v returns %+v", ds.Summary, ds.Returns)
				}
			}},
		{name: "order id starting with C and a letter is not a cancellation",
			lines: "CA-2016-1,c1,A,1,2,2011-01-05,,,\n",
			check: func(t *testing.T, ds *Dataset) {
				if ds.Summary.PurchaseLines != 1 || ds.Summary.Cancellations != 0 {
					t.Fatalf("summary %+v", ds.Summary)
				}
			}},
		{name: "zero price", lines: "1,c1,A,1,0,2011-01-02,,,\n", reason: ReasonNonPositivePrice},
		{name: "negative price", lines: "1,c1,A,1,-11062.06,2011-01-02,,,\n", reason: ReasonNonPositivePrice},
		{name: "zero quantity", lines: "1,c1,A,0,1,2011-01-02,,,\n", reason: ReasonZeroQuantity},
		{name: "postage is not a product", lines: "1,c1,POST,1,18,2011-01-02,,,\n", reason: ReasonNonProduct},
		{name: "non-product match ignores case", lines: "1,c1,Bank Charges,1,15,2011-01-02,,,\n", reason: ReasonNonProduct},
		{name: "gift voucher prefix", lines: "1,c1,gift_0001_20,1,17,2011-01-02,,,\n", reason: ReasonNonProduct},
		{name: "custom non-product code", lines: "1,c1,FEE9,1,5,2011-01-02,,,\n", reason: ReasonNonProduct,
			opts: Options{NonProduct: must(DefaultNonProduct().With([]string{"FEE*"}))}},
		{name: "exact duplicate", lines: "1,c1,A,1,2,2011-01-02 10:00:00,,,\n1,c1,A,1,2,2011-01-02 10:00:00,,,\n", reason: ReasonDuplicate,
			check: func(t *testing.T, ds *Dataset) {
				d := ds.Summary.Reason(ReasonDuplicate)
				if d.Examples[0].Line != 3 || d.Examples[0].Detail != "same as line 2" {
					t.Fatalf("duplicate example %+v", d.Examples[0])
				}
			}},
		{name: "same item twice with other quantity is not a duplicate",
			lines: "1,c1,A,1,2,2011-01-02,,,\n1,c1,A,2,2,2011-01-02,,,\n",
			check: func(t *testing.T, ds *Dataset) {
				items, qty := ds.OrderItems.Row(0)
				if len(items) != 1 || qty[0] != 3 || ds.OrderItemValue[0] != 6 {
					t.Fatalf("merged row %v %v %v", items, qty, ds.OrderItemValue)
				}
			}},
		{name: "float ids normalised", lines: "536365,17850.0,85123A,6,2.55,2010-12-01 08:26:00,,,\n",
			check: func(t *testing.T, ds *Dataset) {
				if ds.Customers.Name(0) != "17850" || ds.Summary.NormalisedIDs != 1 {
					t.Fatalf("customer %q normalised %d", ds.Customers.Name(0), ds.Summary.NormalisedIDs)
				}
			}},
		{name: "as-of drops later lines", lines: "1,c1,A,1,2,2011-01-02,,,\n2,c1,E,1,2,2011-03-02,,,\n",
			opts: Options{Before: time.Date(2011, 2, 1, 0, 0, 0, 0, time.UTC)}, reason: ReasonAfterAsOf,
			check: func(t *testing.T, ds *Dataset) {
				if len(ds.Orders) != 1 || ds.Summary.ItemIDs != 2 || ds.Items.Len() != 1 {
					t.Fatalf("orders %d item ids %d items %d", len(ds.Orders), ds.Summary.ItemIDs, ds.Items.Len())
				}
			}},
		{name: "wrong column count", lines: "1,c1,A,1,2,2011-01-02\n", reason: ReasonColumnCount},
		{name: "bad quantity", lines: "1,c1,A,one,2,2011-01-02,,,\n", reason: ReasonBadQuantity},
		{name: "NaN price", lines: "1,c1,A,1,NaN,2011-01-02,,,\n", reason: ReasonBadUnitPrice},
		{name: "bad date", lines: "1,c1,A,1,2,02/01/2011,,,\n", reason: ReasonBadOrderedAt},
		{name: "impossible date", lines: "1,c1,A,1,2,2011-02-30,,,\n", reason: ReasonBadOrderedAt},
		{name: "invalid utf-8", lines: "1,c1,A,1,2,2011-01-02,M\xffg,,\n", reason: ReasonInvalidUTF8},
		{name: "empty order id", lines: " ,c1,A,1,2,2011-01-02,,,\n", reason: ReasonEmptyOrderID},
		{name: "empty item id", lines: "1,c1,,1,2,2011-01-02,,,\n", reason: ReasonEmptyItemID},
		{name: "id with control character", lines: "1,c\x011,A,1,2,2011-01-02,,,\n", reason: ReasonBadID},
		{name: "id too long", lines: "1," + strings.Repeat("x", 300) + ",A,1,2,2011-01-02,,,\n", reason: ReasonBadID},
		{name: "bad quoting", lines: "1,c1,A,1,2,2011-01-02,\"Mug\"x,,\n", reason: ReasonBadQuoting},
		{name: "order of two customers", lines: "1,c1,A,1,2,2011-01-02,,,\n1,c2,E,1,2,2011-01-02,,,\n", reason: ReasonOrderConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.MaxErrorRate = -1
			ds := read(t, header+tc.lines, opts)
			if tc.reason != "" {
				r := ds.Summary.Reason(tc.reason)
				if r.Count != 1 {
					t.Fatalf("reason %s counted %d times; reasons %+v", tc.reason, r.Count, ds.Summary.Reasons)
				}
				if len(r.Examples) != 1 || r.Examples[0].Line < 2 || r.Examples[0].Text == "" {
					t.Fatalf("example %+v", r.Examples)
				}
			} else if ds.Summary.Rejected+ds.Summary.Dropped != 0 {
				t.Fatalf("unexpected rejects %+v", ds.Summary.Reasons)
			}
			if tc.check != nil {
				tc.check(t, ds)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name, input string
		opts        Options
		want        string // substring of the error
	}{
		{"empty file", "", Options{}, "empty"},
		{"only white space", "\n\n  \n", Options{}, "empty"},
		{"header only", header, Options{}, "no order lines"},
		{"missing columns named", "order_id,item_id,qty\n1,A,1\n", Options{}, "missing required columns: customer_id, unit_price, ordered_at"},
		{"semicolon file hint", "order_id;customer_id;item_id\n", Options{}, "--delimiter"},
		{"two fields for one column", "order_id,invoice,customer_id,item_id,quantity,unit_price,ordered_at\n", Options{}, "both map to column order_id"},
		{"mapping to absent field", header, Options{Columns: map[string]string{"order_id": "Bestellung"}}, "no such field"},
		{"jsonl first line not an object", "{\"a\":\n", Options{Format: FormatJSONL}, "not a JSON object"},
		{"bad gzip", "\x1f\x8b\x08\x00garbage", Options{}, "gzip"},
		{"error rate exceeded", header + "1,c1,A,x,2,2011-01-02,,,\n2,c1,A,1,2,2011-01-02,,,\n", Options{}, "1 of 2 lines (50.00%) were rejected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(context.Background(), strings.NewReader(tc.input), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestErrorRateReturnsSummary(t *testing.T) {
	in := header + "1,c1,A,x,2,2011-01-02,,,\n2,c1,A,1,2,2011-01-02,,,\n"
	_, err := Read(context.Background(), strings.NewReader(in), Options{MaxErrorRate: 0.1})
	var re *RejectsError
	if !errors.As(err, &re) || !errors.Is(err, ErrTooManyRejects) {
		t.Fatalf("error %v is not a RejectsError", err)
	}
	if re.Summary.Rejected != 1 || re.Summary.Lines != 2 || re.Summary.Reason(ReasonBadQuantity).Count != 1 {
		t.Fatalf("summary %+v", re.Summary)
	}
	// Raising the limit lets the same file through.
	if _, err := Read(context.Background(), strings.NewReader(in), Options{MaxErrorRate: 0.6}); err != nil {
		t.Fatal(err)
	}
}

// TestDuplicatesInBigOrders covers orders long enough to get their own hash
// set, and an order whose lines are not contiguous in the file.
func TestDuplicatesInBigOrders(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(header)
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&sb, "big,c1,I%d,1,2,2011-01-02,,,\n", i)
		if i%50 == 7 {
			fmt.Fprintf(&sb, "other,c2,I%d,1,2,2011-01-02,,,\n", i)
		}
	}
	for _, i := range []int{0, 47, 48, 49, 150, 199} { // duplicates, before and after the switch
		fmt.Fprintf(&sb, "big,c1,I%d,1,2,2011-01-02,,,\n", i)
	}
	sb.WriteString("other,c2,I7,1,2,2011-01-02,,,\n") // duplicate, far from its twin
	sb.WriteString("big,c1,I5,2,2,2011-01-02,,,\n")   // not a duplicate: other quantity
	ds := read(t, sb.String(), Options{})
	if d := ds.Summary.Reason(ReasonDuplicate).Count; d != 7 {
		t.Fatalf("duplicates %d, want 7", d)
	}
	if ds.Summary.Kept != 200+4+1 {
		t.Fatalf("kept %d", ds.Summary.Kept)
	}
}

func TestRejectsFile(t *testing.T) {
	in := header +
		"1,c1,A,1,2,2011-01-02,\"Mug, blue\",,\n" +
		"1,c1,A,1,2,2011-01-02,\"Mug, blue\",,\n" + // duplicate
		"2,c1,POST,1,2,2011-01-02,,,\n" + // non-product
		"3,c1,A,x,2,2011-01-02,,,\n" // bad quantity
	var rej bytes.Buffer
	ds := read(t, in, Options{Rejects: &rej, MaxErrorRate: -1})
	recs, err := csv.NewReader(&rej).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], ",") != "line,kind,reason,field,detail,text" {
		t.Fatalf("rejects file %q", recs)
	}
	want := [][2]string{{"3", ReasonDuplicate}, {"4", ReasonNonProduct}, {"5", ReasonBadQuantity}}
	for i, w := range want {
		if recs[i+1][0] != w[0] || recs[i+1][2] != w[1] {
			t.Fatalf("rejects row %d = %q, want line %s reason %s", i+1, recs[i+1], w[0], w[1])
		}
	}
	if recs[1][5] != `1,c1,A,1,2,2011-01-02,"Mug, blue",,` {
		t.Fatalf("rejected text %q", recs[1][5])
	}
	if ds.Summary.Kept != 1 {
		t.Fatalf("kept %d", ds.Summary.Kept)
	}
}

func TestHeaderAliasesOnlineRetail(t *testing.T) {
	in := "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
		"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n"
	ds := read(t, in, Options{})
	if ds.Items.Name(0) != "85123A" || ds.Customers.Name(0) != "17850" || ds.ItemName[0] != "WHITE HANGING HEART T-LIGHT HOLDER" {
		t.Fatalf("dataset %+v", ds)
	}
	if got := ds.Summary.Columns["order_id"]; got != "InvoiceNo" {
		t.Fatalf("order_id read from %q", got)
	}
}

func TestColumnMapFlag(t *testing.T) {
	m, err := ParseColumnMap("order_id=Bestellung, customer_id=Kunde,item_id=Artikel,quantity=Menge,unit_price=Preis,ordered_at=Datum")
	if err != nil {
		t.Fatal(err)
	}
	in := "Bestellung;Kunde;Artikel;Menge;Preis;Datum;Extra\n1;k1;A;2;3.5;20110102;x\n"
	ds := read(t, in, Options{Columns: m, Delimiter: ';'})
	if ds.Summary.PurchaseLines != 1 || ds.Orders[0].Value != 7 || len(ds.Summary.IgnoredColumns) != 1 {
		t.Fatalf("summary %+v", ds.Summary)
	}
	for _, bad := range []string{"order_id", "nope=X", "order_id="} {
		if _, err := ParseColumnMap(bad); err == nil {
			t.Errorf("ParseColumnMap(%q) accepted", bad)
		}
	}
}

func TestTimeZoneOption(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone data")
	}
	in := header + "1,c1,A,1,2,2011-01-02 10:00:00,,,\n2,c1,A,1,2,2011-01-02T10:00:00Z,,,\n"
	ds := read(t, in, Options{Location: ny})
	if got := ds.Orders[1].At(); !got.Equal(time.Date(2011, 1, 2, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("naive time in New York read as %v", got)
	}
	if got := ds.Orders[0].At(); !got.Equal(time.Date(2011, 1, 2, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("RFC 3339 time read as %v", got)
	}
}

func TestGzipAndFiles(t *testing.T) {
	dir := t.TempDir()
	body := header + "1,c1,A,1,2,2011-01-02,,,\n2,c2,E,1,3,2011-01-03,,,\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(body))
	zw.Close()
	plain := filepath.Join(dir, "orders.csv")
	zipped := filepath.Join(dir, "orders.gz") // detection is by content, not name
	os.WriteFile(plain, []byte(body), 0o644)
	os.WriteFile(zipped, gz.Bytes(), 0o644)
	a, err := ReadFile(context.Background(), plain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(context.Background(), zipped, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Summary.Gzip || a.Summary.Gzip || a.Summary.Kept != 2 || b.Summary.Kept != 2 {
		t.Fatalf("plain: gzip %v kept %d; gzip: gzip %v kept %d", a.Summary.Gzip, a.Summary.Kept, b.Summary.Gzip, b.Summary.Kept)
	}
	if a.Summary.SHA256 == b.Summary.SHA256 || len(a.Summary.SHA256) != 64 || a.Summary.Bytes != int64(len(body)) {
		t.Fatalf("checksums %s %s bytes %d", a.Summary.SHA256, b.Summary.SHA256, a.Summary.Bytes)
	}
	if _, err := ReadFile(context.Background(), filepath.Join(dir, "missing.csv"), Options{}); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Fatalf("missing file error %v", err)
	}
}

func TestJSONLines(t *testing.T) {
	in := `{"InvoiceNo":"536365","StockCode":"85123A","Quantity":6,"InvoiceDate":"2010-12-01 08:26:00","UnitPrice":2.55,"CustomerID":17850.0,"Country":"United Kingdom"}
{"InvoiceNo":"536366","StockCode":"22633","Quantity":6,"InvoiceDate":"2010-12-01T08:28:00Z","UnitPrice":1.85,"CustomerID":null}

not json
{"InvoiceNo":"536367","StockCode":{"x":1},"Quantity":1,"InvoiceDate":"2010-12-01","UnitPrice":1,"CustomerID":"1"}
{"InvoiceNo":"536368","Quantity":1,"InvoiceDate":"2010-12-01","UnitPrice":1,"CustomerID":"1"}
`
	ds := read(t, in, Options{MaxErrorRate: -1})
	s := ds.Summary
	if s.Format != "jsonl" || s.Lines != 5 || s.BlankLines != 1 || s.PurchaseLines != 1 || s.GuestPurchaseLines != 1 {
		t.Fatalf("summary %+v", s)
	}
	if s.Reason(ReasonBadJSON).Count != 2 || s.Reason(ReasonMissingField).Count != 1 {
		t.Fatalf("reasons %+v", s.Reasons)
	}
	if ds.Customers.Name(0) != "17850" {
		t.Fatalf("customer %q", ds.Customers.Name(0))
	}
}

func TestDatasetStructure(t *testing.T) {
	in := header +
		"o2,bob,E,1,10,2011-01-05,,,\n" +
		"o1,ann,A,2,1,2011-01-01,,,\n" +
		"o1,ann,E,1,10,2011-01-01,,,\n" +
		"o3,ann,A,1,1,2011-02-01,,,\n" +
		"o4,,A,1,1,2011-02-02,,,\n" +
		"C9,bob,E,-1,10,2011-01-06,,,\n"
	ds := read(t, in, Options{})
	// Dense ids in order of first appearance.
	if got := strings.Join(ds.Customers.Names(), ","); got != "bob,ann" {
		t.Fatalf("customers %s", got)
	}
	if got := strings.Join(ds.Items.Names(), ","); got != "E,A" {
		t.Fatalf("items %s", got)
	}
	// Orders chronological.
	var ids []string
	for _, o := range ds.Orders {
		ids = append(ids, o.ID)
	}
	if strings.Join(ids, ",") != "o1,o2,o3,o4" {
		t.Fatalf("orders %v", ids)
	}
	if ds.Orders[0].Value != 12 || ds.Orders[3].Customer != -1 {
		t.Fatalf("orders %+v", ds.Orders)
	}
	// Ann (customer 1): timeline o1, o3; item A (1) in 2 orders, E (0) in 1.
	ann, _ := ds.Customers.Index("ann")
	if tl := ds.CustomerOrders.Of(int(ann)); len(tl) != 2 || ds.Orders[tl[0]].ID != "o1" || ds.Orders[tl[1]].ID != "o3" {
		t.Fatalf("ann timeline %v", tl)
	}
	items, counts := ds.CustomerItems.Row(int(ann))
	if len(items) != 2 || items[0] != 0 || counts[0] != 1 || items[1] != 1 || counts[1] != 2 {
		t.Fatalf("ann items %v %v", items, counts)
	}
	bob, _ := ds.Customers.Index("bob")
	if r := ds.CustomerReturns.Of(int(bob)); len(r) != 1 || ds.Returns[r[0]].Value != 10 {
		t.Fatalf("bob returns %v", r)
	}
	if s := ds.Summary; s.First.Format("2006-01-02") != "2011-01-01" || s.Last.Format("2006-01-02") != "2011-02-02" || s.ReturnOrders != 1 {
		t.Fatalf("summary %+v", s)
	}
}

func TestDeterministic(t *testing.T) {
	raw, err := os.ReadFile(onlineRetail)
	if err != nil {
		t.Skip(err)
	}
	a, err := Read(context.Background(), bytes.NewReader(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Read(context.Background(), bytes.NewReader(raw), Options{})
	if strings.Join(a.Items.Names(), ",") != strings.Join(b.Items.Names(), ",") || len(a.Orders) != len(b.Orders) {
		t.Fatal("two reads of one file differ")
	}
	for i := range a.Orders {
		if a.Orders[i] != b.Orders[i] {
			t.Fatalf("order %d differs", i)
		}
	}
}

func TestContextCancel(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(header)
	for i := 0; i < 200000; i++ {
		sb.WriteString("1,c1,A,1,2,2011-01-02,,,\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, strings.NewReader(sb.String()), Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}
