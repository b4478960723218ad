package churn

import (
	"runtime"
	"sync"
)

// chunkRows is the fixed number of rows per chunk in parallel row loops.
// Per-chunk partial sums are combined in chunk order, so a result never
// depends on how many workers ran.
const chunkRows = 4096

// numChunks is the number of chunks of chunkRows that cover n rows.
func numChunks(n int) int { return (n + chunkRows - 1) / chunkRows }

// parallelFor calls fn(k) for k in [0, count) on up to GOMAXPROCS
// goroutines. fn must write only to state owned by k. With one task or one
// processor it runs inline.
func parallelFor(count int, fn func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), count)
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
