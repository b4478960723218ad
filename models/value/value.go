// Package value is what CRM teams ask about a customer's worth: predicted
// lifetime value over a horizon, expected orders, P(alive), the chance of an
// order in the horizon, the expected date of the next order, what the
// customer has spent, a value tier and an RFM segment — for one customer,
// for batches, and as lists for campaigns.
//
// The predictions come from models/btyd (BG/NBD for the number and timing
// of orders, Gamma-Gamma for their value) fitted at training time on the
// orders before the as-of date, with same-day orders merged and days as the
// time unit. Tiers rank customers by CLV at the default horizon; segments
// come from recency and frequency quintiles (models/segments). Each
// customer's sufficient statistics are stored with the predictions, so a
// request for another horizon recomputes them exactly, in microseconds.
package value

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/internal/parallel"
	"github.com/patron-crm/patron/models/btyd"
	"github.com/patron-crm/patron/models/segments"
)

// Bundle tables.
const (
	MetaTable      = "value/meta"      // "model": JSON of meta
	CustomersTable = "value/customers" // one record per customer id
)

// Options configure Fit.
type Options struct {
	// HorizonDays is the default CLV horizon (default 365).
	HorizonDays float64 `json:"horizon_days"`
	// AnnualDiscount is the discount rate of future spend (default 0.10;
	// 0 means the default, so use a tiny rate for none).
	AnnualDiscount float64 `json:"annual_discount"`
	// Tiers are the shares of the top tiers (default 1% / 4% / 15%).
	Tiers segments.TierCuts `json:"tiers"`
	// SelectionDays is the validation window on which BG/NBD and MBG/NBD
	// are compared (default 90; negative: always BG/NBD).
	SelectionDays int `json:"selection_days"`
}

func (o Options) withDefaults() Options {
	if o.HorizonDays <= 0 {
		o.HorizonDays = 365
	}
	if o.AnnualDiscount == 0 {
		o.AnnualDiscount = 0.10
	}
	if o.Tiers == (segments.TierCuts{}) {
		o.Tiers = segments.DefaultTierCuts
	}
	if o.SelectionDays == 0 {
		o.SelectionDays = 90
	}
	return o
}

// Horizon limits for requests.
const (
	MinHorizonDays = 1
	MaxHorizonDays = 5 * 365
)

// Report describes a fit for the training summary and the manifest.
type Report struct {
	Customers int `json:"customers"`
	// Kind is the purchase model (bgnbd or mbgnbd), chosen on Selection;
	// Purchases holds its parameters.
	Kind          string          `json:"purchase_model"`
	Selection     *btyd.Selection `json:"selection,omitempty"`
	RepeatBuyers  int             `json:"repeat_buyers"`
	Purchases     btyd.BGNBD      `json:"bgnbd"`
	LogLik        float64         `json:"log_likelihood"`
	Optimizer     string          `json:"optimizer"`
	Boundary      []string        `json:"boundary,omitempty"`
	Spend         any             `json:"spend"`
	SpendFallback string          `json:"spend_fallback,omitempty"`
	TierCounts    map[string]int  `json:"tier_counts"`
	// TopShare is the share of predicted CLV held by the platinum and gold
	// tiers together, the "top 5%".
	TopShare float64 `json:"top5_clv_share"`
	// Seasonality is the seasonal index of the default horizon (see Seasonality).
	Seasonality float64 `json:"seasonality"`
	Options     Options `json:"options"`
}

// meta is stored in MetaTable.
type meta struct {
	AsOf        time.Time   `json:"as_of"`
	Options     Options     `json:"options"`
	Model       *btyd.Model `json:"model"`
	Seasonality Seasonality `json:"seasonality"`
	Notes       []string    `json:"notes,omitempty"`
}

// clvOptions are the scoring options for a horizon, with its seasonal
// index (none for days 0).
func (m *meta) clvOptions(days int) btyd.CLVOptions {
	o := btyd.CLVOptions{HorizonDays: float64(days), AnnualDiscount: m.Options.AnnualDiscount}
	if days > 0 {
		o.Seasonality = m.Seasonality.Index(m.AsOf, days)
	}
	return o
}

// record is one customer's stored values.
type record struct {
	X, TxDays, TDays, Orders int32
	Spend, RepeatSpend       float64
	Returned                 float64
	DaysSince                float64
	Tier, Segment, R, F      uint8
	Score                    btyd.Score // at the default horizon
	// Churn results, for retention lists: RiskBand is an index into
	// RiskBands, NoRisk when the bundle has no churn score for the customer.
	RiskBand         uint8
	ChurnProbability float64
	ValueAtRisk      float64
}

// Fitted is a trained customer-value model, ready to be written.
type Fitted struct {
	meta    meta
	ids     []string
	records []record
	Report  Report
}

