package features

import (
	"sort"
	"time"
)

// Before returns the part of the history strictly before t, with the same
// customer and item ids as ds (ids first seen later simply have no orders),
// so that models fitted on the past can be scored against the future by id.
// Evaluations use it for time splits; it shares ds's read-only slices.
//
// Orders and returns are chronological, so the cut is a prefix of each;
// the customer x item matrix and the timelines are rebuilt from it, in time
// linear in the kept order lines.
func (ds *Dataset) Before(t time.Time) *Dataset {
	cut := t.Unix()
	nOrd := sort.Search(len(ds.Orders), func(o int) bool { return ds.Orders[o].Time >= cut })
	nRet := sort.Search(len(ds.Returns), func(r int) bool { return ds.Returns[r].Time >= cut })
	out := &Dataset{
		Customers:       ds.Customers,
		Items:           ds.Items,
		ItemName:        ds.ItemName,
		ItemCategory:    ds.ItemCategory,
		CustomerCountry: ds.CustomerCountry,
		Orders:          ds.Orders[:nOrd:nOrd],
		Returns:         ds.Returns[:nRet:nRet],
		Summary:         ds.Summary,
	}
	end := ds.OrderItems.Ptr[nOrd]
	out.OrderItems = CSR{
		Rows: nOrd, Cols: ds.OrderItems.Cols,
		Ptr: ds.OrderItems.Ptr[: nOrd+1 : nOrd+1],
		Idx: ds.OrderItems.Idx[:end:end],
		Val: ds.OrderItems.Val[:end:end],
	}
	out.OrderItemValue = ds.OrderItemValue[:end:end]
	nCust := ds.Customers.Len()
	out.CustomerOrders = groupBy(nCust, nOrd, func(o int) int32 { return out.Orders[o].Customer })
	out.CustomerReturns = groupBy(nCust, nRet, func(r int) int32 { return out.Returns[r].Customer })
	out.CustomerItems = customerItems(out, nCust, ds.Items.Len())
	out.Summary.Orders = nOrd
	return out
}
