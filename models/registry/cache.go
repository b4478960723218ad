package registry

// CacheStats are the lookups of an open bundle's Badger caches since it was
// opened, for metrics. Badger counts them in its ristretto caches; they start
// at zero with every bundle.
type CacheStats struct {
	// BlockCache reports whether the bundle has a block cache (table blocks
	// read from disk, bounded by Options.CacheBytes; every bundle has one
	// unless CacheBytes turns it off), and BlockHits and BlockMisses count
	// the block reads it answered and those it did not.
	BlockCache             bool
	BlockHits, BlockMisses uint64
	// IndexCache reports whether the bundle has an index cache: only
	// encrypted bundles do; others keep every table index in memory and
	// look nothing up. IndexHits and IndexMisses count its lookups.
	IndexCache             bool
	IndexHits, IndexMisses uint64
}

// CacheStats returns the bundle's cache counts so far. It is cheap (a sum
// of a few hundred atomic counters per cache) and safe to call
// concurrently with reads, but not after Close.
func (b *Bundle) CacheStats() CacheStats {
	// The metrics are nil when a cache is off; their methods answer 0 then.
	block, index := b.db.BlockCacheMetrics(), b.db.IndexCacheMetrics()
	return CacheStats{
		BlockCache: block != nil, BlockHits: block.Hits(), BlockMisses: block.Misses(),
		IndexCache: index != nil, IndexHits: index.Hits(), IndexMisses: index.Misses(),
	}
}
