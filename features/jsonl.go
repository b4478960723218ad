package features

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// readJSONL reads one JSON object per line. Keys are matched to columns like
// CSV header names (aliases and --columns); string, number and null values
// are accepted. The first object must name every required column, so a
// wrong export fails at once, like a CSV header.
func (b *builder) readJSONL(ctx context.Context, r io.Reader) error {
	s := newRecordScanner(r, ',')
	var keyCol map[string]Column // JSON key -> column
	var f [numColumns][]byte
	var obj map[string]json.RawMessage
	var scratch [numColumns][]byte
	for c := range scratch {
		scratch[c] = make([]byte, 0, 32)
	}
	for {
		err := s.nextLine()
		if err == io.EOF {
			b.sum.BlankLines = s.blank
			if keyCol == nil {
				return fmt.Errorf("read orders %s: the file is empty: give JSON Lines with one order line object per line", b.opts.Source)
			}
			return nil
		}
		if err == errTooLong {
			b.sum.Lines++
			b.count(ReasonLineTooLong, s.startLine, noField, err.Error(), s.raw)
			continue
		}
		if err != nil {
			return fmt.Errorf("read orders %s line %d: %w", b.opts.Source, s.line, err)
		}
		line := s.raw
		b.sum.Lines++
		if b.sum.Lines&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			b.progress(b.sum.Lines)
		}
		if !utf8.Valid(line) {
			b.count(ReasonInvalidUTF8, s.startLine, noField, "the line is not valid UTF-8", line)
			continue
		}
		clear(obj)
		if err := json.Unmarshal(line, &obj); err != nil {
			if keyCol == nil {
				return fmt.Errorf("read orders %s line %d: the first line is not a JSON object (%v): give JSON Lines, one object per line, or CSV with a header", b.opts.Source, s.startLine, err)
			}
			b.count(ReasonBadJSON, s.startLine, noField, err.Error(), line)
			continue
		}
		if keyCol == nil {
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			hm, err := resolveHeader(keys, b.opts.Columns)
			if err != nil {
				return fmt.Errorf("read orders %s line %d: %w", b.opts.Source, s.startLine, err)
			}
			keyCol = map[string]Column{}
			b.sum.Columns = map[string]string{}
			for c, i := range hm.index {
				if i >= 0 {
					keyCol[keys[i]] = Column(c)
					b.sum.Columns[Column(c).String()] = keys[i]
				}
			}
			b.sum.IgnoredColumns = hm.ignored
		}
		for c := range f {
			f[c] = nil
		}
		bad := ""
		for k, v := range obj {
			c, ok := keyCol[k]
			if !ok {
				continue
			}
			val, err := jsonScalar(v, scratch[c][:0])
			if err != nil {
				bad = fmt.Sprintf("field %q: %v", k, err)
				break
			}
			scratch[c] = val
			f[c] = val
		}
		if bad != "" {
			b.count(ReasonBadJSON, s.startLine, noField, bad, line)
			continue
		}
		missing := ""
		for c := Column(0); c < Column(numRequired); c++ {
			if f[c] == nil && c != ColCustomerID {
				missing = c.String()
				break
			}
		}
		if missing != "" {
			b.count(ReasonMissingField, s.startLine, noField, "no "+missing+" in the object", line)
			continue
		}
		b.add(&f, line, s.startLine)
	}
}

// jsonScalar returns the text of a JSON string, number or null (as empty).
// Objects, arrays and booleans are errors.
func jsonScalar(v json.RawMessage, buf []byte) ([]byte, error) {
	if len(v) == 0 {
		return buf, nil
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, err
		}
		return append(buf, s...), nil
	case 'n':
		return buf, nil
	case '{', '[', 't', 'f':
		return nil, fmt.Errorf("want a string or number, got %s", strings.TrimSpace(string(v[:min(len(v), 40)])))
	}
	return append(buf, v...), nil
}
