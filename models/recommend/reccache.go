package recommend

import (
	"container/list"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"unsafe"
)

// DefaultHistoryCacheBytes is the default memory bound of a served
// recommender's cache of decoded customer histories.
const DefaultHistoryCacheBytes = 64 << 20

// recordCache keeps recently read customer histories, decoded, so that a
// customer asked about again (storefronts ask about the same active
// customers over and over) costs a map look-up instead of a Badger read,
// which copies the record three times, and a decode. Ranking evaluations use one
// too, for histories they computed. It is sharded to keep lock
// contention low, each shard a least-recently-used list bounded in bytes
// (an estimate of the memory its entries hold). Entries never change, so
// get hands them out without a copy (an evicted entry stays valid for whoever
// still reads it); a new bundle gets a new cache. A nil *recordCache is an
// empty cache that keeps nothing.
type recordCache struct {
	seed   maphash.Seed
	shards [recordShards]recordShard
	limit  int64 // bytes per shard
	hits   atomic.Uint64
	misses atomic.Uint64
}

const recordShards = 16

type recordShard struct {
	mu    sync.Mutex
	index map[string]*list.Element
	lru   list.List // of *recordEntry, most recent first
	bytes int64
}

type recordEntry struct {
	id   string
	h    History
	size int64
}

// newRecordCache returns a cache holding about maxBytes of histories, or
// nil (no cache) when maxBytes <= 0.
func newRecordCache(maxBytes int64) *recordCache {
	if maxBytes <= 0 {
		return nil
	}
	c := &recordCache{seed: maphash.MakeSeed(), limit: max(1, maxBytes/recordShards)}
	for i := range c.shards {
		c.shards[i].index = map[string]*list.Element{}
	}
	return c
}

func (c *recordCache) shard(id string) *recordShard {
	return &c.shards[maphash.String(c.seed, id)%recordShards]
}

// get returns the cached history of id, shared: the caller must not modify
// its slices.
func (c *recordCache) get(id string) (History, bool) {
	if c == nil {
		return History{}, false
	}
	s := c.shard(id)
	s.mu.Lock()
	e, ok := s.index[id]
	var h History
	if ok {
		s.lru.MoveToFront(e)
		h = e.Value.(*recordEntry).h
	}
	s.mu.Unlock()
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return h, ok
}

// put keeps a copy of h as id's history, dropping the least recently used
// entries beyond the shard's bound.
func (c *recordCache) put(id string, h *History) {
	if c == nil {
		return
	}
	const overhead = 160 // entry, list element, map slot, strings and slice headers
	size := int64(len(id)+overhead) + int64(len(h.Items))*int64(unsafe.Sizeof(HistItem{})) + int64(len(h.CF))*int64(unsafe.Sizeof(Cand{}))
	s := c.shard(id)
	if size > c.limit {
		return
	}
	r := &recordEntry{id: id, size: size, h: History{Items: append([]HistItem(nil), h.Items...), CF: append([]Cand(nil), h.CF...)}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.index[id]; ok {
		return // another request put it first
	}
	s.index[id] = s.lru.PushFront(r)
	s.bytes += size
	for s.bytes > c.limit {
		old := s.lru.Remove(s.lru.Back()).(*recordEntry)
		delete(s.index, old.id)
		s.bytes -= old.size
	}
}

// HistoryCacheStats are the lookups of a served recommender's history
// cache, for metrics.
type HistoryCacheStats struct {
	Hits, Misses uint64
	Entries      int
	Bytes        int64
}

// HistoryCacheStats returns the counts of m's history cache, and false when
// m has none (a recommender fitted in memory, or a cache turned off).
func (m *Recommender) HistoryCacheStats() (HistoryCacheStats, bool) {
	sh, ok := m.hist.(*storeHistories)
	if !ok || sh.cache == nil {
		return HistoryCacheStats{}, false
	}
	c := sh.cache
	st := HistoryCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load()}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Entries += len(s.index)
		st.Bytes += s.bytes
		s.mu.Unlock()
	}
	return st, true
}
