package synth

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patron-crm/patron/features"
)

// Header is the CSV header Generate writes: the canonical columns.
const Header = "order_id,customer_id,item_id,quantity,unit_price,ordered_at,item_name,category,country"

// malformedKinds are the kinds of malformed lines, named by the reason the
// reader (package features) gives when it rejects them.
var malformedKinds = [...]string{
	features.ReasonColumnCount,
	features.ReasonEmptyOrderID,
	features.ReasonEmptyItemID,
	features.ReasonBadQuantity,
	features.ReasonBadUnitPrice,
	features.ReasonBadOrderedAt,
}

// Stats counts what Generate wrote. Well-formed lines are purchases or
// returns: Lines = PurchaseLines + ReturnLines + the sum of Malformed.
// Orders, GuestOrders and ReturnOrders count orders with at least one
// well-formed line, as the reader counts them.
type Stats struct {
	Lines         int64 `json:"lines"`
	PurchaseLines int64 `json:"purchase_lines"`
	ReturnLines   int64 `json:"return_lines"`
	// GuestLines are the well-formed lines (purchases and returns) without a customer.
	GuestLines   int64 `json:"guest_lines"`
	Orders       int64 `json:"orders"` // purchase orders, guest orders included
	GuestOrders  int64 `json:"guest_orders"`
	ReturnOrders int64 `json:"return_orders"`
	Customers    int   `json:"customers"`
	Items        int   `json:"items"`
	// Dropped counts the customers who dropped out before End.
	Dropped int64 `json:"dropped_customers"`
	// Malformed counts the malformed lines by the reader's reason.
	Malformed map[string]int64 `json:"malformed"`
}

// MalformedLines returns the number of malformed lines.
func (s *Stats) MalformedLines() int64 {
	n := int64(0)
	for _, c := range s.Malformed {
		n += c
	}
	return n
}

// Progress reports how far Generate has got: Stage is "customers" (Done of
// Total customers simulated) or "writing" (Done of Total lines written).
type Progress struct {
	Stage       string
	Done, Total int64
}

// Output says where Generate writes. Orders is required; the truth
// writers may be nil to skip them.
type Output struct {
	// Orders receives the order lines as CSV, with Header.
	Orders io.Writer
	// Customers receives the customers' truth: customer_id,
	// lambda_per_day, p_dropout, first_order, dropout_at, alive_at_end, orders.
	Customers io.Writer
	// Items receives the catalog's truth: item_id, category,
	// popularity_weight, price.
	Items io.Writer
	// Progress, when set, is called from time to time.
	Progress func(Progress)
}

// chunkSize is the number of customers one worker simulates at a time.
const chunkSize = 4096

// pilotCustomers is the sample Resolve simulates to learn the lines and
// orders per customer (about 1.5% standard error with the defaults).
const pilotCustomers = 16384

// Resolve returns cfg with Customers set from the Lines target when it is
// 0, and the expected number of guest orders per customer stream. Both
// come from a pilot simulation of pilotCustomers customers on streams of
// their own, so they do not depend on the output's customers.
func Resolve(cfg Config) (Config, error) {
	cfg, _, _, err := resolve(cfg)
	return cfg, err
}

func resolve(cfg Config) (Config, *catalog, float64, error) {
	if err := cfg.Validate(); err != nil {
		return cfg, nil, 0, err
	}
	if cfg.AcquireUntil.IsZero() {
		cfg.AcquireUntil = cfg.Start.Add(cfg.End.Sub(cfg.Start) * 3 / 4)
	}
	cat := newCatalog(&cfg)
	if cfg.GuestShare == 0 && cfg.Customers > 0 {
		return cfg, cat, 0, nil
	}
	pilot := cfg
	pilot.GuestShare, pilot.MalformedShare = 0, 0
	s := newSim(&pilot, cat, 0)
	var sc scratch
	var cnt counts
	var buf []event
	orders := 0
	for i := range pilotCustomers {
		r := stream(cfg.Seed, keyPilot+uint64(i))
		var tr customerTruth
		buf, tr = s.customer(uint32(i), r, &sc, buf[:0], &cnt)
		orders += int(tr.orders)
	}
	ordersPer := float64(orders) / pilotCustomers
	linesPer := float64(cnt.purchaseLines+cnt.returnLines) / pilotCustomers
	g := cfg.GuestShare
	guestMean := g / (1 - g) * ordersPer
	if cfg.Customers == 0 {
		// Lines ≈ customers * linesPer / (1 - g): guest orders have about
		// as many lines as the others.
		n := math.Round(float64(cfg.Lines) * (1 - g) / linesPer)
		if n > math.MaxInt32-1 {
			return cfg, nil, 0, errTooManyLines
		}
		cfg.Customers = max(1, int(n))
	}
	return cfg, cat, guestMean, nil
}

