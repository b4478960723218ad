package itemsim

import (
	"math"
	"testing"

	"github.com/patron-crm/patron/features"
)

func baskets(rows ...[]int32) *features.CSR {
	m := &features.CSR{Rows: len(rows), Cols: 4, Ptr: []int{0}}
	for _, r := range rows {
		m.Idx = append(m.Idx, r...)
		m.Val = append(m.Val, make([]float64, len(r))...)
		m.Ptr = append(m.Ptr, len(m.Idx))
	}
	return m
}

func TestCosineByHand(t *testing.T) {
	m := baskets([]int32{0, 1}, []int32{0, 1, 2}, []int32{0, 2}, []int32{3})
	nb, err := Fit(m, Params{Kind: Cosine, Shrink: 1, K: 5})
	if err != nil {
		t.Fatal(err)
	}
	items, scores, sup := nb.Of(0)
	// n0 = 3, n1 = 2, n2 = 2, c01 = 2, c02 = 2: both 2 / (sqrt(6) + 1); ties by id.
	want := 2 / (math.Sqrt(6) + 1)
	if len(items) != 2 || items[0] != 1 || items[1] != 2 || math.Abs(float64(scores[0])-want) > 1e-6 || sup[0] != 2 {
		t.Fatalf("neighbours of 0: %v %v %v", items, scores, sup)
	}
	if items, _, _ := nb.Of(3); len(items) != 0 {
		t.Fatalf("item 3 was never bought with another: %v", items)
	}
}

func TestRP3BetaByHand(t *testing.T) {
	m := baskets([]int32{0, 1}, []int32{0, 1, 2})
	nb, _ := Fit(m, Params{Kind: RP3Beta, Alpha: 1, Beta: 0.5, K: 5})
	items, scores, _ := nb.Of(0)
	// s_01 = (1/2)(1/2 + 1/3) / 2^0.5; s_02 = (1/2)(1/3) / 1^0.5
	w01 := 0.5 * (0.5 + 1.0/3) / math.Sqrt(2)
	w02 := 0.5 * (1.0 / 3)
	if items[0] != 1 || math.Abs(float64(scores[0])-w01) > 1e-6 || math.Abs(float64(scores[1])-w02) > 1e-6 {
		t.Fatalf("rp3beta of 0: %v %v, want %v %v", items, scores, w01, w02)
	}
}

type memTable map[string][]byte

func (t memTable) Put(table string, key, val []byte) error {
	t[table+"\x00"+string(key)] = append([]byte(nil), val...)
	return nil
}

func (t memTable) Scan(table string, fn func(key, val []byte) error) error {
	for k := 0; ; k++ {
		key := string([]byte{0, 0, byte(k >> 8), byte(k)})
		v, ok := t[table+"\x00"+key]
		if !ok {
			return nil
		}
		if err := fn([]byte(key), v); err != nil {
			return err
		}
	}
}

func TestTableRoundTripAndCorruption(t *testing.T) {
	m := baskets([]int32{0, 1}, []int32{0, 1, 2}, []int32{2, 3})
	nb, _ := Fit(m, Params{Kind: Cosine, K: 2})
	tb := memTable{}
	if err := nb.Write(tb, "t"); err != nil {
		t.Fatal(err)
	}
	got, err := Load(tb, "t")
	if err != nil {
		t.Fatal(err)
	}
	for i := int32(0); i < 4; i++ {
		a, sa, pa := nb.Of(i)
		b, sb, pb := got.Of(i)
		if len(a) != len(b) {
			t.Fatalf("item %d: %v vs %v", i, a, b)
		}
		for k := range a {
			if a[k] != b[k] || sa[k] != sb[k] || pa[k] != pb[k] {
				t.Fatalf("item %d differs", i)
			}
		}
	}
	for k, v := range tb {
		for cut := 0; cut < len(v); cut++ {
			tb[k] = v[:cut]
			if _, err := Load(tb, "t"); err == nil {
				t.Fatalf("truncated record (%d of %d bytes) accepted", cut, len(v))
			}
		}
		tb[k] = v
	}
}
