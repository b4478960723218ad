package features

import (
	"fmt"
	"sort"
	"strings"
)

// Column is one canonical input column.
type Column int

// The canonical columns. The first six are required.
const (
	ColOrderID Column = iota
	ColCustomerID
	ColItemID
	ColQuantity
	ColUnitPrice
	ColOrderedAt
	ColItemName
	ColCategory
	ColCountry
	numColumns
)

const numRequired = int(ColOrderedAt) + 1

var columnNames = [numColumns]string{
	"order_id", "customer_id", "item_id", "quantity", "unit_price", "ordered_at",
	"item_name", "category", "country",
}

// String returns the canonical column name, e.g. "unit_price".
func (c Column) String() string {
	if c < 0 || c >= numColumns {
		return fmt.Sprintf("Column(%d)", int(c))
	}
	return columnNames[c]
}

// aliases maps a normalised header name (see normHeader) to its column. It
// covers the canonical names and common exports, among them the UCI Online
// Retail file (InvoiceNo, StockCode, Description, Quantity, InvoiceDate,
// UnitPrice, CustomerID, Country).
var aliases = map[string]Column{
	"orderid": ColOrderID, "invoiceno": ColOrderID, "invoice": ColOrderID, "invoiceid": ColOrderID,
	"invoicenumber": ColOrderID, "ordernumber": ColOrderID, "orderno": ColOrderID, "transactionid": ColOrderID,

	"customerid": ColCustomerID, "customer": ColCustomerID, "clientid": ColCustomerID, "userid": ColCustomerID,
	"customerno": ColCustomerID, "customernumber": ColCustomerID,

	"itemid": ColItemID, "stockcode": ColItemID, "productid": ColItemID, "sku": ColItemID, "productcode": ColItemID,
	"itemcode": ColItemID, "articleid": ColItemID,

	"quantity": ColQuantity, "qty": ColQuantity, "units": ColQuantity,

	"unitprice": ColUnitPrice, "price": ColUnitPrice, "itemprice": ColUnitPrice,

	"orderedat": ColOrderedAt, "invoicedate": ColOrderedAt, "orderdate": ColOrderedAt, "ordertime": ColOrderedAt,
	"timestamp": ColOrderedAt, "date": ColOrderedAt, "datetime": ColOrderedAt, "createdat": ColOrderedAt,

	"itemname": ColItemName, "description": ColItemName, "productname": ColItemName, "name": ColItemName,
	"title": ColItemName,

	"category": ColCategory, "productcategory": ColCategory, "itemcategory": ColCategory,

	"country": ColCountry, "countrycode": ColCountry,
}

// normHeader lower-cases a header name and drops everything but letters and
// digits, so "Customer ID", "customer_id" and "CustomerID" are one name.
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParseColumnMap reads a --columns flag value such as
// "order_id=Bestellnummer,customer_id=Kunde" into a map from canonical column
// name to the header name used in the file.
func ParseColumnMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("column mapping %q: want canonical=header, e.g. order_id=InvoiceNo", part)
		}
		if _, known := columnByName(k); !known {
			return nil, fmt.Errorf("column mapping %q: %q is not a column; columns are %s", part, k, strings.Join(columnNames[:], ", "))
		}
		m[k] = v
	}
	return m, nil
}

func columnByName(name string) (Column, bool) {
	for c, n := range columnNames {
		if n == name {
			return Column(c), true
		}
	}
	return 0, false
}

// headerMap resolves a file's header names to canonical columns.
type headerMap struct {
	index   [numColumns]int // field index of each column, -1 when absent
	ignored []string        // header names that map to no column
	width   int             // number of fields in the header
}

// resolveHeader maps header names to columns: explicit mappings from
// --columns first, then aliases. It fails when a required column is missing,
// naming every missing one, or when two fields claim one column.
func resolveHeader(header []string, explicit map[string]string) (headerMap, error) {
	var h headerMap
	h.width = len(header)
	for c := range h.index {
		h.index[c] = -1
	}
	claimed := func(c Column, i int) error {
		if h.index[c] >= 0 && h.index[c] != i {
			return fmt.Errorf("header fields %q and %q both map to column %s: rename one or map explicitly with --columns %s=NAME",
				header[h.index[c]], header[i], c, c)
		}
		h.index[c] = i
		return nil
	}
	explicitField := map[int]bool{}
	for canon, name := range explicit {
		c, _ := columnByName(canon)
		found := false
		for i, f := range header {
			if strings.EqualFold(strings.TrimSpace(f), name) {
				if err := claimed(c, i); err != nil {
					return h, err
				}
				explicitField[i] = true
				found = true
				break
			}
		}
		if !found {
			return h, fmt.Errorf("--columns maps %s to %q, but the header has no such field (header: %s)", canon, name, strings.Join(header, ","))
		}
	}
	for i, f := range header {
		if explicitField[i] {
			continue
		}
		c, ok := aliases[normHeader(f)]
		if !ok || explicit[c.String()] != "" {
			h.ignored = append(h.ignored, f)
			continue
		}
		if err := claimed(c, i); err != nil {
			return h, err
		}
	}
	var missing []string
	for c := Column(0); c < Column(numRequired); c++ {
		if h.index[c] < 0 {
			missing = append(missing, c.String())
		}
	}
	if len(missing) > 0 {
		hint := ""
		if len(header) == 1 && strings.ContainsAny(header[0], ";\t|") {
			hint = " (the header is one field: is the file separated by something other than the delimiter? see --delimiter)"
		}
		return h, fmt.Errorf("missing required columns: %s (header: %s)%s; map other names with --columns, e.g. --columns order_id=Invoice",
			strings.Join(missing, ", "), strings.Join(header, ","), hint)
	}
	sort.Strings(h.ignored)
	return h, nil
}
