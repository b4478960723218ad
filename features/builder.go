package features

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/patron-crm/patron/internal/hash"
)

// maxIDBytes bounds ids: longer ones are rejected, not truncated.
const maxIDBytes = 256

// builder applies the cleaning rules line by line and accumulates the
// Dataset. Kept lines are stored column by column until finish.
type builder struct {
	opts      Options
	sum       Summary
	reasons   map[string]*ReasonStat
	rejects   *csv.Writer
	progress  func(lines int64)
	before    int64 // Unix seconds; lines at or after are dropped (when hasBefore)
	hasBefore bool

	customers IDs
	items     IDs
	orders    IDs
	ordCust   []int32 // customer of each order, -1 for guests
	itemName  []string
	itemCat   []string
	custCtry  []string
	countries map[string]struct{}
	// Ids seen only on dropped lines, so the summary can count every id
	// of the file, not only those that made it into the Dataset.
	seenOnly [3]map[string]struct{} // order, item, customer

	// Kept lines, column by column.
	lOrder []int32
	lItem  []int32
	lQty   []float64 // as in the input: negative for most returns
	lPrice []float64
	lTime  []int64
	lLine  []uint32 // input line number (files of over 4 billion lines wrap, in messages only)
	lRet   []bool   // a return or cancellation line
	lNext  []int32  // previous kept line of the same order, -1 at its first

	// Duplicate detection, per order (see isDuplicate).
	ordLast  []int32            // last kept line of each order, -1 when none
	ordLines []int32            // kept lines of each order
	bigOrder map[int32]*lineSet // line sets of orders with many lines

	// suppLast is the last customer id asked about in isSuppressed.
	suppLast struct {
		valid, yes bool
		id         []byte
	}

	// The previous kept line's order, customer and country: the lines of an
	// order are usually adjacent, so most lines skip the id maps.
	last struct {
		valid          bool
		orderID, cust  []byte
		ord, custIndex int32
		country        []byte
	}
}

func newBuilder(opts Options) *builder {
	b := &builder{
		opts:      opts,
		reasons:   map[string]*ReasonStat{},
		customers: newIDs(1024),
		items:     newIDs(1024),
		orders:    newIDs(4096),
		countries: map[string]struct{}{},
		seenOnly:  [3]map[string]struct{}{{}, {}, {}},
	}
	b.sum.Source = opts.Source
	b.sum.MaxErrorRate = opts.MaxErrorRate
	if !opts.Before.IsZero() {
		b.before, b.hasBefore = opts.Before.Unix(), true
		b.sum.Before = opts.Before.UTC()
	}
	return b
}

// count records that rule reason applied to a line and writes it to the
// rejects file.
func (b *builder) count(reason string, line int64, field Column, detail string, raw []byte) {
	r := b.reasons[reason]
	if r == nil {
		kind := "rejected"
		if dropReasons[reason] {
			kind = "dropped"
		}
		r = &ReasonStat{Reason: reason, Kind: kind}
		b.reasons[reason] = r
	}
	r.Count++
	if r.Kind == "rejected" {
		b.sum.Rejected++
	} else {
		b.sum.Dropped++
	}
	fieldName := ""
	if field >= 0 {
		fieldName = field.String()
	}
	if reason == ReasonSuppressed {
		// A forgotten customer's lines leave no text anywhere: the
		// summary and the rejects file get the line number only.
		if len(r.Examples) < maxExamples {
			r.Examples = append(r.Examples, Example{Line: line, Detail: "customer on the suppression list (forgotten)"})
		}
		if b.rejects != nil {
			_ = b.rejects.Write([]string{strconv.FormatInt(line, 10), r.Kind, reason, "", "", ""})
		}
		return
	}
	if len(r.Examples) < maxExamples {
		r.Examples = append(r.Examples, Example{Line: line, Field: fieldName, Detail: detail, Text: exampleText(raw)})
	}
	if b.rejects != nil {
		// Errors are sticky in csv.Writer and checked after the run.
		_ = b.rejects.Write([]string{strconv.FormatInt(line, 10), r.Kind, reason, fieldName, detail,
			string(bytes.ToValidUTF8(raw, []byte("\uFFFD")))})
	}
}

