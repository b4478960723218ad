package recommend

import (
	"fmt"
	"slices"
	"testing"
)

func testHistory(n int) History {
	h := History{}
	for i := range n {
		h.Items = append(h.Items, HistItem{Item: int32(i), Orders: 1, Weight: 1})
		h.CF = append(h.CF, Cand{Item: int32(i + 1000), Score: 1 / float32(i+1), From: int32(i)})
	}
	return h
}

// TestRecordCache: a cached history comes back equal and independent of
// the copy put in; the cache stays within its bound, dropping the least
// recently used; hits and misses are counted; a nil cache keeps nothing.
func TestRecordCache(t *testing.T) {
	c := newRecordCache(recordShards * 2000)
	if _, ok := c.get("a"); ok {
		t.Fatal("hit in an empty cache")
	}
	h := testHistory(10)
	c.put("a", &h)
	h.Items[0].Item = 99 // the cache keeps its own copy
	if got, ok := c.get("a"); !ok || got.Items[0].Item != 0 || len(got.CF) != 10 || !slices.Equal(got.CF, testHistory(10).CF) {
		t.Fatalf("got %+v", got)
	}
	for i := range 1000 {
		hi := testHistory(5)
		c.put(fmt.Sprint("c", i), &hi)
	}
	for i := range c.shards {
		if s := &c.shards[i]; s.bytes > c.limit || s.bytes < 0 || len(s.index) != s.lru.Len() {
			t.Fatalf("shard %d: %d bytes (limit %d), %d indexed, %d listed", i, s.bytes, c.limit, len(s.index), s.lru.Len())
		}
	}
	if _, ok := c.get("c999"); !ok {
		t.Error("the most recent entry was dropped")
	}
	if _, ok := c.get("c0"); ok {
		t.Error("the least recent entry was kept beyond the bound")
	}
	if big := testHistory(1000); true {
		c.put("big", &big)
		if _, ok := c.get("big"); ok {
			t.Error("an entry larger than a shard was kept")
		}
	}
	if h, m := c.hits.Load(), c.misses.Load(); h != 2 || m != 3 {
		t.Errorf("hits %d, misses %d; want 2, 3", h, m)
	}
	if newRecordCache(0) != nil || newRecordCache(-1) != nil {
		t.Error("a cache of no bytes")
	}
	var none *recordCache
	none.put("a", &h)
	if _, ok := none.get("a"); ok {
		t.Error("a nil cache kept a history")
	}
}
