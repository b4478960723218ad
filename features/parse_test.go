package features

import (
	"strconv"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	utc := func(y, mo, d, h, mi, s int) int64 {
		return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC).Unix()
	}
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2010-12-01 08:26:00", utc(2010, 12, 1, 8, 26, 0), true},
		{"2010-12-01 08:26", utc(2010, 12, 1, 8, 26, 0), true},
		{"2010-12-01T08:26:00", utc(2010, 12, 1, 8, 26, 0), true},
		{"2010-12-01T08:26:00Z", utc(2010, 12, 1, 8, 26, 0), true},
		{"2010-12-01T08:26:00.123Z", utc(2010, 12, 1, 8, 26, 0), true},
		{"2010-12-01T08:26:00+01:00", utc(2010, 12, 1, 7, 26, 0), true},
		{"2010-12-01T08:26:00-0530", utc(2010, 12, 1, 13, 56, 0), true},
		{"2010-12-01", utc(2010, 12, 1, 0, 0, 0), true},
		{"20101201", utc(2010, 12, 1, 0, 0, 0), true},
		{"2012-02-29", utc(2012, 2, 29, 0, 0, 0), true},
		{"1969-12-31 23:59:59", -1, true},
		{"2011-02-29", 0, false},
		{"2011-13-01", 0, false},
		{"2011-12-01 24:00:00", 0, false},
		{"12/1/2010 8:26", 0, false},
		{"2010-12-01X08:26", 0, false},
		{"2010-12-01T08:26:00+25:00", 0, false},
		{"2010-12-01 08:26:00 extra", 0, false},
		{"", 0, false},
		{"20101301", 0, false},
	}
	for _, tc := range tests {
		got, err := parseTime([]byte(tc.in), time.UTC)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseTime(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestDaysFromCivilMatchesTime(t *testing.T) {
	for d := -800000; d < 800000; d += 997 {
		tm := time.Unix(int64(d)*86400, 0).UTC()
		if got := daysFromCivil(tm.Year(), int(tm.Month()), tm.Day()); got != int64(d) {
			t.Fatalf("daysFromCivil(%v) = %d, want %d", tm, got, d)
		}
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"6", true}, {"-12", true}, {"2.55", true}, {"0.001", true}, {"+3", true}, {"1e3", true},
		{"123456789012345678", true}, {".5", true}, {"1.", true}, {"38970.0", true},
		{"", false}, {"-", false}, {"abc", false}, {"NaN", false}, {"Inf", false}, {"1,5", false}, {"£2", false},
		{"1e999", false},
	}
	for _, tc := range tests {
		got, err := parseNumber([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("parseNumber(%q) error %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok {
			want, _ := strconv.ParseFloat(tc.in, 64)
			if got != want {
				t.Errorf("parseNumber(%q) = %v, strconv says %v", tc.in, got, want)
			}
		}
	}
}

// FuzzParseNumber checks the fast path against strconv.ParseFloat.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"2.55", "-0.001", "123456789012345", "9.999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseNumber([]byte(s))
		want, werr := strconv.ParseFloat(s, 64)
		if err == nil && (werr != nil && !isRangeOK(werr)) {
			t.Fatalf("parseNumber(%q) = %v, strconv fails: %v", s, got, werr)
		}
		if err == nil && got != want {
			t.Fatalf("parseNumber(%q) = %v, strconv %v", s, got, want)
		}
	})
}

func isRangeOK(err error) bool { return false }

func TestNormalisedLen(t *testing.T) {
	for in, want := range map[string]string{
		"17850.0": "17850", "17850.00": "17850", "17850": "17850", "85123A": "85123A",
		"1.5": "1.5", ".0": ".0", "12.": "12.", "A1.0": "A1.0",
	} {
		if got := in[:normalisedLen([]byte(in))]; got != want {
			t.Errorf("normalise %q = %q, want %q", in, got, want)
		}
	}
}