// ErrNoModel means the data cannot support a customer-value model (too few
// customers, no repeat buyers); the reason is in the error.
var ErrNoModel = errors.New("no customer-value model")

// Fit fits the models on the orders of ds before asOf and scores every customer.
func Fit(ds *features.Dataset, asOf time.Time, opts Options) (*Fitted, error) {
	opts = opts.withDefaults()
	if err := opts.Tiers.Validate(); err != nil {
		return nil, err
	}
	if !asOf.After(ds.Summary.Last) {
		ds = ds.Before(asOf) // nothing on or after the as-of date may leak in
	}
	through := asOf.AddDate(0, 0, -1) // the last day with orders, inclusive, in asOf's time zone
	sum, err := btyd.Summarize(ds, btyd.SummaryOptions{Through: through, Unit: btyd.Day, Location: asOf.Location()})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoModel, err)
	}
	// BG/NBD or MBG/NBD: the one with the lower per-customer MAE (of the
	// median forecast) on the last
	// SelectionDays before the as-of date (fitted on the orders before them).
	kind := btyd.BGNBDKind
	var selection *btyd.Selection
	if opts.SelectionDays > 0 {
		valCut := asOf.AddDate(0, 0, -opts.SelectionDays)
		prof := NewSeasonality(ds.Before(valCut), valCut)
		sel, err := btyd.SelectByHoldout(ds, valCut.AddDate(0, 0, -1), asOf, btyd.SelectOptions{Unit: btyd.Day, Location: asOf.Location(),
			Seasonality: prof.Index(valCut, opts.SelectionDays)})
		if err == nil {
			kind, selection = sel.Kind, sel
		}
	}
	m, err := btyd.Fit(sum, btyd.FitOptions{Purchases: kind})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoModel, err)
	}
	n := len(sum.Customers)
	f := &Fitted{meta: meta{AsOf: asOf, Options: opts, Model: m, Seasonality: NewSeasonality(ds, asOf)}, ids: make([]string, n), records: make([]record, n)}
	clv := f.meta.clvOptions(int(opts.HorizonDays))
	scores, err := m.ScoreAll(sum, clv, 0)
	if err != nil {
		return nil, err
	}
	recency, frequency, values := make([]float64, n), make([]float64, n), make([]float64, n)
	at := asOf.Unix()
	for i := range sum.Customers {
		c := &sum.Customers[i]
		f.ids[i] = ds.Customers.Name(c.ID)
		lastOrder := lastOrderTime(ds, c.ID)
		f.records[i] = record{X: c.X, TxDays: c.TxDays, TDays: c.TDays, Orders: c.Orders, Spend: c.Spend,
			RepeatSpend: c.RepeatSpend, Returned: c.Returned, DaysSince: float64(at-lastOrder) / 86400, Score: scores[i], RiskBand: NoRisk}
		recency[i], frequency[i], values[i] = f.records[i].DaysSince, float64(c.X)+1, scores[i].CLV
	}
	r, fq, segs := segments.Assign(recency, frequency)
	tiers := segments.AssignTiers(values, opts.Tiers)
	rep := Report{Customers: n, Seasonality: clv.Seasonality, Kind: string(kind), Selection: selection, Purchases: m.Purchases, LogLik: m.PurchaseFit.LogLik, Optimizer: m.PurchaseFit.Method,
		Boundary: m.PurchaseFit.Boundary, Spend: m.Spend, SpendFallback: m.Spend.Reason, TierCounts: map[string]int{}, Options: opts}
	var total, top float64
	for i := range f.records {
		rec := &f.records[i]
		rec.R, rec.F = uint8(r[i]), uint8(fq[i])
		rec.Segment = uint8(indexOf(segments.AllSegments, segs[i]))
		rec.Tier = uint8(indexOf(segments.AllTiers, tiers[i]))
		rep.TierCounts[string(tiers[i])]++
		if rec.X > 0 {
			rep.RepeatBuyers++
		}
		total += values[i]
		if tiers[i] == segments.Platinum || tiers[i] == segments.Gold {
			top += values[i]
		}
	}
	if total > 0 {
		rep.TopShare = top / total
	}
	f.meta.Notes = append(f.meta.Notes, m.PurchaseFit.Boundary...)
	if m.Spend.Reason != "" {
		f.meta.Notes = append(f.meta.Notes, "order values: "+m.Spend.Reason)
	}
	f.Report = rep
	return f, nil
}

func indexOf[T comparable](list []T, v T) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	panic(fmt.Sprintf("value: %v not in %v", v, list))
}

// lastOrderTime is the time of customer c's last order in ds.
func lastOrderTime(ds *features.Dataset, c int32) int64 {
	orders := ds.CustomerOrders.Of(int(c))
	return ds.Orders[orders[len(orders)-1]].Time
}