// isSuppressed asks Options.Suppressed about a customer id, remembering
// the last answer: a customer's lines are usually adjacent, and the check
// may cost a hash.
func (b *builder) isSuppressed(custID []byte) bool {
	if b.suppLast.valid && bytes.Equal(custID, b.suppLast.id) {
		return b.suppLast.yes
	}
	yes := b.opts.Suppressed(custID)
	b.suppLast.valid, b.suppLast.yes = true, yes
	b.suppLast.id = append(b.suppLast.id[:0], custID...)
	return yes
}

const noField Column = -1

// readCSV reads the header and then every record.
func (b *builder) readCSV(ctx context.Context, r io.Reader) error {
	s := newRecordScanner(r, b.opts.Delimiter)
	// Header.
	var hm headerMap
	for {
		err := s.next()
		if err == nil {
			if !utf8.Valid(s.raw) {
				return fmt.Errorf("read orders %s line %d: the header is not valid UTF-8: save the file as UTF-8", b.opts.Source, s.startLine)
			}
			header := make([]string, len(s.fields))
			for i, f := range s.fields {
				header[i] = string(f)
			}
			hm, err = resolveHeader(header, b.opts.Columns)
			if err != nil {
				return fmt.Errorf("read orders %s line %d: %w", b.opts.Source, s.startLine, err)
			}
			b.sum.Columns = map[string]string{}
			for c, i := range hm.index {
				if i >= 0 {
					b.sum.Columns[Column(c).String()] = header[i]
				}
			}
			b.sum.IgnoredColumns = hm.ignored
			break
		}
		if err == errQuote || err == errTooLong {
			return fmt.Errorf("read orders %s line %d: cannot read the header: %v", b.opts.Source, s.startLine, err)
		}
		if err == io.EOF {
			return fmt.Errorf("read orders %s: the file is empty: give an order file with a header line and at least one order line", b.opts.Source)
		}
		return fmt.Errorf("read orders %s: %w", b.opts.Source, err)
	}
	var f [numColumns][]byte
	for {
		err := s.next()
		if err != nil {
			switch err {
			case errQuote:
				b.sum.Lines++
				b.count(ReasonBadQuoting, s.startLine, noField, err.Error(), s.raw)
				continue
			case errTooLong:
				b.sum.Lines++
				b.count(ReasonLineTooLong, s.startLine, noField, err.Error(), s.raw)
				continue
			}
			b.sum.BlankLines = s.blank
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("read orders %s line %d: %w", b.opts.Source, s.line, err)
		}
		b.sum.Lines++
		if b.sum.Lines&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			b.progress(b.sum.Lines)
		}
		if len(s.fields) != hm.width {
			b.count(ReasonColumnCount, s.startLine, noField,
				fmt.Sprintf("expected %d fields as in the header, found %d", hm.width, len(s.fields)), s.raw)
			continue
		}
		if !utf8.Valid(s.raw) {
			b.count(ReasonInvalidUTF8, s.startLine, noField, "the line is not valid UTF-8", s.raw)
			continue
		}
		for c, i := range hm.index {
			if i >= 0 {
				f[c] = s.fields[i]
			} else {
				f[c] = nil
			}
		}
		b.add(&f, s.raw, s.startLine)
	}
}

