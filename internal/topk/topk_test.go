package topk

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSelectMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	byValue := func(a, b [2]int) int {
		if c := cmp.Compare(b[0], a[0]); c != 0 { // larger value first
			return c
		}
		return cmp.Compare(a[1], b[1]) // then lower id
	}
	for _, n := range []int{0, 1, 2, 3, 10, 100, 1000} {
		for _, k := range []int{0, 1, 2, 5, 10, 50, 2000} {
			for rep := 0; rep < 5; rep++ {
				s := make([][2]int, n)
				for i := range s {
					s[i] = [2]int{r.IntN(20), i} // many equal values
				}
				want := slices.Clone(s)
				slices.SortFunc(want, byValue)
				want = want[:min(k, n)]
				got := Select(slices.Clone(s), k, byValue)
				if !slices.Equal(got, want) {
					t.Fatalf("n=%d k=%d: got %v, want %v", n, k, got, want)
				}
			}
		}
	}
}

func TestSelectOrderedMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 3, 10, 100, 1000} {
		for _, k := range []int{0, 1, 2, 5, 10, 50, 2000} {
			for rep := 0; rep < 5; rep++ {
				s := make([]uint64, n)
				for i := range s {
					s[i] = uint64(r.IntN(20)) // many equal values
				}
				want := slices.Clone(s)
				slices.Sort(want)
				want = want[:min(k, n)]
				if got := SelectOrdered(slices.Clone(s), k); !slices.Equal(got, want) {
					t.Fatalf("n=%d k=%d: got %v, want %v", n, k, got, want)
				}
			}
		}
	}
}

// TestScoreKey checks that keys sort as scores descending (infinities,
// zero and negative scores included, NaN last), then ids ascending, and
// unpack to what was packed.
func TestScoreKey(t *testing.T) {
	type sc struct {
		score float32
		id    int32
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	in := []sc{{2, 7}, {nan, 2}, {math.SmallestNonzeroFloat32, 1}, {-1, 4}, {0.5, 3}, {0, 5}, {2, 1}, {-inf, 6},
		{math.MaxFloat32, 1 << 30}, {inf, 8}, {0.5, 0}, {-math.SmallestNonzeroFloat32, 9}}
	want := []sc{{inf, 8}, {math.MaxFloat32, 1 << 30}, {2, 1}, {2, 7}, {0.5, 0}, {0.5, 3}, {math.SmallestNonzeroFloat32, 1},
		{0, 5}, {-math.SmallestNonzeroFloat32, 9}, {-1, 4}, {-inf, 6}, {nan, 2}}
	var keys []uint64
	for _, c := range in {
		keys = append(keys, ScoreKey(c.score, c.id))
	}
	slices.Sort(keys)
	for k, key := range keys {
		s, id := FromKey(key)
		same := s == want[k].score || (s != s && want[k].score != want[k].score)
		if !same || id != want[k].id {
			t.Errorf("position %d: got (%v, %d), want %+v", k, s, id, want[k])
		}
	}
}
