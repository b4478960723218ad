// Package topk selects the k best elements of a slice without sorting all
// of it: recommendation lists keep tens of items out of thousands of
// candidates, and a full sort of the candidates was most of the cost.
package topk

import "slices"

// Select reorders s so that its first min(k, len(s)) elements are the best
// ones under cmp (negative: a is better than b), sorted best first, and
// returns them. cmp must be a strict total order (break ties, e.g. by id)
// so the result does not depend on the input order.
//
// It partitions around median-of-three pivots (quickselect, linear on
// average), then sorts the k survivors: O(n + k log k).
func Select[T any](s []T, k int, cmp func(a, b T) int) []T {
	if k <= 0 {
		return s[:0]
	}
	if k < len(s) {
		lo, hi := 0, len(s)-1
		for lo < hi {
			p := partition(s, lo, hi, cmp)
			switch {
			case p == k-1:
				lo = hi
			case p < k-1:
				lo = p + 1
			default:
				hi = p - 1
			}
		}
		s = s[:k]
	}
	slices.SortFunc(s, cmp)
	return s
}

// partition places a pivot at its final position p within s[lo:hi+1], the
// better elements before it, and returns p.
func partition[T any](s []T, lo, hi int, cmp func(a, b T) int) int {
	mid := lo + (hi-lo)/2
	// Median of three to the end, as the pivot.
	if cmp(s[mid], s[lo]) < 0 {
		s[mid], s[lo] = s[lo], s[mid]
	}
	if cmp(s[hi], s[lo]) < 0 {
		s[hi], s[lo] = s[lo], s[hi]
	}
	if cmp(s[mid], s[hi]) < 0 {
		s[mid], s[hi] = s[hi], s[mid]
	}
	pivot := s[hi]
	p := lo
	for i := lo; i < hi; i++ {
		if cmp(s[i], pivot) < 0 {
			s[i], s[p] = s[p], s[i]
			p++
		}
	}
	s[p], s[hi] = s[hi], s[p]
	return p
}