// add applies the cleaning rules to one well-split line and keeps it or
// counts why not. f holds the line's value for each canonical column.
func (b *builder) add(f *[numColumns][]byte, raw []byte, line int64) {
	orderID, ok := b.id(f[ColOrderID], ColOrderID, ReasonEmptyOrderID, raw, line)
	if !ok {
		return
	}
	itemID, ok := b.id(f[ColItemID], ColItemID, ReasonEmptyItemID, raw, line)
	if !ok {
		return
	}
	custID, ok := b.id(f[ColCustomerID], ColCustomerID, "", raw, line)
	if !ok {
		return
	}
	if len(custID) > 0 && b.opts.Suppressed != nil && b.isSuppressed(custID) {
		b.count(ReasonSuppressed, line, noField, "", nil)
		return
	}
	qty, err := parseNumber(bytes.TrimSpace(f[ColQuantity]))
	if err != nil {
		b.count(ReasonBadQuantity, line, ColQuantity, fmt.Sprintf("%q is %v", f[ColQuantity], err), raw)
		return
	}
	price, err := parseNumber(bytes.TrimSpace(f[ColUnitPrice]))
	if err != nil {
		b.count(ReasonBadUnitPrice, line, ColUnitPrice, fmt.Sprintf("%q is %v", f[ColUnitPrice], err), raw)
		return
	}
	at, err := parseTime(bytes.TrimSpace(f[ColOrderedAt]), b.opts.Location)
	if err != nil {
		b.count(ReasonBadOrderedAt, line, ColOrderedAt, fmt.Sprintf("%q is an %v", f[ColOrderedAt], err), raw)
		return
	}

	// The line is well formed: record its properties, then the cleaning rules.
	guest := len(custID) == 0
	if guest {
		b.sum.WithoutCustomer++
	}
	cancel := isCancellation(orderID)
	if cancel {
		b.sum.Cancellations++
	}
	if qty < 0 {
		b.sum.NegativeQuantity++
	}
	if b.hasBefore && at >= b.before {
		b.count(ReasonAfterAsOf, line, ColOrderedAt, "on or after the as-of date", raw)
		b.seen(orderID, itemID, custID)
		return
	}
	item, knownItem := b.items.lookup(itemID)
	if !knownItem && b.opts.NonProduct.Match(itemID) {
		b.count(ReasonNonProduct, line, ColItemID, fmt.Sprintf("item %q is not a product (postage, fee or adjustment)", itemID), raw)
		b.seen(orderID, itemID, custID)
		return
	}
	if qty == 0 {
		b.count(ReasonZeroQuantity, line, ColQuantity, "quantity is 0", raw)
		b.seen(orderID, itemID, custID)
		return
	}
	if price <= 0 {
		b.count(ReasonNonPositivePrice, line, ColUnitPrice, fmt.Sprintf("unit price %v is not positive", price), raw)
		b.seen(orderID, itemID, custID)
		return
	}

	// One order belongs to one customer.
	cust := int32(-1)
	if !guest {
		if b.last.valid && b.last.custIndex >= 0 && bytes.Equal(custID, b.last.cust) {
			cust = b.last.custIndex
		} else if c, ok := b.customers.lookup(custID); ok {
			cust = c
		} else {
			cust = -2 // not seen yet
		}
	}
	var ord int32
	var known bool
	if b.last.valid && bytes.Equal(orderID, b.last.orderID) {
		ord, known = b.last.ord, true
	} else {
		ord, known = b.orders.lookup(orderID)
	}
	if known && b.ordCust[ord] != cust {
		b.count(ReasonOrderConflict, line, ColCustomerID,
			fmt.Sprintf("order %s belongs to %s, this line to %s", orderID, b.customerName(b.ordCust[ord]), b.customerName2(custID)), raw)
		return
	}
	if cust == -2 {
		cust = b.customers.add(custID)
		b.custCtry = append(b.custCtry, "")
	}
	if !known {
		ord = b.orders.add(orderID)
		b.ordCust = append(b.ordCust, cust)
		b.ordLast = append(b.ordLast, -1)
		b.ordLines = append(b.ordLines, 0)
	}
	if !knownItem {
		item = b.items.add(itemID)
		b.itemName = append(b.itemName, "")
		b.itemCat = append(b.itemCat, "")
	}

	// Exact duplicates: same order, item, quantity, price and time.
	if len(b.lOrder) == cap(b.lOrder) {
		b.reserve(max(len(b.lOrder), 1<<14))
	}
	n := int32(len(b.lOrder))
	b.lOrder = append(b.lOrder, ord)
	b.lItem = append(b.lItem, item)
	b.lQty = append(b.lQty, qty)
	b.lPrice = append(b.lPrice, price)
	b.lTime = append(b.lTime, at)
	if first, dup := b.isDuplicate(n); dup {
		b.lOrder, b.lItem, b.lQty, b.lPrice, b.lTime = b.lOrder[:n], b.lItem[:n], b.lQty[:n], b.lPrice[:n], b.lTime[:n]
		b.count(ReasonDuplicate, line, noField, fmt.Sprintf("same as line %d", b.lLine[first]), raw)
		return
	}
	b.last.valid, b.last.ord, b.last.custIndex = true, ord, cust
	b.last.orderID = append(b.last.orderID[:0], orderID...)
	b.last.cust = append(b.last.cust[:0], custID...)
	b.lNext = append(b.lNext, b.ordLast[ord])
	b.ordLast[ord] = n
	b.ordLines[ord]++
	ret := cancel || qty < 0
	b.lLine = append(b.lLine, uint32(line))
	b.lRet = append(b.lRet, ret)
	b.sum.Kept++
	switch {
	case ret && guest:
		b.sum.GuestReturnLines++
	case ret:
		b.sum.ReturnLines++
	case guest:
		b.sum.GuestPurchaseLines++
	default:
		b.sum.PurchaseLines++
	}

	// Catalog and customer fields, first non-empty value wins.
	if name := f[ColItemName]; len(name) > 0 && b.itemName[item] == "" && !ret {
		b.itemName[item] = string(bytes.TrimSpace(name))
	}
	if cat := f[ColCategory]; len(cat) > 0 && b.itemCat[item] == "" {
		b.itemCat[item] = string(bytes.TrimSpace(cat))
	}
	if ctry := bytes.TrimSpace(f[ColCountry]); len(ctry) > 0 {
		if !bytes.Equal(ctry, b.last.country) {
			if _, seen := b.countries[string(ctry)]; !seen {
				b.countries[string(ctry)] = struct{}{}
			}
			b.last.country = append(b.last.country[:0], ctry...)
		}
		if cust >= 0 && b.custCtry[cust] == "" {
			b.custCtry[cust] = string(ctry)
		}
	}
}

