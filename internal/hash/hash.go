// Package hash holds the small integer hash the project uses where it needs
// well-spread, deterministic bits: duplicate-line sets while reading, the
// generator's per-customer random streams, sampling evaluation customers.
package hash

import (
	"cmp"
	"slices"
)

// Mix64 is the splitmix64 finalizer (Steele, Lea & Flood 2014, "Fast
// splittable pseudorandom number generators"): a bijection on 64 bits whose
// outputs differ in about half their bits when one input bit changes.
func Mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}

// ID is a seeded hash of a customer or item id: the same id and seed
// always give the same bits, spread independently of the ids' order, for
// samples and folds that do not depend on how rows are arranged.
func ID(seed uint64, id int32) uint64 {
	return Mix64(seed ^ uint64(id)*0x9e3779b97f4a7c15)
}

// Sample returns the positions in ids of the n ids with the smallest
// seeded hash, in increasing order (all positions when n >= len(ids)): a
// seeded sample that picks the same ids whatever the order of the rows.
func Sample(ids []int32, n int, seed uint64) []int {
	if n >= len(ids) {
		keep := make([]int, len(ids))
		for i := range keep {
			keep[i] = i
		}
		return keep
	}
	type pick struct {
		h uint64
		i int
	}
	picks := make([]pick, len(ids))
	for i, id := range ids {
		picks[i] = pick{ID(seed, id), i}
	}
	slices.SortFunc(picks, func(a, b pick) int { return cmp.Compare(a.h, b.h) })
	keep := make([]int, max(n, 0))
	for k := range keep {
		keep[k] = picks[k].i
	}
	slices.Sort(keep)
	return keep
}
