package profiles

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/patron-crm/patron/features"
)

// Records are encoded compactly by hand: a format byte, then unsigned
// varints for counts, zig-zag varints for times (each order's time as a delta
// from the previous one), 8-byte floats for money and quantities, and
// length-prefixed strings. A record is decoded in well under a microsecond
// per order, with one allocation per string.
const recordFormat = 1

var errCorrupt = errors.New("corrupt profile record")

func encodeCustomer(b []byte, ds *features.Dataset, c int) []byte {
	b = append(b, recordFormat)
	b = appendString(b, ds.CustomerCountry[c])
	items, _ := ds.CustomerItems.Row(c)
	b = binary.AppendUvarint(b, uint64(len(items)))

	orders := ds.CustomerOrders.Of(c)
	b = binary.AppendUvarint(b, uint64(len(orders)))
	prev := int64(0)
	for _, o := range orders {
		ord := ds.Orders[o]
		_, qty := ds.OrderItems.Row(int(o))
		total := 0.0
		for _, q := range qty {
			total += q
		}
		b = appendString(b, ord.ID)
		b = binary.AppendVarint(b, ord.Time-prev)
		prev = ord.Time
		b = appendFloat(b, ord.Value)
		b = binary.AppendUvarint(b, uint64(len(qty)))
		b = appendFloat(b, total)
	}

	// Returns: lines grouped by their return order, in time order.
	lines := ds.CustomerReturns.Of(c)
	var groups []Return
	for _, r := range lines {
		rl := ds.Returns[r]
		at := time.Unix(rl.Time, 0).UTC()
		if n := len(groups); n > 0 && groups[n-1].OrderID == rl.OrderID {
			g := &groups[n-1]
			g.Value += rl.Value
			g.Quantity += rl.Quantity
			g.Lines++
			continue
		}
		groups = append(groups, Return{OrderID: rl.OrderID, Time: at, Value: rl.Value, Quantity: rl.Quantity, Lines: 1})
	}
	b = binary.AppendUvarint(b, uint64(len(groups)))
	prev = 0
	for _, g := range groups {
		b = appendString(b, g.OrderID)
		b = binary.AppendVarint(b, g.Time.Unix()-prev)
		prev = g.Time.Unix()
		b = appendFloat(b, g.Value)
		b = appendFloat(b, g.Quantity)
		b = binary.AppendUvarint(b, uint64(g.Lines))
	}
	return b
}

func decodeCustomer(id string, val []byte) (Customer, error) {
	d := decoder{b: val}
	if d.byte() != recordFormat {
		return Customer{}, fmt.Errorf("%w: unknown format", errCorrupt)
	}
	c := Customer{ID: id}
	c.Country = d.string()
	c.DistinctItems = int(d.uvarint())
	n := d.count()
	if n > 0 {
		c.Orders = make([]Order, n)
	}
	prev := int64(0)
	for i := range c.Orders {
		o := &c.Orders[i]
		o.ID = d.string()
		prev += d.varint()
		o.Time = time.Unix(prev, 0).UTC()
		o.Value = d.float()
		o.Lines = int(d.uvarint())
		o.Quantity = d.float()
	}
	n = d.count()
	if n > 0 {
		c.Returns = make([]Return, n)
	}
	prev = 0
	for i := range c.Returns {
		r := &c.Returns[i]
		r.OrderID = d.string()
		prev += d.varint()
		r.Time = time.Unix(prev, 0).UTC()
		r.Value = d.float()
		r.Quantity = d.float()
		r.Lines = int(d.uvarint())
	}
	if d.err != nil || len(d.b) != 0 {
		return Customer{}, errCorrupt
	}
	return c, nil
}

func encodeItem(b []byte, it *Item) []byte {
	b = append(b, recordFormat)
	b = appendString(b, it.Name)
	b = appendString(b, it.Category)
	b = binary.AppendUvarint(b, uint64(it.Orders))
	b = binary.AppendUvarint(b, uint64(it.Customers))
	b = appendFloat(b, it.Quantity)
	b = appendFloat(b, it.Revenue)
	b = appendFloat(b, it.ReturnedQuantity)
	b = binary.AppendVarint(b, unixOrZero(it.FirstSold))
	b = binary.AppendVarint(b, unixOrZero(it.LastSold))
	return b
}

func decodeItem(id string, val []byte) (Item, error) {
	d := decoder{b: val}
	if d.byte() != recordFormat {
		return Item{}, fmt.Errorf("%w: unknown format", errCorrupt)
	}
	it := Item{ID: id}
	it.Name = d.string()
	it.Category = d.string()
	it.Orders = int64(d.uvarint())
	it.Customers = int64(d.uvarint())
	it.Quantity = d.float()
	it.Revenue = d.float()
	it.ReturnedQuantity = d.float()
	if t := d.varint(); t != 0 {
		it.FirstSold = time.Unix(t, 0).UTC()
	}
	if t := d.varint(); t != 0 {
		it.LastSold = time.Unix(t, 0).UTC()
	}
	if d.err != nil || len(d.b) != 0 {
		return Item{}, errCorrupt
	}
	return it, nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// decoder reads a record; the first error sticks and later reads return zeros.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must fit in what is left of the record (every
// element takes at least one byte), so a corrupt record cannot make the
// decoder allocate without bound.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}