// isCancellation reports whether an order id marks a cancellation: "C"
// followed by a digit, as in the UCI Online Retail export ("C536379"). Ids
// such as "CA-2016-152156" are ordinary orders.
func isCancellation(orderID []byte) bool {
	return len(orderID) >= 2 && orderID[0] == 'C' && orderID[1] >= '0' && orderID[1] <= '9'
}

// reserve makes room for n more kept lines, giving every column the same
// capacity. Columns double: append alone grows large slices by only 1.25x,
// copying each line many times.
func (b *builder) reserve(n int) {
	c := len(b.lOrder) + n
	b.lOrder = growTo(b.lOrder, c)
	b.lItem = growTo(b.lItem, c)
	b.lQty = growTo(b.lQty, c)
	b.lPrice = growTo(b.lPrice, c)
	b.lTime = growTo(b.lTime, c)
	b.lLine = growTo(b.lLine, c)
	b.lRet = growTo(b.lRet, c)
	b.lNext = growTo(b.lNext, c)
}

func growTo[T any](s []T, c int) []T {
	n := make([]T, len(s), c)
	copy(n, s)
	return n
}

// seen notes the ids of a dropped line that are not in the Dataset.
func (b *builder) seen(orderID, itemID, custID []byte) {
	for k, id := range [3][]byte{orderID, itemID, custID} {
		if len(id) == 0 {
			continue
		}
		var known bool
		switch k {
		case 0:
			_, known = b.orders.lookup(id)
		case 1:
			_, known = b.items.lookup(id)
		case 2:
			_, known = b.customers.lookup(id)
		}
		if _, ok := b.seenOnly[k][string(id)]; !known && !ok {
			b.seenOnly[k][string(id)] = struct{}{}
		}
	}
}