// Writer stores table rows; *registry.Builder is one.
type Writer interface {
	Put(table string, key, val []byte) error
}

// Write stores the model and every customer's record.
func (f *Fitted) Write(w Writer) error {
	mj, err := json.Marshal(f.meta)
	if err != nil {
		return fmt.Errorf("value: encode model: %w", err)
	}
	if err := w.Put(MetaTable, []byte("model"), mj); err != nil {
		return err
	}
	return parallel.OrderedPut(len(f.records), func(_, i int, key, val []byte) ([]byte, []byte, bool) {
		return append(key, f.ids[i]...), appendRecord(val, &f.records[i]), true
	}, func(key, val []byte) error {
		return w.Put(CustomersTable, key, val)
	})
}

// Record encoding: a format byte, four uvarints (x, t_x, T in days,
// orders), then float64s, then four bytes (tier, segment, R, F); format 2
// adds the risk band byte and the churn probability and value at risk.
const recordFormat = 2

// RiskBands name the churn risk bands stored with each customer (the churn
// package's bands); NoRisk marks a customer without a churn score.
var RiskBands = []string{"low", "medium", "high"} // riskSlots in list.go counts these plus "none"

// NoRisk is the risk band of a customer without a churn score.
const NoRisk = 255

// SetChurn records the churn results of the customers in scores (by id) so
// lists can filter by risk band and order by value at risk; band is an
// index into RiskBands.
func (f *Fitted) SetChurn(scores map[string]ChurnResult) {
	for i, id := range f.ids {
		r := &f.records[i]
		r.RiskBand, r.ChurnProbability, r.ValueAtRisk = NoRisk, 0, 0
		if c, ok := scores[id]; ok {
			r.RiskBand, r.ChurnProbability, r.ValueAtRisk = c.Band, c.Probability, c.ValueAtRisk
		}
	}
}

// ChurnResult is what lists need of a churn score.
type ChurnResult struct {
	Band        uint8
	Probability float64
	ValueAtRisk float64
}

var errCorrupt = errors.New("corrupt customer-value record")

func appendRecord(b []byte, r *record) []byte {
	b = append(b, recordFormat)
	for _, v := range []int32{r.X, r.TxDays, r.TDays, r.Orders} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	s := &r.Score
	for _, v := range []float64{r.Spend, r.RepeatSpend, r.Returned, r.DaysSince,
		s.PAlive, s.QuietProb, s.ExpectedOrders, s.ProbAny, s.NextOrderDays, s.ExpectedValue, s.CLV, s.HistoricValue} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	b = append(b, r.Tier, r.Segment, r.R, r.F, r.RiskBand)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.ChurnProbability))
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(r.ValueAtRisk))
}

func decodeRecord(b []byte, r *record) error {
	if len(b) == 0 || (b[0] != 1 && b[0] != recordFormat) {
		return errCorrupt
	}
	format := b[0]
	b = b[1:]
	ints := []*int32{&r.X, &r.TxDays, &r.TDays, &r.Orders}
	for _, p := range ints {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > math.MaxInt32 {
			return errCorrupt
		}
		*p = int32(v)
		b = b[n:]
	}
	s := &r.Score
	floats := []*float64{&r.Spend, &r.RepeatSpend, &r.Returned, &r.DaysSince,
		&s.PAlive, &s.QuietProb, &s.ExpectedOrders, &s.ProbAny, &s.NextOrderDays, &s.ExpectedValue, &s.CLV, &s.HistoricValue}
	tail := 4
	if format == 2 {
		tail = 4 + 1 + 16
	}
	if len(b) != 8*len(floats)+tail {
		return errCorrupt
	}
	for _, p := range floats {
		*p = math.Float64frombits(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	r.Tier, r.Segment, r.R, r.F = b[0], b[1], b[2], b[3]
	r.RiskBand, r.ChurnProbability, r.ValueAtRisk = NoRisk, 0, 0
	if format == 2 {
		r.RiskBand = b[4]
		r.ChurnProbability = math.Float64frombits(binary.LittleEndian.Uint64(b[5:]))
		r.ValueAtRisk = math.Float64frombits(binary.LittleEndian.Uint64(b[13:]))
		if r.RiskBand != NoRisk && int(r.RiskBand) >= len(RiskBands) {
			return errCorrupt
		}
	}
	if int(r.Tier) >= len(segments.AllTiers) || int(r.Segment) >= len(segments.AllSegments) {
		return errCorrupt
	}
	return nil
}

// CLVByID returns every customer's predicted CLV at the default horizon.
func (f *Fitted) CLVByID() map[string]float64 {
	out := make(map[string]float64, len(f.ids))
	for i, id := range f.ids {
		out[id] = f.records[i].Score.CLV
	}
	return out
}
