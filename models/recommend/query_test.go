package recommend

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/patron-crm/patron/internal/topk"
)

// TestTopSortedIsTop: for candidate lists sorted as History.CF is stored
// (with ties, zero scores, blocked items and category filters), walking
// them in order gives exactly what scoring them into the scratch and
// ranking them with top gives.
func TestTopSortedIsTop(t *testing.T) {
	const n = 60
	m := &Recommender{}
	for i := range n {
		m.cat.ids = append(m.cat.ids, fmt.Sprint("item", i))
		m.cat.names = append(m.cat.names, fmt.Sprint("name", i))
		m.cat.cats = append(m.cat.cats, []string{"a", "b", "c"}[i%3])
	}
	m.cat.buildReasons()
	m.scratch.n = n
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 2000 {
		var cands []Cand
		for _, i := range rng.Perm(n)[:rng.IntN(n)] {
			score := float32(rng.IntN(5)) / 4 // ties and zeros
			cands = append(cands, Cand{Item: int32(i), Score: score, From: int32(rng.IntN(n+1)) - 1})
		}
		slices.SortFunc(cands, betterCand)
		var exclude []string
		for range rng.IntN(8) {
			exclude = append(exclude, m.cat.ids[rng.IntN(n)])
		}
		category := []string{"", "", "a", "c"}[rng.IntN(4)]
		limit := 1 + rng.IntN(20)

		s := m.scratch.get()
		r, err := m.newRequest(s, limit, exclude, category)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cands {
			s.touch(c.Item)
			s.acc[c.Item], s.best[c.Item], s.from[c.Item] = c.Score, c.Score, c.From
		}
		want := m.top(s, &r, func(j int32) Reason { return m.becauseReason(s.from[j]) })
		wantBlocked := slices.Clone(r.blocked)
		m.scratch.put(s, r.blocked)

		s = m.scratch.get()
		r, _ = m.newRequest(s, limit, exclude, category)
		got := m.topSorted(s, &r, cands)
		gotBlocked := slices.Clone(r.blocked)
		m.scratch.put(s, r.blocked)

		if !reflect.DeepEqual(got, want) || !slices.Equal(gotBlocked, wantBlocked) {
			t.Fatalf("trial %d (limit %d, category %q, exclude %v):\nsorted walk %+v\ntop         %+v", trial, limit, category, exclude, got, want)
		}
	}
}

// TestScoreKeyMatchesBetterCand: packed keys (topk.ScoreKey) sort as
// betterCand orders candidates.
func TestScoreKeyMatchesBetterCand(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var cands []Cand
	for i := range 500 {
		score := float32(rng.IntN(50)+1) / 7 // ties
		if i%50 == 0 {
			score = math.SmallestNonzeroFloat32
		}
		cands = append(cands, Cand{Item: int32(rng.IntN(1 << 20)), Score: score})
	}
	byKey := slices.Clone(cands)
	slices.SortFunc(byKey, func(a, b Cand) int {
		return cmp.Compare(topk.ScoreKey(a.Score, a.Item), topk.ScoreKey(b.Score, b.Item))
	})
	slices.SortFunc(cands, betterCand)
	for k := range cands {
		if cands[k].Item != byKey[k].Item || cands[k].Score != byKey[k].Score {
			t.Fatalf("position %d: betterCand %+v, key order %+v", k, cands[k], byKey[k])
		}
	}
}