// distinct counts the ids of kind k in the file: those in ids plus those
// seen only on dropped lines.
func (b *builder) distinct(k int, ids *IDs) int {
	n := ids.Len()
	for id := range b.seenOnly[k] {
		if _, ok := ids.Index(id); !ok {
			n++
		}
	}
	return n
}

func (b *builder) customerName(c int32) string {
	if c < 0 {
		return "a guest"
	}
	return "customer " + b.customers.Name(c)
}

func (b *builder) customerName2(id []byte) string {
	if len(id) == 0 {
		return "a guest"
	}
	return "customer " + string(id)
}

// id trims and normalises an id field: "17850.0" becomes "17850". An empty
// id is rejected with emptyReason, or allowed when emptyReason is "" (a
// guest's customer id). Over-long ids and ids with control characters are
// rejected.
func (b *builder) id(v []byte, col Column, emptyReason string, raw []byte, line int64) ([]byte, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		if emptyReason != "" {
			b.count(emptyReason, line, col, "empty "+col.String(), raw)
			return nil, false
		}
		return v, true
	}
	if len(v) > maxIDBytes {
		b.count(ReasonBadID, line, col, fmt.Sprintf("%s is %d bytes long, more than %d", col, len(v), maxIDBytes), raw)
		return nil, false
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			b.count(ReasonBadID, line, col, fmt.Sprintf("%s %q contains a control character", col, v), raw)
			return nil, false
		}
	}
	if n := normalisedLen(v); n < len(v) {
		b.sum.NormalisedIDs++
		v = v[:n]
	}
	return v, true
}

// NormaliseID returns id as the reader keeps it: trimmed, and an integer
// written as a float ("17850.0") without its ".0". An id that comes from
// outside a Dataset (a forget request, a field of a raw order line) goes
// through it to name the same customer as the orders do.
func NormaliseID(id string) string {
	id = strings.TrimSpace(id)
	return id[:normalisedLen([]byte(id))]
}

// normalisedLen returns the length of v without a ".0" suffix when v is an
// integer written as a float ("17850.0", "17850.00"), else len(v).
func normalisedLen(v []byte) int {
	dot := bytes.IndexByte(v, '.')
	if dot <= 0 || dot == len(v)-1 {
		return len(v)
	}
	for _, c := range v[:dot] {
		if c < '0' || c > '9' {
			return len(v)
		}
	}
	for _, c := range v[dot+1:] {
		if c != '0' {
			return len(v)
		}
	}
	return dot
}

// bigOrderLines is the size from which an order's duplicates are found with
// a hash set instead of by walking its lines.
const bigOrderLines = 48

// isDuplicate reports whether kept line n (already in the columns, not yet
// linked to its order) repeats a kept line of the same order, and which.
//
// Exact duplicates share their order, so only that order's lines are
// compared. Orders are short and usually contiguous in a file, so walking
// the order's previous lines touches memory that is still in cache; a
// global hash table of every line would cost a cache miss per line. Orders
// longer than bigOrderLines get their own hash set, which bounds the work
// per line whatever the input.
func (b *builder) isDuplicate(n int32) (int32, bool) {
	ord := b.lOrder[n]
	if b.ordLines[ord] < bigOrderLines {
		for j := b.ordLast[ord]; j >= 0; j = b.lNext[j] {
			if b.sameLine(j, n) {
				return j, true
			}
		}
		return 0, false
	}
	set := b.bigOrder[ord]
	if set == nil {
		if b.bigOrder == nil {
			b.bigOrder = map[int32]*lineSet{}
		}
		set = &lineSet{}
		for j := b.ordLast[ord]; j >= 0; j = b.lNext[j] {
			set.insert(b, j)
		}
		b.bigOrder[ord] = set
	}
	return set.insert(b, n)
}

