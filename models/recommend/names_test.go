package recommend

import (
	"math"
	"testing"
)

// TestNameAffinity checks name words, their idf among sold items and the
// affinity of an item to a customer's words on a hand-made catalog.
func TestNameAffinity(t *testing.T) {
	names := []string{
		"RED RETROSPOT MUG",    // 0
		"Red Retrospot Bag",    // 1: case does not matter
		"BLUE MUG, 6 PC",       // 2: "PC" is too short, "6" is no word
		"CHRISTMAS STAR",       // 3
		"RETROSPOT CAKE STAND", // 4: never sold: no idf weight
		"",                     // 5: no name
	}
	sold := []float64{3, 1, 2, 5, 0, 1}
	words, idf := nameWords(names, sold)
	st := &itemStats{words: words, idf: idf}
	word := func(item, k int) int32 { return words[item][k] }
	if len(words[0]) != 3 || len(words[2]) != 2 || len(words[5]) != 0 {
		t.Fatalf("words %v", words)
	}
	if word(0, 1) != word(1, 1) || word(0, 2) != word(2, 1) {
		t.Fatalf("RETROSPOT or MUG not shared: %v", words)
	}
	// 5 items sold; RETROSPOT is in 2 of them (item 4 is not sold), MUG in
	// 2, RED in 2, BLUE in 1, CAKE in none.
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
	if got := float64(idf[word(0, 1)]); !near(got, math.Log(5.0/2)) {
		t.Errorf("idf(RETROSPOT) = %v, want log(5/2)", got)
	}
	if got := float64(idf[word(2, 0)]); !near(got, math.Log(5.0)) {
		t.Errorf("idf(BLUE) = %v, want log 5", got)
	}
	if got := idf[word(4, 1)]; got != 0 {
		t.Errorf("idf(CAKE) = %v, want 0 (in no sold item)", got)
	}
	own := []int32{word(1, 0), word(1, 1), word(1, 2)} // bought the bag: RED RETROSPOT BAG
	for _, tc := range []struct {
		item int32
		want float64
	}{
		{0, 2 * math.Log(5.0/2) / (3 * math.Log(5.0/2))}, // RED, RETROSPOT of RED RETROSPOT MUG
		{2, 0}, // BLUE MUG
		{3, 0}, // CHRISTMAS STAR
		{4, 1}, // only RETROSPOT has weight
		{5, 0}, // no words
	} {
		if got := st.nameAffinity(tc.item, own); !near(got, tc.want) {
			t.Errorf("affinity of item %d: %v, want %v", tc.item, got, tc.want)
		}
	}
}
