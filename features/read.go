package features

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Format names an input format.
type Format string

// Input formats. FormatAuto looks at the first byte: '{' means JSON Lines.
const (
	FormatAuto  Format = ""
	FormatCSV   Format = "csv"
	FormatJSONL Format = "jsonl"
)

// Options configures Read. The zero value reads CSV or JSON Lines with the
// default cleaning rules, timestamps in UTC and a 1% error-rate limit.
type Options struct {
	// Source names the input in messages and the summary (a file name, or "stdin").
	Source string
	// Format forces CSV or JSON Lines; FormatAuto detects it.
	Format Format
	// Delimiter separates CSV fields; 0 means ','.
	Delimiter byte
	// Columns maps canonical column names to the input's names
	// (see ParseColumnMap); aliases cover common exports otherwise.
	Columns map[string]string
	// Location reads timestamps that carry no zone; nil means UTC.
	Location *time.Location
	// NonProduct decides which item ids are not products (postage, fees,
	// adjustments); nil means DefaultNonProduct.
	NonProduct *NonProductRules
	// MaxErrorRate is the largest share of rejected (malformed) lines
	// accepted; 0 means the default 1%, a negative value means no limit.
	MaxErrorRate float64
	// Before, when set, drops lines at or after it (training as of a date).
	Before time.Time
	// Rejects, when set, receives every rejected or dropped line as CSV:
	// line,kind,reason,field,detail,text.
	Rejects io.Writer
	// Suppressed, when set, reports whether a (normalised) customer id is
	// on the suppression list of forgotten customers; their lines are
	// dropped with reason "suppressed_customer" and counted, their text
	// kept nowhere.
	Suppressed func(customerID []byte) bool
	// Progress, when set, is called about every 64k lines.
	Progress func(Progress)
	// SizeHint is the expected size of the uncompressed input in bytes (0
	// when unknown). Read uses it to allocate its columns once instead of
	// growing them; ReadFile sets it from the file.
	SizeHint int64
}

// Progress reports how far Read has got.
type Progress struct {
	Bytes int64 // input bytes consumed (compressed, if gzip)
	Lines int64
}

// DefaultMaxErrorRate is the share of malformed lines tolerated by default.
const DefaultMaxErrorRate = 0.01

// NoMalformedLines is the MaxErrorRate that fails on any malformed line.
const NoMalformedLines = math.SmallestNonzeroFloat64

// ErrTooManyRejects is returned (wrapped) when the share of rejected lines
// exceeds Options.MaxErrorRate. The summary is returned with it.
var ErrTooManyRejects = errors.New("too many rejected lines")

// ReadFile reads an order file ("-" means stdin) into a Dataset.
// See Read.
func ReadFile(ctx context.Context, path string, opts Options) (*Dataset, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
		if opts.Source == "" {
			opts.Source = "stdin"
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open orders: %w", err)
		}
		defer f.Close()
		r = f
		if opts.SizeHint == 0 {
			opts.SizeHint = uncompressedSize(f)
		}
		if opts.Source == "" {
			opts.Source = path
		}
	}
	return Read(ctx, r, opts)
}

