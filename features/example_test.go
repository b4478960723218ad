package features_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/patron-crm/patron/features"
)

// Read an order export, with its cleaning summary.
func ExampleRead() {
	orders := `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536366,POST,POSTAGE,1,2010-12-01 08:28:00,18.00,17850.0,United Kingdom
C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,2010-12-01 09:41:00,2.55,17850.0,United Kingdom
536370,22728,ALARM CLOCK BAKELIKE PINK,24,2010-12-01 08:45:00,3.75,,France
`
	ds, err := features.Read(context.Background(), strings.NewReader(orders), features.Options{Source: "orders.csv"})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := ds.Summary
	fmt.Printf("lines %d: purchases %d, guest purchases %d, returns %d, dropped %d (%s)\n",
		s.Lines, s.PurchaseLines, s.GuestPurchaseLines, s.ReturnLines, s.Dropped, s.Reasons[0].Reason)
	c, _ := ds.Customers.Index("17850")
	for _, o := range ds.CustomerOrders.Of(int(c)) {
		fmt.Printf("customer 17850 order %s: %.2f\n", ds.Orders[o].ID, ds.Orders[o].Value)
	}
	// Output:
	// lines 5: purchases 2, guest purchases 1, returns 1, dropped 1 (non_product)
	// customer 17850 order 536365: 35.64
}