func (b *builder) lineHash(i int32) uint32 {
	h := hash.Mix64(uint64(b.lOrder[i])<<32 | uint64(uint32(b.lItem[i])))
	h = hash.Mix64(h ^ math.Float64bits(b.lQty[i]))
	h = hash.Mix64(h ^ math.Float64bits(b.lPrice[i]))
	return uint32(hash.Mix64(h ^ uint64(b.lTime[i])))
}

// sameLine compares two kept lines, the item first: it differs for most
// pairs of lines of one order.
func (b *builder) sameLine(i, j int32) bool {
	return b.lItem[i] == b.lItem[j] && b.lOrder[i] == b.lOrder[j] && b.lQty[i] == b.lQty[j] &&
		b.lPrice[i] == b.lPrice[j] && b.lTime[i] == b.lTime[j]
}

// lineSet is an open-addressing hash set of kept line indices whose keys
// live in the builder's columns. Each 8-byte slot holds the line's hash
// beside its index, so probes and growth never touch the columns except to
// confirm a likely match.
type lineSet struct {
	slots []uint64 // 0 is empty, otherwise hash<<32 | (line index + 1)
	n     int
}

// insert adds line i unless an equal line is present; then it returns that
// line's index and true.
func (s *lineSet) insert(b *builder, i int32) (int32, bool) {
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	h := b.lineHash(i)
	mask := uint32(len(s.slots) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		v := s.slots[p]
		if v == 0 {
			s.slots[p] = uint64(h)<<32 | uint64(i+1)
			s.n++
			return 0, false
		}
		if uint32(v>>32) == h {
			if j := int32(uint32(v)) - 1; b.sameLine(j, i) {
				return j, true
			}
		}
	}
}

func (s *lineSet) grow() {
	size := 64
	for 4*(s.n+1) > 3*size/2 {
		size <<= 1
	}
	old := s.slots
	s.slots = make([]uint64, size)
	mask := uint32(size - 1)
	for _, v := range old {
		if v == 0 {
			continue
		}
		p := uint32(v>>32) & mask
		for s.slots[p] != 0 {
			p = (p + 1) & mask
		}
		s.slots[p] = v
	}
}