// chunk is the output of one worker's batch of customers.
type chunk struct {
	events []event
	perDay []int32 // lines per day of the window
}

// Generate simulates the shop cfg describes and writes its order lines,
// sorted by time, and its truth to out. The output is a function of cfg
// alone (Workers aside). It returns what it wrote; the Config used (with
// Customers resolved) is Stats' companion in WriteTruthJSON.
func Generate(ctx context.Context, cfg Config, out Output) (Config, Stats, error) {
	cfg, cat, guestMean, err := resolve(cfg)
	if err != nil {
		return cfg, Stats{}, err
	}
	if out.Orders == nil {
		return cfg, Stats{}, fmt.Errorf("synth: no output for the orders")
	}
	progress := out.Progress
	if progress == nil {
		progress = func(Progress) {}
	}
	s := newSim(&cfg, cat, guestMean)
	workers := cfg.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	days := int(s.span/86400) + 1
	nCust := cfg.Customers
	nChunks := (nCust + chunkSize - 1) / chunkSize
	chunks := make([]chunk, nChunks)
	truth := make([]customerTruth, nCust)
	workerCounts := make([]counts, workers)

	// 1. Simulate customers, in parallel chunks.
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sc scratch
			cnt := &workerCounts[w]
			for {
				k := int(next.Add(1) - 1)
				if k >= nChunks || ctx.Err() != nil {
					return
				}
				lo, hi := k*chunkSize, min(nCust, (k+1)*chunkSize)
				ch := chunk{events: make([]event, 0, (hi-lo)*12), perDay: make([]int32, days)}
				for i := lo; i < hi; i++ {
					r := stream(cfg.Seed, uint64(i))
					ch.events, truth[i] = s.customer(uint32(i), r, &sc, ch.events, cnt)
				}
				for _, e := range ch.events {
					ch.perDay[e.t/86400]++
				}
				chunks[k] = ch
				progress(Progress{Stage: "customers", Done: done.Add(int64(hi - lo)), Total: int64(nCust)})
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return cfg, Stats{}, err
	}

	// 2. Bucket the lines by day (a counting sort; chunk k's lines of a day
	// go after those of chunks before it), then sort each day.
	dayStart := make([]int64, days+1)
	for _, ch := range chunks {
		for d, n := range ch.perDay {
			dayStart[d+1] += int64(n)
		}
	}
	for d := range days {
		dayStart[d+1] += dayStart[d]
	}
	total := dayStart[days]
	events := make([]event, total)
	offsets := make([][]int64, nChunks) // where chunk k writes each day's lines
	pos := slices.Clone(dayStart[:days])
	for k, ch := range chunks {
		offsets[k] = slices.Clone(pos)
		for d, n := range ch.perDay {
			pos[d] += int64(n)
		}
	}
	parallel(workers, nChunks, func(k int) {
		off := offsets[k]
		for _, e := range chunks[k].events {
			d := e.t / 86400
			events[off[d]] = e
			off[d]++
		}
		chunks[k] = chunk{}
	})
	chunks, offsets = nil, nil
	parallel(workers, days, func(d int) {
		slices.SortFunc(events[dayStart[d]:dayStart[d+1]], compareEvents)
	})

	// 3. Number the orders in time order; count orders as the reader will.
	base := make([]int64, nCust+1)
	for i, tr := range truth {
		base[i+1] = base[i] + int64(tr.seqs)
	}
	orderID := make([]uint32, base[nCust])
	st := Stats{Lines: total, Customers: nCust, Items: cfg.Items, Malformed: map[string]int64{}}
	var cnt counts
	for w := range workerCounts {
		cnt.add(&workerCounts[w])
	}
	st.PurchaseLines, st.ReturnLines, st.GuestLines = cnt.purchaseLines, cnt.returnLines, cnt.guestLines
	for k, n := range cnt.malformed {
		if n > 0 {
			st.Malformed[malformedKinds[k]] = n
		}
	}
	for _, tr := range truth {
		if tr.dropped {
			st.Dropped++
		}
	}
	nextID := uint32(0)
	for i := int64(0); i < total; {
		e := events[i]
		ret := e.flags&flagReturn != 0
		j, wellFormed := i, false
		for ; j < total && sameOrder(&events[j], &e); j++ {
			wellFormed = wellFormed || events[j].flags&kindMask == 0
		}
		slot := base[e.cust] + int64(e.seq)
		if !ret && orderID[slot] == 0 {
			nextID++
			orderID[slot] = nextID
		}
		if wellFormed {
			switch {
			case ret:
				st.ReturnOrders++
			case e.flags&flagGuest != 0:
				st.Orders++
				st.GuestOrders++
			default:
				st.Orders++
			}
		}
		i = j
	}

	// 4. Format blocks of lines in parallel and write them in order.
	if err := writeOrders(ctx, out.Orders, cfg, cat, events, base, orderID, workers, progress); err != nil {
		return cfg, st, err
	}
	events, orderID = nil, nil
	if out.Customers != nil {
		if err := writeCustomers(out.Customers, cfg, truth); err != nil {
			return cfg, st, fmt.Errorf("write customer truth: %w", err)
		}
	}
	if out.Items != nil {
		if err := writeItems(out.Items, cat); err != nil {
			return cfg, st, fmt.Errorf("write item truth: %w", err)
		}
	}
	return cfg, st, nil
}

