package features

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// Timestamp layouts the reader accepts; a timestamp without a zone is read
// in the configured location (UTC by default).
const timeFormats = "RFC 3339 (2011-12-09T12:50:00Z), YYYY-MM-DD HH:MM[:SS], YYYY-MM-DD or YYYYMMDD"

var errTime = errors.New("unparseable timestamp: want " + timeFormats)

// parseTime reads a timestamp in one of timeFormats and returns Unix seconds.
// It is hand-written because time.Parse with several layouts would cost more
// than the rest of a line's processing.
func parseTime(b []byte, loc *time.Location) (int64, error) {
	var year, month, day, hour, min, sec int
	var ok bool
	i := 0
	switch {
	case len(b) == 8: // YYYYMMDD
		if year, ok = digits(b, 0, 4); !ok {
			return 0, errTime
		}
		month, ok1 := digits(b, 4, 2)
		day, ok2 := digits(b, 6, 2)
		if !ok1 || !ok2 {
			return 0, errTime
		}
		return civil(year, month, day, 0, 0, 0, loc)
	case len(b) >= 10 && b[4] == '-' && b[7] == '-':
		y, ok0 := digits(b, 0, 4)
		m, ok1 := digits(b, 5, 2)
		d, ok2 := digits(b, 8, 2)
		if !ok0 || !ok1 || !ok2 {
			return 0, errTime
		}
		year, month, day = y, m, d
		i = 10
	default:
		return 0, errTime
	}
	if i == len(b) {
		return civil(year, month, day, 0, 0, 0, loc)
	}
	if b[i] != ' ' && b[i] != 'T' && b[i] != 't' {
		return 0, errTime
	}
	i++
	h, ok1 := digits(b, i, 2)
	if !ok1 || i+2 >= len(b) || b[i+2] != ':' {
		return 0, errTime
	}
	mi, ok2 := digits(b, i+3, 2)
	if !ok2 {
		return 0, errTime
	}
	hour, min = h, mi
	i += 5
	if i < len(b) && b[i] == ':' {
		s, ok := digits(b, i+1, 2)
		if !ok {
			return 0, errTime
		}
		sec = s
		i += 3
		// Fractional seconds are accepted and truncated.
		if i < len(b) && (b[i] == '.' || b[i] == ',') {
			i++
			j := i
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				i++
			}
			if i == j {
				return 0, errTime
			}
		}
	}
	if i == len(b) {
		return civil(year, month, day, hour, min, sec, loc)
	}
	// A zone: Z or ±HH:MM (RFC 3339), or ±HHMM.
	zone := b[i:]
	offset := 0
	switch {
	case len(zone) == 1 && (zone[0] == 'Z' || zone[0] == 'z'):
	case (len(zone) == 6 && zone[3] == ':') || len(zone) == 5:
		if zone[0] != '+' && zone[0] != '-' {
			return 0, errTime
		}
		zh, ok1 := digits(zone, 1, 2)
		zm, ok2 := digits(zone, len(zone)-2, 2)
		if !ok1 || !ok2 || zh > 23 || zm > 59 {
			return 0, errTime
		}
		offset = zh*3600 + zm*60
		if zone[0] == '-' {
			offset = -offset
		}
	default:
		return 0, errTime
	}
	t, err := civil(year, month, day, hour, min, sec, time.UTC)
	return t - int64(offset), err
}

// digits reads n decimal digits at b[i:].
func digits(b []byte, i, n int) (int, bool) {
	if i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// civil converts a wall-clock time in loc to Unix seconds, rejecting
// out-of-range fields (time.Date would normalise 2011-02-30 silently).
func civil(year, month, day, hour, min, sec int, loc *time.Location) (int64, error) {
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || min > 59 || sec > 60 {
		return 0, errTime
	}
	if sec == 60 { // a leap second: count it as the last second of the minute
		sec = 59
	}
	if loc == time.UTC || loc == nil {
		return daysFromCivil(year, month, day)*86400 + int64(hour*3600+min*60+sec), nil
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, 0, loc).Unix(), nil
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm, "chrono-Compatible Low-Level Date Algorithms").
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

var errNumber = errors.New("not a finite decimal number")

// pow10 holds the exactly representable powers of ten used by parseNumber.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseNumber reads a decimal number such as "6", "-12", "2.55" or "1e3".
// Plain decimals with at most 15 significant digits take a fast path whose
// result is exactly strconv.ParseFloat's: an integer mantissa below 2^53
// divided by an exact power of ten is correctly rounded in IEEE arithmetic.
// Anything else goes to strconv.ParseFloat. NaN and infinities are refused.
func parseNumber(b []byte) (float64, error) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i++
	}
	var mant uint64
	nd, frac, dot := 0, 0, false
	for ; i < len(b); i++ {
		c := b[i]
		if c >= '0' && c <= '9' {
			mant = mant*10 + uint64(c-'0')
			nd++
			if dot {
				frac++
			}
			continue
		}
		if c == '.' && !dot {
			dot = true
			continue
		}
		break
	}
	if i == len(b) && nd > 0 && nd <= 15 {
		v := float64(mant) / pow10[frac]
		if neg {
			v = -v
		}
		return v, nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errNumber
	}
	return v, nil
}