// finish turns the kept lines into a Dataset: chronological orders, the
// order x item and customer x item matrices, timelines and returns.
func (b *builder) finish() *Dataset {
	ds := &Dataset{
		Customers:       b.customers,
		Items:           b.items,
		ItemName:        b.itemName,
		ItemCategory:    b.itemCat,
		CustomerCountry: b.custCtry,
	}
	nOrd := b.orders.Len()
	nLines := len(b.lOrder)

	// Order times (earliest line) and which orders have purchase lines.
	ordTime := make([]int64, nOrd)
	for i := range ordTime {
		ordTime[i] = math.MaxInt64
	}
	purchLines := make([]int32, nOrd)
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for i := 0; i < nLines; i++ {
		o, t := b.lOrder[i], b.lTime[i]
		if t < ordTime[o] {
			ordTime[o] = t
		}
		if !b.lRet[i] {
			purchLines[o]++
		}
		first, last = min(first, t), max(last, t)
	}

	// Purchase orders in time order (ties keep input order).
	perm := make([]int32, 0, nOrd)
	for o := 0; o < nOrd; o++ {
		if purchLines[o] > 0 {
			perm = append(perm, int32(o))
		}
	}
	sort.SliceStable(perm, func(i, j int) bool { return ordTime[perm[i]] < ordTime[perm[j]] })
	newID := make([]int32, nOrd)
	for i := range newID {
		newID[i] = -1
	}
	ds.Orders = make([]Order, len(perm))
	for i, o := range perm {
		newID[o] = int32(i)
		ds.Orders[i] = Order{ID: b.orders.Name(o), Customer: b.ordCust[o], Time: ordTime[o]}
	}

	// Order x item: bucket purchase lines by order, then merge repeated items.
	ptr := make([]int, len(perm)+1)
	for i := 0; i < nLines; i++ {
		if !b.lRet[i] {
			ptr[newID[b.lOrder[i]]+1]++
		}
	}
	for i := 1; i < len(ptr); i++ {
		ptr[i] += ptr[i-1]
	}
	nPurch := ptr[len(perm)]
	idx := make([]int32, nPurch)
	qty := make([]float64, nPurch)
	val := make([]float64, nPurch)
	fill := append([]int(nil), ptr[:len(perm)]...)
	for i := 0; i < nLines; i++ {
		if b.lRet[i] {
			continue
		}
		o := newID[b.lOrder[i]]
		p := fill[o]
		fill[o]++
		idx[p], qty[p], val[p] = b.lItem[i], b.lQty[i], b.lQty[i]*b.lPrice[i]
	}
	ds.OrderItems, ds.OrderItemValue = mergeRows(len(perm), b.items.Len(), ptr, idx, qty, val)
	for o := range ds.Orders {
		v := 0.0
		for _, x := range ds.OrderItemValue[ds.OrderItems.Ptr[o]:ds.OrderItems.Ptr[o+1]] {
			v += x
		}
		ds.Orders[o].Value = v
	}

	// Timelines and the customer x item matrix (orders containing each item).
	nCust := b.customers.Len()
	ds.CustomerOrders = groupBy(nCust, len(ds.Orders), func(o int) int32 { return ds.Orders[o].Customer })
	ds.CustomerItems = customerItems(ds, nCust, b.items.Len())

	// Returns, oldest first.
	for i := 0; i < nLines; i++ {
		if !b.lRet[i] {
			continue
		}
		o := b.lOrder[i]
		ds.Returns = append(ds.Returns, ReturnLine{
			OrderID: b.orders.Name(o), Customer: b.ordCust[o], Item: b.lItem[i], Time: b.lTime[i],
			Quantity: math.Abs(b.lQty[i]), Value: math.Abs(b.lQty[i]) * b.lPrice[i],
		})
	}
	sort.SliceStable(ds.Returns, func(i, j int) bool { return ds.Returns[i].Time < ds.Returns[j].Time })
	ds.CustomerReturns = groupBy(nCust, len(ds.Returns), func(r int) int32 { return ds.Returns[r].Customer })

	// Summary.
	s := &b.sum
	s.Customers, s.Items, s.Orders, s.Countries = nCust, b.items.Len(), len(ds.Orders), len(b.countries)
	for _, o := range ds.Orders {
		if o.Customer < 0 {
			s.GuestOrders++
		}
	}
	retOrders := map[string]struct{}{}
	for _, r := range ds.Returns {
		retOrders[r.OrderID] = struct{}{}
	}
	s.ReturnOrders = len(retOrders)
	s.OrderIDs = b.distinct(0, &b.orders)
	s.ItemIDs = b.distinct(1, &b.items)
	s.CustomerIDs = b.distinct(2, &b.customers)
	if nLines > 0 {
		s.First, s.Last = time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC()
	}
	if s.Lines > 0 {
		s.ErrorRate = float64(s.Rejected) / float64(s.Lines)
	}
	for _, r := range b.reasons {
		s.Reasons = append(s.Reasons, *r)
	}
	sortReasons(s.Reasons)
	if s.Reasons == nil {
		s.Reasons = []ReasonStat{}
	}
	ds.Summary = *s
	return ds
}

