package features

import "time"

// Dataset is an order history after cleaning, in the shape models need:
// dense integer ids, chronological orders, sparse matrices and per-customer
// timelines. It is built in one pass over the input by Read.
//
// Customers and items are numbered 0..n-1 in order of first appearance in
// the input, so the same file always gives the same ids. Orders are numbered
// chronologically (ties keep input order).
type Dataset struct {
	Customers IDs // customer ids, known customers only (guests have none)
	Items     IDs // item ids; non-product lines never create an item

	// Catalog fields, indexed by item; "" when the input has none.
	ItemName     []string
	ItemCategory []string
	// CustomerCountry holds each customer's country as first seen; "" when absent.
	CustomerCountry []string

	// Orders are the purchase orders (guest orders included), oldest first.
	Orders []Order
	// OrderItems is the order x item matrix: Val is the quantity bought.
	// A row lists each item once, in increasing item order, even when the
	// input had several lines of it.
	OrderItems CSR
	// OrderItemValue is aligned with OrderItems.Idx: quantity x unit price.
	OrderItemValue []float64
	// CustomerItems is the customer x item matrix: Val counts the customer's
	// orders that contain the item (implicit feedback).
	CustomerItems CSR
	// CustomerOrders lists each customer's orders, oldest first (a timeline).
	CustomerOrders Index

	// Returns are return and cancellation lines of known and guest
	// customers, oldest first. They are never purchases.
	Returns []ReturnLine
	// CustomerReturns lists each customer's return lines, oldest first.
	CustomerReturns Index

	// Summary is the ingest report the Dataset was built with.
	Summary Summary
}

// Order is one purchase order.
type Order struct {
	ID       string
	Customer int32 // -1 for a guest order
	Time     int64 // Unix seconds of its earliest line
	Value    float64
}

// At returns the order's time in UTC.
func (o Order) At() time.Time { return time.Unix(o.Time, 0).UTC() }

// IsGuest reports whether the order has no known customer.
func (o Order) IsGuest() bool { return o.Customer < 0 }

// ReturnLine is one returned or cancelled line.
type ReturnLine struct {
	OrderID  string // the return's own order id, e.g. "C536379"
	Customer int32  // -1 for a guest
	Item     int32
	Time     int64   // Unix seconds
	Quantity float64 // positive: units given back
	Value    float64 // positive: quantity x unit price
}

// IDs maps between external string ids and dense int32 ids.
type IDs struct {
	names []string
	index map[string]int32
}

func newIDs(capacity int) IDs {
	return IDs{index: make(map[string]int32, capacity)}
}

// Len returns the number of ids.
func (x *IDs) Len() int { return len(x.names) }

// Name returns the external id of dense id i.
func (x *IDs) Name(i int32) string { return x.names[i] }

// Names returns all external ids, indexed by dense id. Callers must not modify it.
func (x *IDs) Names() []string { return x.names }

// Index returns the dense id of an external id.
func (x *IDs) Index(name string) (int32, bool) {
	i, ok := x.index[name]
	return i, ok
}

// lookup is Index for a byte slice, without allocating.
func (x *IDs) lookup(name []byte) (int32, bool) {
	i, ok := x.index[string(name)]
	return i, ok
}

// add interns name and returns its dense id.
func (x *IDs) add(name []byte) int32 {
	if i, ok := x.index[string(name)]; ok {
		return i
	}
	i := int32(len(x.names))
	s := string(name)
	x.names = append(x.names, s)
	x.index[s] = i
	return i
}

// CSR is a sparse matrix in compressed sparse row form: row r holds columns
// Idx[Ptr[r]:Ptr[r+1]] with values Val[Ptr[r]:Ptr[r+1]], columns increasing.
type CSR struct {
	Rows, Cols int
	Ptr        []int
	Idx        []int32
	Val        []float64
}

// Row returns the columns and values of row r.
func (m *CSR) Row(r int) ([]int32, []float64) {
	a, b := m.Ptr[r], m.Ptr[r+1]
	return m.Idx[a:b], m.Val[a:b]
}

// NNZ returns the number of stored entries.
func (m *CSR) NNZ() int { return len(m.Idx) }

// Index is a list of lists: list r is Idx[Ptr[r]:Ptr[r+1]].
type Index struct {
	Ptr []int
	Idx []int32
}

// Of returns list r.
func (x *Index) Of(r int) []int32 { return x.Idx[x.Ptr[r]:x.Ptr[r+1]] }