// compareEvents orders lines by time, customer stream, order and item, with
// an order's purchase before its return: a total order, so the sorted output
// does not depend on the input order.
func compareEvents(a, b event) int {
	if c := cmp.Compare(a.t, b.t); c != 0 {
		return c
	}
	if c := cmp.Compare(a.cust, b.cust); c != 0 {
		return c
	}
	if c := cmp.Compare(a.seq, b.seq); c != 0 {
		return c
	}
	if c := cmp.Compare(a.flags&flagReturn, b.flags&flagReturn); c != 0 {
		return c
	}
	return cmp.Compare(a.item, b.item)
}

// sameOrder reports whether two lines belong to one written order.
func sameOrder(a, b *event) bool {
	return a.t == b.t && a.cust == b.cust && a.seq == b.seq && a.flags&flagReturn == b.flags&flagReturn
}

// parallel calls f(0..n-1) on workers goroutines.
func parallel(workers, n int, f func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				f(k)
			}
		}()
	}
	wg.Wait()
}

// blockLines is the number of lines formatted as one block (about 6 MB).
const blockLines = 1 << 16

// writeOrders formats the sorted lines on workers goroutines, block by
// block, and writes the blocks in order.
func writeOrders(ctx context.Context, w io.Writer, cfg Config, cat *catalog, events []event, base []int64, orderID []uint32, workers int, progress func(Progress)) error {
	if _, err := io.WriteString(w, Header+"\n"); err != nil {
		return fmt.Errorf("write orders: %w", err)
	}
	f := newFormatter(cfg, cat, base, orderID)
	nBlocks := (len(events) + blockLines - 1) / blockLines
	type block struct {
		buf  []byte
		done chan struct{}
	}
	jobs := make(chan int)
	ready := make(chan *block, 2*workers) // blocks in output order, bounded
	blocks := make([]*block, nBlocks)
	free := make(chan []byte, 2*workers+1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(ready)
		defer close(jobs)
		for b := range nBlocks {
			blk := &block{done: make(chan struct{})}
			blocks[b] = blk
			select {
			case ready <- blk:
			case <-stop:
				return
			}
			select {
			case jobs <- b:
			case <-stop:
				return
			}
		}
	}()
	for range workers {
		go func() {
			for b := range jobs {
				var buf []byte
				select {
				case buf = <-free:
				default:
				}
				lo, hi := b*blockLines, min(len(events), (b+1)*blockLines)
				blocks[b].buf = f.appendLines(buf[:0], events[lo:hi])
				close(blocks[b].done)
			}
		}()
	}
	written := int64(0)
	for blk := range ready {
		<-blk.done
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := w.Write(blk.buf); err != nil {
			return fmt.Errorf("write orders: %w", err)
		}
		written = min(written+blockLines, int64(len(events)))
		progress(Progress{Stage: "writing", Done: written, Total: int64(len(events))})
		select {
		case free <- blk.buf:
		default:
		}
		blk.buf = nil
	}
	return nil
}

// formatter turns events into CSV lines.
type formatter struct {
	cat       *catalog
	start     int64    // Config.Start in Unix seconds
	firstDay  int64    // Unix day of Start
	dates     [][]byte // "2006-01-02 " of each day from firstDay
	base      []int64
	orderID   []uint32
	countries [][]byte
}

