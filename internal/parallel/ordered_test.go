package parallel

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
)

func TestOrderedPut(t *testing.T) {
	for _, n := range []int{0, 1, batchSize - 1, batchSize, 3*batchSize + 7} {
		var got []string
		err := OrderedPut(n, func(w, i int, k, v []byte) ([]byte, []byte, bool) {
			if i%5 == 3 {
				return k, v, false
			}
			return strconv.AppendInt(k, int64(i), 10), append(v, 'v'), true
		}, func(k, v []byte) error {
			got = append(got, string(k)+string(v))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		j := 0
		for i := 0; i < n; i++ {
			if i%5 == 3 {
				continue
			}
			if got[j] != fmt.Sprintf("%dv", i) {
				t.Fatalf("n=%d: record %d is %q", n, j, got[j])
			}
			j++
		}
		if j != len(got) {
			t.Fatalf("n=%d: %d records, want %d", n, len(got), j)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err := OrderedPut(10*batchSize, func(w, i int, k, v []byte) ([]byte, []byte, bool) { return append(k, 'k'), v, true },
		func(k, v []byte) error {
			calls++
			if calls == 5 {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) || calls != 5 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
}
