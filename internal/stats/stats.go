// Package stats holds the few order statistics several packages need, so
// each is written once.
package stats

import (
	"cmp"
	"slices"
)

// Median returns the median of x, reordering x; 0 for an empty slice.
func Median(x []float64) float64 {
	n := len(x)
	if n == 0 {
		return 0
	}
	slices.Sort(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}

// Order returns the indices of x in increasing order of value; equal values
// keep their index order.
func Order(x []float64) []int {
	order := make([]int, len(x))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	return order
}