// Read streams an order history (CSV or JSON Lines, plain or gzip, detected)
// from r, cleans it and builds a Dataset in one pass. Bad lines are counted
// by reason in the Dataset's Summary and written to opts.Rejects; nothing is
// dropped without a count. It fails at once when required columns are
// missing or the input is empty, and at the end when the share of malformed
// lines exceeds opts.MaxErrorRate; in that case the returned Dataset is nil
// but the error wraps ErrTooManyRejects and a *RejectsError with the Summary.
func Read(ctx context.Context, r io.Reader, opts Options) (*Dataset, error) {
	if opts.Source == "" {
		opts.Source = "input"
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.NonProduct == nil {
		opts.NonProduct = DefaultNonProduct()
	}
	if opts.MaxErrorRate == 0 {
		opts.MaxErrorRate = DefaultMaxErrorRate
	}
	if opts.Delimiter == 0 {
		opts.Delimiter = ','
	}
	if opts.Delimiter == '"' || opts.Delimiter == '\n' || opts.Delimiter == '\r' {
		return nil, fmt.Errorf("read orders %s: delimiter %q is not allowed", opts.Source, opts.Delimiter)
	}

	in := newInput(r)
	defer in.close()
	src, gz, err := in.open()
	if err != nil {
		return nil, fmt.Errorf("read orders %s: %w", opts.Source, err)
	}
	br := bufio.NewReaderSize(src, 64<<10)
	first, err := firstByte(br)
	if err == io.EOF {
		return nil, fmt.Errorf("read orders %s: the file is empty: give an order file with a header line and at least one order line", opts.Source)
	}
	if err != nil {
		return nil, fmt.Errorf("read orders %s: %w", opts.Source, err)
	}
	format := opts.Format
	if format == FormatAuto {
		format = FormatCSV
		if first == '{' {
			format = FormatJSONL
		}
	}

	b := newBuilder(opts)
	if opts.SizeHint > 0 {
		lines, orders := estimateLines(br, opts.SizeHint)
		b.reserve(lines)
		if orders > 4096 {
			b.orders = newIDs(orders) // a map sized once grows no more
		}
	}
	b.sum.Gzip = gz
	b.sum.Format = string(format)
	if opts.Rejects != nil {
		b.rejects = csv.NewWriter(opts.Rejects)
		if err := b.rejects.Write([]string{"line", "kind", "reason", "field", "detail", "text"}); err != nil {
			return nil, fmt.Errorf("write rejects: %w", err)
		}
	}
	b.progress = func(lines int64) {
		if opts.Progress != nil {
			opts.Progress(Progress{Bytes: in.consumed.Load(), Lines: lines})
		}
	}
	switch format {
	case FormatCSV:
		err = b.readCSV(ctx, br)
	case FormatJSONL:
		err = b.readJSONL(ctx, br)
	default:
		return nil, fmt.Errorf("read orders %s: unknown format %q (want csv or jsonl)", opts.Source, format)
	}
	if err == nil {
		err = in.err()
	}
	if err != nil {
		return nil, err
	}
	if b.rejects != nil {
		b.rejects.Flush()
		if err := b.rejects.Error(); err != nil {
			return nil, fmt.Errorf("write rejects: %w", err)
		}
	}
	b.sum.SHA256 = in.sum()
	b.sum.Bytes = in.consumed.Load()
	ds := b.finish()
	s := &ds.Summary
	if s.Lines == 0 {
		return nil, fmt.Errorf("read orders %s: no order lines after the header", opts.Source)
	}
	if opts.MaxErrorRate > 0 && s.ErrorRate > opts.MaxErrorRate {
		return nil, &RejectsError{Summary: *s}
	}
	return ds, nil
}

// uncompressedSize guesses the size of a file's content: its size, or for
// gzip the size its trailer records (modulo 4 GiB, so only a hint).
func uncompressedSize(f *os.File) int64 {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < 18 {
		return 0
	}
	var head [2]byte
	var tail [4]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return 0
	}
	if head[0] != 0x1f || head[1] != 0x8b {
		return fi.Size()
	}
	if _, err := f.ReadAt(tail[:], fi.Size()-4); err != nil {
		return 0
	}
	n := int64(binary.LittleEndian.Uint32(tail[:]))
	for n < fi.Size() { // the trailer holds the size modulo 4 GiB
		n += 1 << 32
	}
	return n
}

// estimateLines guesses the number of lines of an input of size bytes from
// the line lengths at its start.
func estimateLines(br *bufio.Reader, size int64) (lines, orders int) {
	p, _ := br.Peek(16 << 10)
	n := bytes.Count(p, []byte("\n"))
	if n < 2 {
		return 0, 0
	}
	est := size / int64(len(p)/n) * 21 / 20 // 5% spare
	lines = int(min(est, 1<<28))
	// Orders: the share of sample lines whose first field differs from the
	// line before (an order's lines are usually adjacent).
	changes, prev := 0, []byte(nil)
	for _, l := range bytes.Split(p, []byte("\n"))[1:] {
		first, _, _ := bytes.Cut(l, []byte(","))
		if !bytes.Equal(first, prev) {
			changes++
		}
		prev = first
	}
	return lines, int(int64(lines) * int64(changes) / int64(n))
}

// RejectsError reports that too many lines were malformed.
type RejectsError struct {
	Summary Summary
}

func (e *RejectsError) Error() string {
	s := &e.Summary
	top := ""
	for _, r := range s.Reasons {
		if r.Kind == "rejected" {
			top = fmt.Sprintf("; most common: %s (%s lines, first at line %d)", r.Reason, comma(r.Count), r.Examples[0].Line)
			break
		}
	}
	return fmt.Sprintf("read orders %s: %s of %s lines (%.2f%%) were rejected as malformed, more than the limit of %.2f%%%s: "+
		"fix the file (--rejects FILE lists every bad line) or raise --max-error-rate",
		s.Source, comma(s.Rejected), comma(s.Lines), 100*s.ErrorRate, 100*s.MaxErrorRate, top)
}

