// Package parallel runs record encoding on every core while one goroutine
// writes the records in order: bundle writers call Put sequentially, but
// building each customer's record is most of the work of writing a table.
package parallel

import (
	"encoding/binary"
	"runtime"
	"sync"
)

// batchSize is how many records a worker encodes at a time.
const batchSize = 2048

// Encoder appends record i's key and value; ok false skips the record.
// worker (0..Workers()-1) lets it use per-worker scratch.
type Encoder func(worker, i int, key, val []byte) (k, v []byte, ok bool)

// Workers is the number of encoding goroutines OrderedPut uses.
func Workers() int { return runtime.GOMAXPROCS(0) }

// OrderedPut encodes records 0..n-1 in parallel and calls put for each, in
// index order, from the calling goroutine. It stops at the first error of put.
func OrderedPut(n int, encode Encoder, put func(key, val []byte) error) error {
	nb := (n + batchSize - 1) / batchSize
	out := make([]chan []byte, nb)
	for b := range out {
		out[b] = make(chan []byte, 1)
	}
	workers := Workers()
	free := make(chan int, workers) // worker ids
	for w := 0; w < workers; w++ {
		free <- w
	}
	done := make(chan struct{})
	// ahead bounds the batches encoded but not yet put, so a slow writer
	// holds back the encoders instead of letting a whole table pile up.
	ahead := make(chan struct{}, 2*workers)
	var wg sync.WaitGroup // the dispatcher and the workers it starts
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := 0; b < nb; b++ {
			select {
			case ahead <- struct{}{}:
			case <-done:
				return
			}
			var w int
			select {
			case w = <-free:
			case <-done:
				return
			}
			wg.Add(1)
			go func(b, w int) {
				defer wg.Done()
				var buf, key, val []byte
				for i := b * batchSize; i < min(n, (b+1)*batchSize); i++ {
					k, v, ok := encode(w, i, key[:0], val[:0])
					key, val = k, v
					if !ok {
						continue
					}
					buf = binary.AppendUvarint(buf, uint64(len(k)))
					buf = append(buf, k...)
					buf = binary.AppendUvarint(buf, uint64(len(v)))
					buf = append(buf, v...)
				}
				out[b] <- buf
				free <- w
			}(b, w)
		}
	}()
	defer func() {
		close(done)
		wg.Wait()
	}()
	for b := 0; b < nb; b++ {
		buf := <-out[b]
		<-ahead
		for len(buf) > 0 {
			kl, n1 := binary.Uvarint(buf)
			k := buf[n1 : n1+int(kl)]
			buf = buf[n1+int(kl):]
			vl, n2 := binary.Uvarint(buf)
			v := buf[n2 : n2+int(vl)]
			buf = buf[n2+int(vl):]
			if err := put(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}
