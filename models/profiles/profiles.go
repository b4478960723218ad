// Package profiles stores what the order history says about each customer
// and item, as of the training date: customer timelines (orders and returns)
// with their summaries, and item sales statistics. Later models read these
// records, and the serving layer answers GetCustomer and GetItem from them.
//
// The tables are written by Write at training time and read by a Store
// opened on a read-only bundle.
package profiles

import (
	"fmt"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/internal/parallel"
)

// Table names in a bundle.
const (
	CustomerTable = "profiles/customers"
	ItemTable     = "profiles/items"
)

// Customer is one customer's history up to the training date.
type Customer struct {
	ID      string
	Country string
	// Orders are the customer's purchase orders, oldest first.
	Orders []Order
	// Returns are returns and cancellations, oldest first.
	Returns []Return
	// DistinctItems counts the distinct items the customer bought.
	DistinctItems int
}

// Order is one purchase order.
type Order struct {
	ID       string
	Time     time.Time
	Value    float64 // sum of quantity x unit price of its lines
	Lines    int
	Quantity float64
}

// Return is one return or cancellation order of a customer.
type Return struct {
	OrderID  string
	Time     time.Time
	Value    float64 // positive: the value given back
	Quantity float64 // positive
	Lines    int
}

// Spend is the gross value of the customer's purchases.
func (c *Customer) Spend() float64 {
	s := 0.0
	for _, o := range c.Orders {
		s += o.Value
	}
	return s
}

// ReturnedValue is the value of the customer's returns.
func (c *Customer) ReturnedValue() float64 {
	s := 0.0
	for _, r := range c.Returns {
		s += r.Value
	}
	return s
}

// Item is one catalog item and its sales up to the training date.
type Item struct {
	ID               string
	Name             string
	Category         string
	Orders           int64 // orders containing the item, guest orders included
	Customers        int64 // distinct known customers who bought it
	Quantity         float64
	Revenue          float64
	ReturnedQuantity float64
	FirstSold        time.Time
	LastSold         time.Time
}

// Writer stores table rows; *registry.Builder is one.
type Writer interface {
	Put(table string, key, val []byte) error
}

// Getter reads table rows; *registry.Bundle is one.
type Getter interface {
	Get(table string, key []byte, fn func(val []byte) error) error
}

// Write stores a profile for every customer and item of ds.
func Write(ds *features.Dataset, w Writer) error {
	// Customer records are encoded on every core and written in id order.
	err := parallel.OrderedPut(ds.Customers.Len(), func(_, c int, key, val []byte) ([]byte, []byte, bool) {
		return append(key, ds.Customers.Name(int32(c))...), encodeCustomer(val, ds, c), true
	}, func(key, val []byte) error {
		return w.Put(CustomerTable, key, val)
	})
	if err != nil {
		return fmt.Errorf("write customer profiles: %w", err)
	}
	var buf []byte
	for i, it := range itemStats(ds) {
		buf = encodeItem(buf[:0], &it)
		if err := w.Put(ItemTable, []byte(ds.Items.Name(int32(i))), buf); err != nil {
			return fmt.Errorf("write item profiles: %w", err)
		}
	}
	return nil
}

// itemStats aggregates each item's sales from the order matrix.
func itemStats(ds *features.Dataset) []Item {
	items := make([]Item, ds.Items.Len())
	for i := range items {
		items[i] = Item{ID: ds.Items.Name(int32(i)), Name: ds.ItemName[i], Category: ds.ItemCategory[i]}
	}
	first := make([]int64, len(items))
	last := make([]int64, len(items))
	for o, ord := range ds.Orders {
		idx, qty := ds.OrderItems.Row(o)
		vals := ds.OrderItemValue[ds.OrderItems.Ptr[o]:ds.OrderItems.Ptr[o+1]]
		for k, i := range idx {
			it := &items[i]
			if it.Orders == 0 {
				first[i] = ord.Time
			}
			last[i] = ord.Time
			it.Orders++
			it.Quantity += qty[k]
			it.Revenue += vals[k]
		}
	}
	for _, i := range ds.CustomerItems.Idx {
		items[i].Customers++
	}
	for _, r := range ds.Returns {
		items[r.Item].ReturnedQuantity += r.Quantity
	}
	for i := range items {
		if items[i].Orders > 0 {
			items[i].FirstSold = time.Unix(first[i], 0).UTC()
			items[i].LastSold = time.Unix(last[i], 0).UTC()
		}
	}
	return items
}

// Store reads profile tables from an open bundle.
type Store struct {
	g Getter
}

// Open returns a Store reading g.
func Open(g Getter) *Store { return &Store{g: g} }

// Customer returns the profile of customer id, or an error wrapping
// registry.ErrNotFound.
func (s *Store) Customer(id string) (Customer, error) {
	var c Customer
	err := s.g.Get(CustomerTable, []byte(id), func(val []byte) error {
		var err error
		c, err = decodeCustomer(id, val)
		return err
	})
	if err != nil {
		return Customer{}, fmt.Errorf("customer %q: %w", id, err)
	}
	return c, nil
}

// Item returns item id, or an error wrapping registry.ErrNotFound.
func (s *Store) Item(id string) (Item, error) {
	var it Item
	err := s.g.Get(ItemTable, []byte(id), func(val []byte) error {
		var err error
		it, err = decodeItem(id, val)
		return err
	})
	if err != nil {
		return Item{}, fmt.Errorf("item %q: %w", id, err)
	}
	return it, nil
}
