package itemsim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Writer stores table rows; *registry.Builder is one.
type Writer interface {
	Put(table string, key, val []byte) error
}

// Scanner reads a whole table in key order; *registry.Bundle is one.
type Scanner interface {
	Scan(table string, fn func(key, val []byte) error) error
}

// chunkItems is how many items share one record: neighbour lists are read
// whole into memory when a bundle is opened, so few large records load
// fastest, while staying far below Badger's value size limits.
const chunkItems = 4096

const tableFormat = 1

var errCorrupt = errors.New("corrupt neighbour table")

// Write stores n in table as records of chunkItems items, keyed by the
// chunk number (big-endian, so a scan returns them in order). Item ids are
// the dense ids of the bundle's catalog.
func (n *Neighbours) Write(w Writer, table string) error {
	items := n.Len()
	var buf []byte
	for start := 0; start < items || start == 0; start += chunkItems {
		end := min(start+chunkItems, items)
		buf = append(buf[:0], tableFormat)
		buf = binary.AppendUvarint(buf, uint64(items))
		buf = binary.AppendUvarint(buf, uint64(start))
		buf = binary.AppendUvarint(buf, uint64(end-start))
		for i := start; i < end; i++ {
			nb, sc, sup := n.Of(int32(i))
			buf = binary.AppendUvarint(buf, uint64(len(nb)))
			for k := range nb {
				buf = binary.AppendUvarint(buf, uint64(nb[k]))
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(sc[k]))
				buf = binary.AppendUvarint(buf, uint64(sup[k]))
			}
		}
		key := binary.BigEndian.AppendUint32(nil, uint32(start/chunkItems))
		if err := w.Put(table, key, buf); err != nil {
			return fmt.Errorf("write %s: %w", table, err)
		}
		if items == 0 {
			break
		}
	}
	return nil
}

// Load reads a table written by Write.
func Load(s Scanner, table string) (*Neighbours, error) {
	n := &Neighbours{}
	seen, total := 0, -1
	err := s.Scan(table, func(_, val []byte) error {
		d := val
		next := func() uint64 {
			v, k := binary.Uvarint(d)
			if k <= 0 {
				d = nil
				return math.MaxUint32
			}
			d = d[k:]
			return v
		}
		if len(d) == 0 || d[0] != tableFormat {
			return errCorrupt
		}
		d = d[1:]
		items, start, count := next(), next(), next()
		if items > math.MaxInt32 || start != uint64(seen) || start+count > items {
			return errCorrupt
		}
		if n.Ptr == nil {
			n.Ptr = make([]int, 1, items+1)
			total = int(items)
		}
		if int(items) != total {
			return errCorrupt
		}
		for i := uint64(0); i < count; i++ {
			m := next()
			if m > items || len(d) < int(m)*6 {
				return errCorrupt
			}
			for k := uint64(0); k < m; k++ {
				j := next()
				if j >= items || len(d) < 4 {
					return errCorrupt
				}
				s := math.Float32frombits(binary.LittleEndian.Uint32(d))
				d = d[4:]
				sup := next()
				if sup > math.MaxInt32 {
					return errCorrupt
				}
				n.Item = append(n.Item, int32(j))
				n.Score = append(n.Score, s)
				n.Support = append(n.Support, int32(sup))
			}
			n.Ptr = append(n.Ptr, len(n.Item))
		}
		if len(d) != 0 {
			return errCorrupt
		}
		seen += int(count)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	if n.Ptr == nil {
		return nil, fmt.Errorf("read %s: table missing or empty: %w", table, errCorrupt)
	}
	if seen != total {
		return nil, fmt.Errorf("read %s: %d of %d items: %w", table, seen, total, errCorrupt)
	}
	return n, nil
}