// Unwrap lets errors.Is(err, ErrTooManyRejects) match.
func (e *RejectsError) Unwrap() error { return ErrTooManyRejects }

// firstByte returns the first byte of the data that is not a byte order
// mark or white space, without consuming anything; io.EOF when there is none.
func firstByte(br *bufio.Reader) (byte, error) {
	p, err := br.Peek(4096)
	if len(p) == 0 {
		if err == nil {
			err = io.EOF
		}
		return 0, err
	}
	rest := bytes.TrimLeft(bytes.TrimPrefix(p, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(rest) == 0 {
		if len(p) < 4096 {
			return 0, io.EOF // only white space
		}
		return ' ', nil
	}
	return rest[0], nil
}

// input reads the raw stream on its own goroutine, hashing and (for gzip)
// decompressing it, so parsing on the caller's goroutine uses the second core.
type input struct {
	raw      io.Reader
	consumed atomic.Int64
	hash     hash.Hash
	blocks   chan []byte
	free     chan []byte
	done     chan struct{}
	cur      []byte // unread part of the current block
	curBuf   []byte // the current block's whole buffer, to recycle
	readErr  error
}

func newInput(r io.Reader) *input {
	return &input{raw: r, hash: sha256.New(), done: make(chan struct{})}
}

// counting hashes and counts the raw bytes as they are read.
type counting struct{ in *input }

func (c counting) Read(p []byte) (int, error) {
	n, err := c.in.raw.Read(p)
	if n > 0 {
		c.in.hash.Write(p[:n])
		c.in.consumed.Add(int64(n))
	}
	return n, err
}

// open detects gzip and starts the reading goroutine. It returns the
// decompressed stream.
func (in *input) open() (io.Reader, bool, error) {
	br := bufio.NewReaderSize(counting{in}, 64<<10)
	magic, _ := br.Peek(2)
	var src io.Reader = br
	gz := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, true, fmt.Errorf("gzip: %w", err)
		}
		src = zr
	}
	// Blocks are allocated as needed, small first, so a small input costs
	// little memory and a large one streams through six 512 KiB blocks.
	const maxBlocks = 6
	in.blocks = make(chan []byte, maxBlocks-2)
	in.free = make(chan []byte, maxBlocks)
	go func() {
		defer close(in.blocks)
		allocated := 0
		for {
			var buf []byte
			select {
			case buf = <-in.free:
			default:
				if allocated < maxBlocks {
					buf = make([]byte, min(512<<10, 32<<10<<allocated))
					allocated++
					break
				}
				select {
				case buf = <-in.free:
				case <-in.done:
					return
				}
			}
			n, err := readBlock(src, buf)
			if n > 0 {
				select {
				case in.blocks <- buf[:n]:
				case <-in.done:
					return
				}
			}
			if err != nil {
				if err != io.EOF {
					if gz {
						err = fmt.Errorf("gzip: %w (is the file truncated?)", err)
					}
					in.readErr = err
				}
				return
			}
		}
	}()
	return in, gz, nil
}

// readBlock fills buf from r until it is full or r ends; unlike
// io.ReadFull it passes io.ErrUnexpectedEOF from r through, since for gzip
// it means a truncated file.
func readBlock(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Read implements io.Reader over the blocks of the reading goroutine.
func (in *input) Read(p []byte) (int, error) {
	if len(in.cur) == 0 {
		if in.curBuf != nil {
			in.free <- in.curBuf
			in.curBuf = nil
		}
		b, ok := <-in.blocks
		if !ok {
			if in.readErr != nil {
				return 0, in.readErr
			}
			return 0, io.EOF
		}
		in.cur, in.curBuf = b, b[:cap(b)]
	}
	n := copy(p, in.cur)
	in.cur = in.cur[n:]
	return n, nil
}

// err returns a read or decompression error seen by the goroutine.
func (in *input) err() error {
	if in.readErr != nil {
		return fmt.Errorf("read orders: %w", in.readErr)
	}
	return nil
}

func (in *input) sum() string { return hex.EncodeToString(in.hash.Sum(nil)) }

func (in *input) close() {
	select {
	case <-in.done:
	default:
		close(in.done)
	}
	if in.blocks != nil {
		for range in.blocks {
		}
	}
}
