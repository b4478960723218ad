package synth_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/features/synth"
)

// Generate a small shop: the order lines as CSV, and the customers' truth.
func ExampleGenerate() {
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories = 1000, 500, 8
	cfg.Seed = 42
	var orders, customers bytes.Buffer
	cfg, st, err := synth.Generate(context.Background(), cfg, synth.Output{Orders: &orders, Customers: &customers})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d lines, %d orders (%d by guests), %d customers\n", st.Lines, st.Orders, st.GuestOrders, cfg.Customers)
	fmt.Println(strings.SplitN(orders.String(), "\n", 2)[0])
	fmt.Println(strings.SplitN(customers.String(), "\n", 2)[0])
	// Output:
	// 9776 lines, 4179 orders (405 by guests), 1000 customers
	// order_id,customer_id,item_id,quantity,unit_price,ordered_at,item_name,category,country
	// customer_id,lambda_per_day,p_dropout,first_order,dropout_at,alive_at_end,orders
}

// Generate a small shop and read it into a Dataset, as the models see it.
func ExampleDataset() {
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Items, cfg.Categories = 1000, 500, 8
	cfg.Seed = 42
	ds, err := synth.Dataset(context.Background(), cfg, features.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d customers, %d orders (guests' included)\n", ds.Customers.Len(), len(ds.Orders))
	// Output:
	// 1000 customers, 4179 orders (guests' included)
}
