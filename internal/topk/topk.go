// Package topk selects the k best elements of a slice without sorting all
// of it: recommendation lists keep tens of items out of thousands of
// candidates, and a full sort of the candidates was most of the cost.
package topk

import (
	"cmp"
	"math"
	"slices"
)

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
		quickselect(len(s), k, func(lo, hi int) int { return partition(s, lo, hi, cmp) })
		s = s[:k]
	}
	slices.SortFunc(s, cmp)
	return s
}

// quickselect partitions n elements until the k best are the first k:
// part(lo, hi) places a pivot of [lo, hi] at its final position and
// returns it.
func quickselect(n, k int, part func(lo, hi int) int) {
	lo, hi := 0, n-1
	for lo < hi {
		p := part(lo, hi)
		switch {
		case p == k-1:
			lo = hi
		case p < k-1:
			lo = p + 1
		default:
			hi = p - 1
		}
	}
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

// SelectOrdered is Select for ordered values, smallest first: the same
// quickselect with the built-in comparison, which the compiler inlines,
// where Select calls cmp for every comparison. Keys that pack a score and
// a tie-breaker into one integer select several times faster this way.
func SelectOrdered[T cmp.Ordered](s []T, k int) []T {
	if k <= 0 {
		return s[:0]
	}
	if k < len(s) {
		quickselect(len(s), k, func(lo, hi int) int { return partitionOrdered(s, lo, hi) })
		s = s[:k]
	}
	slices.Sort(s)
	return s
}

func partitionOrdered[T cmp.Ordered](s []T, lo, hi int) int {
	mid := lo + (hi-lo)/2
	if s[mid] < s[lo] {
		s[mid], s[lo] = s[lo], s[mid]
	}
	if s[hi] < s[lo] {
		s[hi], s[lo] = s[lo], s[hi]
	}
	if s[mid] < s[hi] {
		s[mid], s[hi] = s[hi], s[mid]
	}
	pivot := s[hi]
	p := lo
	for i := lo; i < hi; i++ {
		if s[i] < pivot {
			s[i], s[p] = s[p], s[i]
			p++
		}
	}
	s[p], s[hi] = s[hi], s[p]
	return p
}

// ScoreKey packs a score and an id into one key for SelectOrdered: keys
// sort ascending as the scores sort descending, and equal scores go by
// ascending id. Any score may be packed: the float's bits are mapped to an
// unsigned order (a negative float's bits complemented, a positive one's
// sign bit set) whose complement falls as the score grows, and NaN is put
// after every number, so it is never selected first.
func ScoreKey(score float32, id int32) uint64 {
	return uint64(^orderedBits(score))<<32 | uint64(uint32(id))
}

// orderedBits maps a float32 to bits that compare as unsigned integers in
// the order of the floats (-Inf lowest, +Inf highest); NaN is 0, below all.
func orderedBits(f float32) uint32 {
	b := math.Float32bits(f)
	switch {
	case f != f:
		return 0
	case b>>31 != 0:
		return ^b
	default:
		return b | 1<<31
	}
}

// FromKey unpacks a ScoreKey.
func FromKey(key uint64) (score float32, id int32) {
	b := ^uint32(key >> 32)
	switch {
	case b == 0:
		score = float32(math.NaN())
	case b>>31 != 0:
		score = math.Float32frombits(b &^ (1 << 31))
	default:
		score = math.Float32frombits(^b)
	}
	return score, int32(uint32(key))
}