// groupBy lists the indices 0..n-1 by the row key(i) returns (rows
// 0..rows-1; negative keys are left out), keeping increasing index order.
func groupBy(rows, n int, key func(int) int32) Index {
	ptr := make([]int, rows+1)
	for i := 0; i < n; i++ {
		if k := key(i); k >= 0 {
			ptr[k+1]++
		}
	}
	for r := 1; r <= rows; r++ {
		ptr[r] += ptr[r-1]
	}
	idx := make([]int32, ptr[rows])
	fill := append([]int(nil), ptr[:rows]...)
	for i := 0; i < n; i++ {
		if k := key(i); k >= 0 {
			idx[fill[k]] = int32(i)
			fill[k]++
		}
	}
	return Index{Ptr: ptr, Idx: idx}
}

// customerItems builds the customer x item matrix: for each customer, the
// items of their orders with the number of orders containing each. A dense
// scratch row (one slot per item) collects a customer's counts, so the cost
// is linear in the order lines plus a sort of each customer's distinct items.
func customerItems(ds *Dataset, nCust, nItems int) CSR {
	count := make([]float64, nItems)
	ptr := make([]int, nCust+1)
	bound := 0 // the customers' order lines: at least the distinct pairs
	for o := range ds.Orders {
		if ds.Orders[o].Customer >= 0 {
			bound += ds.OrderItems.Ptr[o+1] - ds.OrderItems.Ptr[o]
		}
	}
	idx := make([]int32, 0, bound)
	val := make([]float64, 0, bound)
	for c := 0; c < nCust; c++ {
		start := len(idx)
		for _, o := range ds.CustomerOrders.Of(c) {
			items, _ := ds.OrderItems.Row(int(o))
			for _, it := range items {
				if count[it] == 0 {
					idx = append(idx, it)
				}
				count[it]++
			}
		}
		row := idx[start:]
		slices.Sort(row)
		for _, it := range row {
			val = append(val, count[it])
			count[it] = 0
		}
		ptr[c+1] = len(idx)
	}
	return CSR{Rows: nCust, Cols: nItems, Ptr: ptr, Idx: idx, Val: val}
}

// mergeRows sorts each row of a bucketed matrix by column and merges
// repeated columns by summing their values (and aux values when aux is not
// nil). It returns the compacted matrix and aux.
func mergeRows(rows, cols int, ptr []int, idx []int32, val, aux []float64) (CSR, []float64) {
	out := 0
	newPtr := make([]int, rows+1)
	var keys []uint64
	var tv, ta []float64
	for r := 0; r < rows; r++ {
		a, e := ptr[r], ptr[r+1]
		if !slices.IsSorted(idx[a:e]) {
			// Sort (column, position) pairs packed in one integer, then
			// permute the values the same way.
			keys = keys[:0]
			for i := a; i < e; i++ {
				keys = append(keys, uint64(idx[i])<<32|uint64(i-a))
			}
			slices.Sort(keys)
			tv = append(tv[:0], val[a:e]...)
			if aux != nil {
				ta = append(ta[:0], aux[a:e]...)
			}
			for k, key := range keys {
				idx[a+k] = int32(key >> 32)
				val[a+k] = tv[key&0xffffffff]
				if aux != nil {
					aux[a+k] = ta[key&0xffffffff]
				}
			}
		}
		for i := a; i < e; i++ {
			if out > newPtr[r] && idx[out-1] == idx[i] {
				val[out-1] += val[i]
				if aux != nil {
					aux[out-1] += aux[i]
				}
				continue
			}
			idx[out], val[out] = idx[i], val[i]
			if aux != nil {
				aux[out] = aux[i]
			}
			out++
		}
		newPtr[r+1] = out
	}
	m := CSR{Rows: rows, Cols: cols, Ptr: newPtr, Idx: idx[:out:out], Val: val[:out:out]}
	if aux != nil {
		aux = aux[:out:out]
	}
	return m, aux
}
