package features

import (
	"bytes"
	"errors"
	"io"
)

// recordScanner splits a byte stream into CSV records (RFC 4180) without
// allocating per record: fields are slices into its buffer, valid until the
// next call to next.
//
// It follows encoding/csv's reading rules, with two differences chosen for
// dirty real-world exports:
//   - a quote inside an unquoted field is kept as a literal character
//     (encoding/csv's LazyQuotes), so `12" RULER` is not an error;
//   - after a quoting error only the physical line where the record started
//     is rejected, and scanning resumes on the next line, so one stray quote
//     cannot swallow the rest of the file.
//
// Blank lines are skipped and counted. A UTF-8 byte order mark at the start
// of the stream is dropped.
type recordScanner struct {
	r     io.Reader
	comma byte
	buf   []byte // buf[pos:end] holds unread bytes
	pos   int
	end   int
	eof   bool
	err   error // read error other than io.EOF

	line  int64 // physical lines consumed so far
	blank int64 // blank lines skipped

	// Results of the last call to next.
	fields    [][]byte
	raw       []byte // the record's bytes as read, without its line terminator
	startLine int64  // physical line number where the record starts (1-based)
	scratch   []byte // unquoted field contents

	started bool
}

// maxRecordBytes bounds one record (and the look-ahead for a closing quote),
// so no input can make the scanner hold unbounded memory.
const maxRecordBytes = 1 << 20

// errQuote and errTooLong describe records the scanner could not split.
var (
	errQuote   = errors.New(`bad quoting: a quoted field must end with '"' followed by a delimiter or the end of the line`)
	errTooLong = errors.New("record longer than 1 MiB")
)

func newRecordScanner(r io.Reader, comma byte) *recordScanner {
	return &recordScanner{r: r, comma: comma, buf: make([]byte, 64<<10)}
}

