package serving

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// sameJSON fails unless a and b are the same JSON value, numbers compared
// by their text (so a float written differently is a difference).
func sameJSON(t *testing.T, a, b []byte) {
	t.Helper()
	decode := func(data []byte) any {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("invalid JSON %q: %v", data, err)
		}
		return v
	}
	if va, vb := decode(a), decode(b); !reflect.DeepEqual(va, vb) {
		t.Fatalf("JSON differs:\n fast      %s\n protojson %s", a, b)
	}
}

func recsResponse(names []string, scores []float64, cold bool) *patronv1.RecommendationsResponse {
	r := &patronv1.RecommendationsResponse{ModelVersion: 12, ColdStart: cold}
	for k, n := range names {
		it := &patronv1.RecommendedItem{ItemId: "id-" + n, Name: n, Score: scores[k%len(scores)]}
		if k%3 != 2 {
			it.Reason = &patronv1.Reason{Kind: "because_you_bought", ItemId: n + "\x00", Text: "Because you bought " + n}
		}
		r.Items = append(r.Items, it)
	}
	return r
}

// TestRESTMarshalerMatchesProtojson: the hand-written encoder writes what
// protojson writes for recommendation responses, whatever the strings and
// scores, and anything else is protojson's.
func TestRESTMarshalerMatchesProtojson(t *testing.T) {
	m := newRESTMarshaler()
	pj := protojson.MarshalOptions{EmitUnpopulated: true}
	names := []string{"", "JUMBO BAG RED RETROSPOT", `quote " and \ backslash`, "tab\tnew\nline\rcr\bbs\fff", "\x01\x1f\x7f",
		"<b>&amp;</b>", "é ☃ 𝄞", "\u2028\u2029"}
	scores := []float64{0, 1, -1, 0.5, 1e-3 * 0.4, 1e-7, 1.5e-7, 123456789.125, 1e21, 1e20, 5e-324, math.MaxFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1), math.Float64frombits(0x3fb999999999999a)}
	for _, cold := range []bool{false, true} {
		for _, r := range []*patronv1.RecommendationsResponse{
			{}, recsResponse(names, scores, cold), recsResponse(names[:1], scores[4:5], cold),
		} {
			fast, err := m.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			want, err := pj.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, fast, want)
			var back patronv1.RecommendationsResponse
			if err := protojson.Unmarshal(fast, &back); err != nil {
				t.Fatalf("protojson cannot read %s: %v", fast, err)
			}
		}
	}
	// Invalid UTF-8 goes to protojson, which refuses it as before.
	bad := &patronv1.RecommendationsResponse{Items: []*patronv1.RecommendedItem{{ItemId: "\xff"}}}
	if _, err := m.Marshal(bad); err == nil {
		t.Error("invalid UTF-8 was encoded")
	}
	// Other messages are protojson's.
	other := &patronv1.Reason{Kind: "popular"}
	got, err := m.Marshal(other)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pj.Marshal(other)
	sameJSON(t, got, want)
}

// FuzzRESTJSON compares the encoder with protojson on arbitrary strings
// and scores.
func FuzzRESTJSON(f *testing.F) {
	f.Add("JUMBO BAG", "because_you_bought", "Because you bought X", 0.5, int64(3), false)
	f.Add("\"\\\x00\u2028", "", "\t\n", 1e-7, int64(-1), true)
	f.Add("é", "popular", "Popular right now", math.Inf(1), int64(math.MaxInt64), false)
	m := newRESTMarshaler()
	pj := protojson.MarshalOptions{EmitUnpopulated: true}
	f.Fuzz(func(t *testing.T, name, kind, text string, score float64, version int64, cold bool) {
		r := &patronv1.RecommendationsResponse{ModelVersion: version, ColdStart: cold, Items: []*patronv1.RecommendedItem{
			{ItemId: name + "1", Name: name, Score: score, Reason: &patronv1.Reason{Kind: kind, ItemId: text, Text: text}},
			{ItemId: kind, Score: -score},
		}}
		want, werr := pj.Marshal(r)
		got, gerr := m.Marshal(r)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("protojson error %v, encoder error %v", werr, gerr)
		}
		if werr == nil {
			sameJSON(t, got, want)
		}
	})
}