func newFormatter(cfg Config, cat *catalog, base []int64, orderID []uint32) *formatter {
	f := &formatter{cat: cat, start: cfg.Start.Unix(), base: base, orderID: orderID}
	f.firstDay = floorDiv(f.start, 86400)
	lastDay := floorDiv(cfg.End.Unix(), 86400)
	for d := f.firstDay; d <= lastDay; d++ {
		f.dates = append(f.dates, []byte(time.Unix(d*86400, 0).UTC().Format("2006-01-02 ")))
	}
	for _, c := range countries {
		f.countries = append(f.countries, []byte(c))
	}
	return f
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// firstOrderID is the number of the first order; later orders count up
// from it in time order. Returns have "C" and the order's number.
const firstOrderID = 1_000_000

func (f *formatter) appendLines(b []byte, events []event) []byte {
	for i := range events {
		b = f.appendLine(b, &events[i])
	}
	return b
}

func (f *formatter) appendLine(b []byte, e *event) []byte {
	kind := int(e.flags&kindMask) >> kindShift
	var bad string
	if kind > 0 {
		bad = malformedKinds[kind-1]
	}
	// order_id
	if bad != features.ReasonEmptyOrderID {
		if e.flags&flagReturn != 0 {
			b = append(b, 'C')
		}
		b = strconv.AppendUint(b, uint64(firstOrderID+f.orderID[f.base[e.cust]+int64(e.seq)]), 10)
	}
	b = append(b, ',')
	// customer_id
	if e.flags&flagGuest == 0 {
		b = strconv.AppendUint(b, uint64(e.cust)+1, 10)
	}
	b = append(b, ',')
	// item_id, quantity, unit_price
	if bad != features.ReasonEmptyItemID {
		b = append(b, f.cat.id(int32(e.item))...)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(e.qty), 10)
	if bad == features.ReasonBadQuantity {
		b = append(b, " pcs"...)
	}
	b = append(b, ',')
	b = append(b, f.cat.price(int32(e.item))...)
	if bad == features.ReasonBadUnitPrice {
		b = append(b, " EUR"...)
	}
	b = append(b, ',')
	// ordered_at
	abs := f.start + int64(e.t)
	day := floorDiv(abs, 86400)
	sec := int(abs - day*86400)
	date := f.dates[day-f.firstDay]
	if bad == features.ReasonBadOrderedAt {
		// A US-style date: 03/25/2025 14:02
		b = append(b, date[5], date[6], '/', date[8], date[9], '/')
		b = append(b, date[:4]...)
		b = append(b, ' ')
		b = append2(b, sec/3600)
		b = append(b, ':')
		b = append2(b, sec/60%60)
	} else {
		b = append(b, date...)
		b = append2(b, sec/3600)
		b = append(b, ':')
		b = append2(b, sec/60%60)
		b = append(b, ':')
		b = append2(b, sec%60)
	}
	b = append(b, ',')
	// item_name,category
	b = append(b, f.cat.tail(int32(e.item))...)
	// country (left out, with its comma, for a wrong column count)
	if bad != features.ReasonColumnCount {
		b = append(b, ',')
		b = append(b, f.countries[e.flags>>countryShift]...)
	}
	return append(b, '\n')
}

func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}

// writeCustomers writes the customers' truth.
func writeCustomers(w io.Writer, cfg Config, truth []customerTruth) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.WriteString("customer_id,lambda_per_day,p_dropout,first_order,dropout_at,alive_at_end,orders\n")
	start := cfg.Start.Unix()
	var b []byte
	for i, tr := range truth {
		b = strconv.AppendInt(b[:0], int64(i)+1, 10)
		b = append(b, ',')
		b = strconv.AppendFloat(b, tr.lambda, 'g', 8, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, tr.p, 'g', 8, 64)
		b = append(b, ',')
		b = time.Unix(start+int64(tr.first), 0).UTC().AppendFormat(b, time.DateTime)
		b = append(b, ',')
		if tr.dropped {
			b = time.Unix(start+int64(tr.dropout), 0).UTC().AppendFormat(b, time.DateTime)
			b = append(b, ",false,"...)
		} else {
			b = append(b, ",true,"...)
		}
		b = strconv.AppendInt(b, int64(tr.orders), 10)
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeItems writes the catalog's truth.
func writeItems(w io.Writer, cat *catalog) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.WriteString("item_id,category,popularity_weight,price\n")
	var b []byte
	for i := range cat.weight {
		b = append(b[:0], cat.id(int32(i))...)
		b = append(b, ',')
		b = append(b, cat.catNames[cat.itemCat[i]]...)
		b = append(b, ',')
		b = strconv.AppendFloat(b, cat.weight[i], 'g', 8, 64)
		b = append(b, ',')
		b = append(b, cat.price(int32(i))...)
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}
