package serving

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// restMarshaler is the gateway's JSON: protojson as the gateway uses by
// default (every field present, int64 as strings, camelCase names), except
// that recommendation responses, which storefronts ask for on every page,
// are written by a hand-written encoder. protojson walks a message by
// reflection and took about half of a REST recommendation's CPU time; the
// encoder writes the same JSON (the same fields, in field-number order,
// with the same number and string formats; tests compare the two) in
// one pass, into one allocation.
type restMarshaler struct {
	runtime.Marshaler
}

func newRESTMarshaler() restMarshaler {
	return restMarshaler{&runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
	}}}
}

// Marshal encodes recommendation responses itself and everything else
// with protojson.
func (m restMarshaler) Marshal(v any) ([]byte, error) {
	if r, ok := v.(*patronv1.RecommendationsResponse); ok && validUTF8(r) {
		return appendRecommendations(make([]byte, 0, 96+192*len(r.Items)), r), nil
	}
	return m.Marshaler.Marshal(v)
}

// validUTF8 reports whether every string of r is valid UTF-8; protojson
// refuses others, and so the encoder leaves them to it.
func validUTF8(r *patronv1.RecommendationsResponse) bool {
	for _, it := range r.Items {
		if !utf8.ValidString(it.ItemId) || !utf8.ValidString(it.Name) {
			return false
		}
		if rs := it.Reason; rs != nil && (!utf8.ValidString(rs.Kind) || !utf8.ValidString(rs.ItemId) || !utf8.ValidString(rs.Text)) {
			return false
		}
	}
	return true
}

// appendRecommendations appends r as protojson writes it with
// EmitUnpopulated: {"items":[...],"modelVersion":"N","coldStart":false}.
func appendRecommendations(b []byte, r *patronv1.RecommendationsResponse) []byte {
	b = append(b, `{"items":[`...)
	for k, it := range r.Items {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"itemId":`...)
		b = appendJSONString(b, it.ItemId)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, it.Name)
		b = append(b, `,"score":`...)
		b = appendJSONFloat(b, it.Score)
		b = append(b, `,"reason":`...)
		if rs := it.Reason; rs == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, `{"kind":`...)
			b = appendJSONString(b, rs.Kind)
			b = append(b, `,"itemId":`...)
			b = appendJSONString(b, rs.ItemId)
			b = append(b, `,"text":`...)
			b = appendJSONString(b, rs.Text)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	b = append(b, `],"modelVersion":"`...)
	b = strconv.AppendInt(b, r.ModelVersion, 10)
	b = append(b, `","coldStart":`...)
	b = strconv.AppendBool(b, r.ColdStart)
	return append(b, '}')
}

// appendJSONString appends s (valid UTF-8) quoted as protojson quotes it:
// '"' and '\\' escaped, control characters as \b \f \n \r \t or \u00XX,
// everything else as it is.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONFloat appends a double as protojson does (after encoding/json):
// NaN and infinities as strings, exponent form below 1e-6 and from 1e21.
func appendJSONFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-07 -> e-7, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