// fill reads more input, keeping buf[pos:end]. It reports whether bytes were added.
func (s *recordScanner) fill() bool {
	if s.eof {
		return false
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.pos, s.end = 0, n
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= 2*maxRecordBytes {
			return false
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.err = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// next splits the next record. It returns io.EOF at the end of input, a read
// error, or errQuote / errTooLong for a record it could not split; in that
// case raw and startLine describe the rejected physical line and scanning
// continues after it.
func (s *recordScanner) next() error {
	if !s.started {
		s.started = true
		for s.end-s.pos < 3 && s.fill() {
		}
		if bytes.HasPrefix(s.buf[s.pos:s.end], []byte("\xef\xbb\xbf")) {
			s.pos += 3
		}
	}
	for {
		lineEnd, next, err := s.findLine()
		if err != nil {
			return err
		}
		content := trimCR(s.buf[s.pos:lineEnd])
		if len(content) == 0 {
			s.line++
			s.blank++
			s.pos = next
			continue
		}
		s.startLine = s.line + 1
		if bytes.IndexByte(content, '"') < 0 {
			// Fast path: no quotes anywhere in the line.
			s.fields = s.fields[:0]
			for {
				i := bytes.IndexByte(content, s.comma)
				if i < 0 {
					s.fields = append(s.fields, content)
					break
				}
				s.fields = append(s.fields, content[:i])
				content = content[i+1:]
			}
			s.raw = trimCR(s.buf[s.pos:lineEnd])
			s.line++
			s.pos = next
			return nil
		}
		return s.splitQuoted()
	}
}

// findLine finds the end of the physical line at pos: the end of its
// content and where the next line starts.
func (s *recordScanner) findLine() (lineEnd, next int, err error) {
	nl := bytes.IndexByte(s.buf[s.pos:s.end], '\n')
	for nl < 0 {
		if s.end-s.pos > maxRecordBytes {
			return 0, 0, s.skipLong()
		}
		if !s.fill() {
			break
		}
		nl = bytes.IndexByte(s.buf[s.pos:s.end], '\n')
	}
	if nl < 0 {
		if s.pos == s.end {
			if s.err != nil {
				return 0, 0, s.err
			}
			return 0, 0, io.EOF
		}
		return s.end, s.end, nil
	}
	if nl > maxRecordBytes {
		return 0, 0, s.skipLong()
	}
	return s.pos + nl, s.pos + nl + 1, nil
}

// nextLine reads the next non-blank physical line into raw, without CSV
// splitting (for JSON Lines).
func (s *recordScanner) nextLine() error {
	for {
		lineEnd, next, err := s.findLine()
		if err != nil {
			return err
		}
		content := trimCR(s.buf[s.pos:lineEnd])
		s.line++
		s.pos = next
		if len(bytes.TrimSpace(content)) == 0 {
			s.blank++
			continue
		}
		s.startLine = s.line
		s.raw = content
		return nil
	}
}

// skipLong rejects a physical line longer than maxRecordBytes and skips to its end.
func (s *recordScanner) skipLong() error {
	s.startLine = s.line + 1
	s.raw = append(s.raw[:0:0], s.buf[s.pos:s.pos+200]...)
	for {
		nl := bytes.IndexByte(s.buf[s.pos:s.end], '\n')
		if nl >= 0 {
			s.pos += nl + 1
			break
		}
		s.pos = s.end
		if !s.fill() {
			break
		}
	}
	s.line++
	return errTooLong
}

// splitQuoted splits a record containing quotes; it may span several physical lines.
func (s *recordScanner) splitQuoted() error {
	s.fields = s.fields[:0]
	s.scratch = s.scratch[:0]
	// Field boundaries are recorded as offsets into scratch, because scratch
	// may grow (and move) while the record is split.
	var spans [64]span
	fieldSpans := spans[:0]
	i := s.pos
	lines := int64(1)
	for {
		// Start of a field at buf[i].
		if i < s.end && s.buf[i] == '"' {
			// Quoted field.
			i++
			a := len(s.scratch)
			for {
				if i >= s.end {
					if i-s.pos > maxRecordBytes || !s.refill(&i) {
						return s.quoteError()
					}
					continue
				}
				c := s.buf[i]
				if c == '"' {
					if i+1 >= s.end && s.refill(&i) {
						continue
					}
					if i+1 < s.end && s.buf[i+1] == '"' {
						s.scratch = append(s.scratch, '"')
						i += 2
						continue
					}
					i++ // closing quote
					break
				}
				if c == '\n' {
					lines++
					if n := len(s.scratch); n > 0 && s.scratch[n-1] == '\r' {
						s.scratch[n-1] = '\n'
						i++
						continue
					}
				}
				s.scratch = append(s.scratch, c)
				i++
			}
			fieldSpans = append(fieldSpans, span{a, len(s.scratch)})
			// After the closing quote: delimiter, end of line, or end of input.
			if i >= s.end && !s.refill(&i) {
				return s.finishQuoted(fieldSpans, i, i, lines)
			}
			switch c := s.buf[i]; {
			case c == s.comma:
				i++
				continue
			case c == '\n':
				return s.finishQuoted(fieldSpans, i, i+1, lines)
			case c == '\r' && (i+1 < s.end && s.buf[i+1] == '\n'):
				return s.finishQuoted(fieldSpans, i, i+2, lines)
			case c == '\r' && i+1 >= s.end:
				if s.refill(&i) {
					if s.buf[i+1] == '\n' {
						return s.finishQuoted(fieldSpans, i, i+2, lines)
					}
				} else {
					return s.finishQuoted(fieldSpans, i, i+1, lines)
				}
				return s.quoteError()
			default:
				return s.quoteError()
			}
		}
		// Unquoted field: up to the delimiter or end of line; quotes are literal.
		a := len(s.scratch)
		for {
			if i >= s.end {
				if i-s.pos > maxRecordBytes || !s.refill(&i) {
					fieldSpans = append(fieldSpans, span{a, len(s.scratch)})
					trimScratchCR(&s.scratch, fieldSpans)
					return s.finishQuoted(fieldSpans, i, i, lines)
				}
				continue
			}
			c := s.buf[i]
			if c == s.comma {
				fieldSpans = append(fieldSpans, span{a, len(s.scratch)})
				i++
				break
			}
			if c == '\n' {
				fieldSpans = append(fieldSpans, span{a, len(s.scratch)})
				trimScratchCR(&s.scratch, fieldSpans)
				return s.finishQuoted(fieldSpans, i, i+1, lines)
			}
			s.scratch = append(s.scratch, c)
			i++
		}
	}
}

// trimScratchCR drops a '\r' ending the last field (a CRLF line end).
func trimScratchCR(scratch *[]byte, spans []span) {
	last := &spans[len(spans)-1]
	if last.b > last.a && (*scratch)[last.b-1] == '\r' {
		last.b--
		*scratch = (*scratch)[:last.b]
	}
}

// refill reads more input while keeping the current record; *i is adjusted
// for the buffer move. It reports whether bytes were added.
func (s *recordScanner) refill(i *int) bool {
	off := *i - s.pos
	added := s.fill()
	*i = s.pos + off
	return added
}

// finishQuoted records a split quoted record whose content ends at contentEnd
// and whose successor starts at next.
func (s *recordScanner) finishQuoted(spans []span, contentEnd, next int, lines int64) error {
	for _, sp := range spans {
		s.fields = append(s.fields, s.scratch[sp.a:sp.b])
	}
	s.raw = trimCR(s.buf[s.pos:contentEnd])
	s.line += lines
	s.pos = next
	return nil
}

// quoteError rejects the physical line where the current record started and
// moves past it.
func (s *recordScanner) quoteError() error {
	nl := bytes.IndexByte(s.buf[s.pos:s.end], '\n')
	end, next := s.end, s.end
	if nl >= 0 {
		end, next = s.pos+nl, s.pos+nl+1
	}
	s.raw = trimCR(s.buf[s.pos:end])
	s.line++
	s.pos = next
	return errQuote
}

// span is a field's bounds in the scanner's scratch buffer.
type span struct{ a, b int }

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
