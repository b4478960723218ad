package features

import (
	"bytes"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// scanAll splits input into records; a rejected line appears as
// "!<reason> line N". Reading goes one byte at a time when oneByte is set, to
// exercise every buffer boundary.
func scanAll(t *testing.T, input string, oneByte bool) []string {
	t.Helper()
	var r io.Reader = strings.NewReader(input)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	s := newRecordScanner(r, ',')
	var out []string
	for {
		err := s.next()
		if err == io.EOF {
			return out
		}
		switch err {
		case nil:
			var fs []string
			for _, f := range s.fields {
				fs = append(fs, string(f))
			}
			out = append(out, strings.Join(fs, "|")+" @"+itoa(s.startLine))
		case errQuote:
			out = append(out, "!quote @"+itoa(s.startLine))
		case errTooLong:
			out = append(out, "!long @"+itoa(s.startLine))
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestRecordScanner(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"plain", "a,b,c\n1,2,3\n", []string{"a|b|c @1", "1|2|3 @2"}},
		{"no final newline", "a,b\n1,2", []string{"a|b @1", "1|2 @2"}},
		{"crlf", "a,b\r\n1,2\r\n", []string{"a|b @1", "1|2 @2"}},
		{"empty fields", ",a,,\n", []string{"|a|| @1"}},
		{"blank lines skipped", "a\n\n\r\nb\n", []string{"a @1", "b @4"}},
		{"bom dropped", "\xef\xbb\xbfa,b\n", []string{"a|b @1"}},
		{"quoted comma", `1,"SET 2, RED",3` + "\n", []string{"1|SET 2, RED|3 @1"}},
		{"escaped quote", `"say ""hi""",x` + "\n", []string{`say "hi"|x @1`}},
		{"empty quoted", `"",x,""` + "\n", []string{"|x| @1"}},
		{"multiline field", "1,\"two\nlines\",3\n4,5,6\n", []string{"1|two\nlines|3 @1", "4|5|6 @3"}},
		{"multiline crlf", "1,\"a\r\nb\"\r\n2,c\r\n", []string{"1|a\nb @1", "2|c @3"}},
		{"bare quote is literal", `12" RULER,x` + "\n", []string{`12" RULER|x @1`}},
		{"bare quote after quoted field start", `a,b"c"` + "\n", []string{`a|b"c" @1`}},
		{"garbage after closing quote", "\"a\"x,1\nok,2\n", []string{"!quote @1", "ok|2 @2"}},
		{"unterminated quote loses one line", "\"abc,1\nok,2\n", []string{"!quote @1", "ok|2 @2"}},
		{"quoted last field at eof", `x,"y"`, []string{"x|y @1"}},
		{"quoted field then crlf", "\"a\",\"b\"\r\nc\r\n", []string{"a|b @1", "c @2"}},
		{"trailing comma quoted", "\"a\",\n", []string{"a| @1"}},
	}
	for _, tc := range tests {
		for _, oneByte := range []bool{false, true} {
			got := scanAll(t, tc.in, oneByte)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("%s (one byte reads %v):\n got %q\nwant %q", tc.name, oneByte, got, tc.want)
			}
		}
	}
}

func TestRecordScannerLongLine(t *testing.T) {
	in := "a,b\n" + strings.Repeat("x", maxRecordBytes+10) + "\nc,d\n"
	got := scanAll(t, in, false)
	want := []string{"a|b @1", "!long @2", "c|d @3"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Fatalf("got %.200q, want %q", got, want)
	}
	// An unterminated quote cannot make the scanner hold more than a bounded record.
	in = "\"" + strings.Repeat("y\n", maxRecordBytes) + ",end\n"
	got = scanAll(t, in, false)
	if len(got) == 0 || got[0] != "!quote @1" {
		t.Fatalf("unterminated long quote: got %.200q", got)
	}
}

// FuzzCSVSplit checks the scanner against encoding/csv: wherever
// encoding/csv reads the whole input without error, the records must agree.
func FuzzCSVSplit(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "\"a\"\"b\",c\r\n", "x,\"multi\nline\"\n", "\n\n1\n", "\"\",\n", "a,b\r\n\r\nc,d",
		"1,\"a\r\nb\",2\n", "\"a\",\"b\"", "é,ü\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		want, err := cr.ReadAll()
		// Our scanner must never fail on any input, whatever encoding/csv says.
		s := newRecordScanner(bytes.NewReader(data), ',')
		var got [][]string
		for {
			e := s.next()
			if e == io.EOF {
				break
			}
			if e == errQuote || e == errTooLong {
				got = append(got, nil)
				continue
			}
			if e != nil {
				t.Fatalf("scanner error %v", e)
			}
			rec := make([]string, len(s.fields))
			for i, fl := range s.fields {
				rec[i] = string(fl)
			}
			got = append(got, rec)
		}
		if err != nil || bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) || bytes.IndexByte(data, '\r') >= 0 {
			// encoding/csv rejects bare quotes, which we read literally, and
			// keeps a byte order mark; it also treats lone '\r' differently.
			return
		}
		if len(got) != len(want) {
			t.Fatalf("records: got %d %q, want %d %q", len(got), got, len(want), want)
		}
		for i := range want {
			if strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") {
				t.Fatalf("record %d: got %q, want %q", i, got[i], want[i])
			}
		}
	})
}
