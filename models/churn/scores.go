package churn

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Bundle tables of the churn scores: training scores every customer at the
// as-of date, so serving reads one record.
const (
	MetaTable      = "churn/meta"      // "model": JSON of Meta
	CustomersTable = "churn/customers" // one Score per customer id
)

// Bands are the risk bands, lowest first.
var Bands = []string{"low", "medium", "high"}

// Thresholds split probabilities into bands: below Medium is low, below
// High is medium, the rest high.
type Thresholds struct {
	Medium float64 `json:"medium"`
	High   float64 `json:"high"`
}

// DefaultThresholds: low below 0.3, high from 0.6.
var DefaultThresholds = Thresholds{Medium: 0.3, High: 0.6}

// Validate checks 0 < Medium < High < 1.
func (t Thresholds) Validate() error {
	if !(t.Medium > 0 && t.Medium < t.High && t.High < 1) {
		return fmt.Errorf("churn thresholds %v/%v: want 0 < medium < high < 1", t.Medium, t.High)
	}
	return nil
}

// Band names the band of probability p.
func (t Thresholds) Band(p float64) string {
	switch {
	case p >= t.High:
		return Bands[2]
	case p >= t.Medium:
		return Bands[1]
	}
	return Bands[0]
}

// Meta describes the scores of a bundle.
type Meta struct {
	AsOf        time.Time  `json:"as_of"`
	HorizonDays int        `json:"horizon_days"`
	Model       string     `json:"model"`
	Thresholds  Thresholds `json:"thresholds"`
	// Seasonality is the exponent applied to the calibrated probabilities
	// (s_horizon / s_validation, see training).
	Seasonality float64 `json:"seasonality"`
}

// Score is one customer's churn risk at the as-of date.
type Score struct {
	Probability float64
	Band        string
	// Reasons are the main factors behind the score, in words, strongest first.
	Reasons []string
	// ValueAtRisk is Probability x predicted CLV (or historic value when
	// the bundle has no CLV model).
	ValueAtRisk float64
}

// Writer stores table rows; *registry.Builder is one.
type Writer interface {
	Put(table string, key, val []byte) error
}

// WriteMeta stores m.
func WriteMeta(w Writer, m Meta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("churn: encode meta: %w", err)
	}
	return w.Put(MetaTable, []byte("model"), b)
}

// Score records: a format byte, probability and value at risk as float64,
// the band index, the reason count and length-prefixed reasons.
const scoreFormat = 1

var errCorrupt = errors.New("corrupt churn record")

// AppendScore encodes s.
func AppendScore(b []byte, s *Score) []byte {
	b = append(b, scoreFormat)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.Probability))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.ValueAtRisk))
	band := 0
	for i, name := range Bands {
		if name == s.Band {
			band = i
		}
	}
	b = append(b, byte(band), byte(len(s.Reasons)))
	for _, r := range s.Reasons {
		b = binary.AppendUvarint(b, uint64(len(r)))
		b = append(b, r...)
	}
	return b
}

// DecodeScore parses a record.
func DecodeScore(b []byte, s *Score) error {
	if len(b) < 19 || b[0] != scoreFormat {
		return errCorrupt
	}
	s.Probability = math.Float64frombits(binary.LittleEndian.Uint64(b[1:]))
	s.ValueAtRisk = math.Float64frombits(binary.LittleEndian.Uint64(b[9:]))
	if int(b[17]) >= len(Bands) {
		return errCorrupt
	}
	s.Band = Bands[b[17]]
	n := int(b[18])
	b = b[19:]
	s.Reasons = make([]string, 0, n)
	for i := 0; i < n; i++ {
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return errCorrupt
		}
		s.Reasons = append(s.Reasons, string(b[k:k+int(l)]))
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return errCorrupt
	}
	return nil
}

// Store reads bundle tables; *registry.Bundle is one.
type Store interface {
	Get(table string, key []byte, fn func(val []byte) error) error
}

// Scores answers churn queries from a bundle.
type Scores struct {
	st   Store
	Meta Meta
}

// ErrNoScores means the bundle has no churn scores.
var ErrNoScores = errors.New("no churn model")

// ErrNoModel means the data cannot support a churn model (a history too
// short for the fit and validation windows, too few customers); training
// then publishes the bundle without one and says why.
var ErrNoModel = errors.New("no churn model can be fitted")

// OpenScores reads the churn meta of a bundle; notFound tells whether an
// error means the record is absent.
func OpenScores(st Store, notFound func(error) bool) (*Scores, error) {
	s := &Scores{st: st}
	err := st.Get(MetaTable, []byte("model"), func(v []byte) error { return json.Unmarshal(v, &s.Meta) })
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("%w in this bundle (see the manifest's metrics.churn)", ErrNoScores)
		}
		return nil, fmt.Errorf("churn: read meta: %w", err)
	}
	return s, nil
}

