package hash

import (
	"slices"
	"testing"
)

// TestSample: a sample holds n positions, increasing, and picks the same
// ids whatever the order of the rows.
func TestSample(t *testing.T) {
	ids := []int32{5, 9, 1, 7, 3, 8, 2, 6, 4, 0}
	rev := slices.Clone(ids)
	slices.Reverse(rev)
	picked := func(ids []int32, keep []int) []int32 {
		var out []int32
		for _, i := range keep {
			out = append(out, ids[i])
		}
		slices.Sort(out)
		return out
	}
	for _, n := range []int{0, 1, 4, 10, 12} {
		keep := Sample(ids, n, 3)
		if len(keep) != min(n, len(ids)) || !slices.IsSorted(keep) {
			t.Fatalf("n=%d: positions %v", n, keep)
		}
		if a, b := picked(ids, keep), picked(rev, Sample(rev, n, 3)); !slices.Equal(a, b) {
			t.Fatalf("n=%d: %v, reversed rows %v", n, a, b)
		}
	}
	if slices.Equal(Sample(ids, 4, 1), Sample(ids, 4, 2)) && slices.Equal(Sample(ids, 5, 1), Sample(ids, 5, 2)) {
		t.Error("the seed changes nothing")
	}
}
