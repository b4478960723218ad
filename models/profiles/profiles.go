// Package profiles stores what the order history says about each customer
// and item, as of the training date: customer timelines (orders and returns)
// with their summaries, and item sales statistics. Later models read these
// records, and the serving layer answers GetCustomer and GetItem from them.
//
// The tables are written by Write at training time and read by a Store
// opened on a read-only bundle.
package profiles

import (
	"errors"
	"time"

	"github.com/patron-crm/patron/models/registry"
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

// Store reads profile tables from an open bundle.
type Store struct {
	b *registry.Bundle
}

var errTODO = errors.New("profiles: not implemented yet")

// Open returns a Store reading b.
func Open(b *registry.Bundle) (*Store, error) { return &Store{b: b}, nil }

// Customer returns the profile of customer id, or an error wrapping
// registry.ErrNotFound.
func (s *Store) Customer(id string) (Customer, error) { return Customer{}, errTODO }

// Item returns item id, or an error wrapping registry.ErrNotFound.
func (s *Store) Item(id string) (Item, error) { return Item{}, errTODO }