// Get returns customer id's score; found is false when the bundle has none
// for them (no order before the as-of date).
func (s *Scores) Get(id string, notFound func(error) bool) (Score, bool, error) {
	var sc Score
	err := s.st.Get(CustomersTable, []byte(id), func(v []byte) error { return DecodeScore(v, &sc) })
	if err != nil {
		if notFound(err) {
			return Score{}, false, nil
		}
		return Score{}, false, fmt.Errorf("churn: customer %q: %w", id, err)
	}
	return sc, true, nil
}

// riskyHigh tells, for the features that have a sentence, whether a high
// value (true) or a low one (false) means risk.
var riskyHigh = map[string]bool{
	"recency_days": true, "recency_over_gap": true, "frequency": false, "orders_90d": false, "orders_30d": false,
	"log_spend_90d": false, "log_spend_30d": false, "order_trend_90d": false, "spend_trend_90d": false,
	"log_monetary": false, "log_mean_order_value": false, "tenure_days": false, "distinct_items": false,
	"return_share": true, "gap_std_days": true, "mean_gap_days": true, "orders_same_window_last_year": false,
	"bgnbd_p_order_in_horizon": false, "log_orders_180d": false, "log_spend_180d": false,
}

// Reason renders why feature name (value v for this customer; row holds all
// of the customer's features by name) pushes towards churn, in words a CRM
// agent can read. It returns "" unless the value is on the risky side of the
// population's median (medians by name), so a reason always reads true, and
// for features without a sentence of their own.
func Reason(name string, v float64, row, medians map[string]float64) string {
	if _, ok := riskyHigh[name]; !ok && strings.HasPrefix(name, "log_") {
		// log_x says what x says.
		if x, ok := row[name[4:]]; ok {
			name, v = name[4:], x
		}
	}
	high, ok := riskyHigh[name]
	if !ok || (high && v <= medians[name]) || (!high && v >= medians[name]) {
		return ""
	}
	plural := func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	switch name {
	case "recency_days", "recency_over_gap":
		gap := row["mean_gap_days"]
		days := int(math.Round(row["recency_days"]))
		if gap >= 1 && row["frequency"] >= 2 && row["recency_over_gap"] >= 1.5 {
			return fmt.Sprintf("no order for %d days, %.1fx their usual gap of %s", days, row["recency_over_gap"], plural(int(math.Round(gap)), "day", "days"))
		}
		return fmt.Sprintf("no order for %d days", days)
	case "frequency":
		if v <= 1 {
			return "has ordered only once"
		}
		return fmt.Sprintf("only %d orders so far", int(v))
	case "orders_90d", "orders_30d", "log_spend_90d", "log_spend_30d":
		if row["orders_90d"] == 0 {
			return "no order in the last 90 days"
		}
		return "only " + plural(int(row["orders_90d"]), "order", "orders") + " in the last 90 days"
	case "order_trend_90d":
		return "ordering less often than in the 90 days before"
	case "spend_trend_90d":
		if fell := 1 - math.Exp(v); fell > 0.05 {
			return fmt.Sprintf("spend fell %d%% in the last 90 days", int(math.Round(100*fell)))
		}
		return ""
	case "log_monetary", "log_mean_order_value":
		return fmt.Sprintf("low spend so far (%.0f in total)", math.Expm1(row["log_monetary"]))
	case "tenure_days":
		return "a customer for only " + plural(int(math.Round(v)), "day", "days")
	case "distinct_items":
		return "has bought only " + plural(int(v), "item", "different items")
	case "return_share":
		return fmt.Sprintf("returned %d%% of what they bought", int(math.Round(100*v)))
	case "gap_std_days", "mean_gap_days":
		return "orders irregularly, with long gaps"
	case "orders_same_window_last_year":
		return "did not order in this season last year"
	case "log_orders_180d":
		if n := int(math.Round(math.Expm1(v))); n > 0 {
			return "only " + plural(n, "order", "orders") + " in the last 180 days"
		}
		return "no order in the last 180 days"
	case "log_spend_180d":
		if spent := math.Expm1(v); spent >= 0.5 {
			return fmt.Sprintf("spent only %.0f in the last 180 days", spent)
		}
		return "spent nothing in the last 180 days"
	case "bgnbd_p_order_in_horizon":
		return fmt.Sprintf("their purchase pattern gives only a %d%% chance of an order in the horizon", int(math.Round(100*v)))
	}
	return ""
}
