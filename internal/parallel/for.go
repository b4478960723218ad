package parallel

import "sync"

// ChunkRows is the fixed number of rows per chunk in parallel row loops.
// Per-chunk partial sums are combined in chunk order, so a result never
// depends on how many workers ran.
const ChunkRows = 4096

// Chunks is the number of chunks of ChunkRows that cover n rows.
func Chunks(n int) int { return (n + ChunkRows - 1) / ChunkRows }

// For calls fn(k) for k in [0, count) on up to Workers() goroutines. fn
// must write only to state owned by k. With one task or one processor it
// runs inline.
func For(count int, fn func(k int)) {
	workers := min(Workers(), count)
	if workers <= 1 {
		for k := range count {
			fn(k)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, count)
	for k := range count {
		next <- k
	}
	close(next)
	for range workers {
		wg.Go(func() {
			for k := range next {
				fn(k)
			}
		})
	}
	wg.Wait()
}
