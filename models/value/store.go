package value

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/patron-crm/patron/models/btyd"
	"github.com/patron-crm/patron/models/registry"
	"github.com/patron-crm/patron/models/segments"
)

// Store reads bundle tables; *registry.Bundle is one.
type Store interface {
	Get(table string, key []byte, fn func(val []byte) error) error
	Scan(table string, fn func(key, val []byte) error) error
}

// Value is one customer's predicted value.
type Value struct {
	CustomerID  string
	HorizonDays int
	// CLV is the discounted expected spend over the horizon.
	CLV float64
	// ExpectedOrders over the horizon; POrderInHorizon is the chance of at least one.
	ExpectedOrders  float64
	PAlive          float64
	POrderInHorizon float64
	// NextOrder is the median next order time if the customer is active;
	// zero when beyond MaxHorizonDays.
	NextOrder          time.Time
	ExpectedOrderValue float64
	HistoricValue      float64
	Orders             int64
	Tier, Segment      string
	RecencyScore       int
	FrequencyScore     int
	DaysSinceLastOrder float64
	// Notes are caveats of the model that apply to every customer.
	Notes []string
	// RiskBand, ChurnProbability and ValueAtRisk come from the bundle's churn
	// model; RiskBand is "" when the customer has no churn score.
	RiskBand         string
	ChurnProbability float64
	ValueAtRisk      float64
}

// Values answers customer-value queries from a bundle. Safe for concurrent use.
type Values struct {
	// hasChurn is set when any customer carries a churn score.
	hasChurn bool
	st       Store
	meta     meta
	ix       *index
	version  int64
	// seasonal caches the seasonal index by horizon: it scans the daily
	// profile, and a handful of horizons are asked again and again.
	seasonal sync.Map // int -> float64
}

// clvOptions are the scoring options of a horizon.
func (v *Values) clvOptions(days int) btyd.CLVOptions {
	o := v.meta.clvOptions(0)
	o.HorizonDays = float64(days)
	if s, ok := v.seasonal.Load(days); ok {
		o.Seasonality = s.(float64)
		return o
	}
	o.Seasonality = v.meta.Seasonality.Index(v.meta.AsOf, days)
	v.seasonal.Store(days, o.Seasonality)
	return o
}

// Open loads the model; it returns an error wrapping ErrNoModel when the
// bundle has none. The list index is read into memory (one scan).
func Open(st Store, version int64) (*Values, error) {
	v := &Values{st: st, version: version}
	err := st.Get(MetaTable, []byte("model"), func(val []byte) error { return json.Unmarshal(val, &v.meta) })
	if errors.Is(err, registry.ErrNotFound) {
		return nil, fmt.Errorf("%w in this bundle (training could not fit one; see the manifest)", ErrNoModel)
	}
	if err != nil {
		return nil, fmt.Errorf("value: read model: %w", err)
	}
	if v.meta.Model == nil {
		return nil, fmt.Errorf("value: model record without a model")
	}
	ix := &index{orders: map[string][]int32{}, version: version}
	for _, t := range segments.AllTiers {
		ix.tiers = append(ix.tiers, string(t))
	}
	ix.segs = segments.AllSegments
	ix.counts = make([][][riskSlots]int, len(ix.tiers))
	for t := range ix.counts {
		ix.counts[t] = make([][riskSlots]int, len(ix.segs))
	}
	var rec record
	err = st.Scan(CustomersTable, func(key, val []byte) error {
		if err := decodeRecord(val, &rec); err != nil {
			return fmt.Errorf("customer %q: %w", key, err)
		}
		ix.rows = append(ix.rows, row{id: string(key), tier: rec.Tier, segment: rec.Segment, risk: rec.RiskBand,
			churn: rec.ChurnProbability, atRisk: rec.ValueAtRisk, clv: rec.Score.CLV,
			historic: rec.Score.HistoricValue, pAlive: rec.Score.PAlive, expected: rec.Score.ExpectedOrders, since: rec.DaysSince})
		risk := len(RiskBands) // none
		if rec.RiskBand != NoRisk {
			risk = int(rec.RiskBand)
		}
		ix.counts[rec.Tier][rec.Segment][risk]++
		if rec.RiskBand != NoRisk {
			v.hasChurn = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("value: read customers: %w", err)
	}
	v.ix = ix
	return v, nil
}

// HasChurn reports whether the customers carry churn scores, so lists can
// filter by risk band and order by value at risk or churn probability.
func (v *Values) HasChurn() bool { return v.hasChurn }

// NeedsChurn reports whether a list request filters or orders by churn.
func NeedsChurn(req ListRequest) bool {
	return req.RiskBand != "" || req.OrderBy == OrderByValueAtRisk || req.OrderBy == OrderByChurn
}

// AsOf is the training date.
func (v *Values) AsOf() time.Time { return v.meta.AsOf }

// DefaultHorizonDays is the horizon of stored predictions and lists.
func (v *Values) DefaultHorizonDays() int { return int(v.meta.Options.HorizonDays) }

// ErrUnknownCustomer: the customer had no order before the as-of date.
var ErrUnknownCustomer = errors.New("unknown customer")

// Get returns a customer's value over horizonDays (0: the default).
func (v *Values) Get(customerID string, horizonDays int) (Value, error) {
	h, err := v.CheckHorizon(horizonDays)
	if err != nil {
		return Value{}, err
	}
	var rec record
	err = v.st.Get(CustomersTable, []byte(customerID), func(val []byte) error { return decodeRecord(val, &rec) })
	if errors.Is(err, registry.ErrNotFound) {
		return Value{}, fmt.Errorf("%w %q", ErrUnknownCustomer, customerID)
	}
	if err != nil {
		return Value{}, fmt.Errorf("value: customer %q: %w", customerID, err)
	}
	return v.value(customerID, &rec, h)
}

// CheckHorizon resolves a requested horizon: 0 is the default; outside
// MinHorizonDays..MaxHorizonDays is ErrBadRequest.
func (v *Values) CheckHorizon(days int) (int, error) {
	if days == 0 {
		return v.DefaultHorizonDays(), nil
	}
	if days < MinHorizonDays || days > MaxHorizonDays {
		return 0, fmt.Errorf("%w: horizon_days %d: want %d to %d (default %d)", ErrBadRequest, days, MinHorizonDays, MaxHorizonDays, v.DefaultHorizonDays())
	}
	return days, nil
}

// value turns a record into a Value, recomputing the predictions when the
// horizon is not the stored one.
func (v *Values) value(id string, rec *record, h int) (Value, error) {
	sc := rec.Score
	if h != v.DefaultHorizonDays() {
		m := v.meta.Model
		sum := btyd.Summary{Unit: m.Unit, Through: m.Through}
		c := btyd.Customer{X: rec.X, TxDays: rec.TxDays, TDays: rec.TDays, Orders: rec.Orders,
			Spend: rec.Spend, RepeatSpend: rec.RepeatSpend, Returned: rec.Returned}
		var err error
		if sc, err = m.Score(&sum, &c, v.clvOptions(h)); err != nil {
			return Value{}, fmt.Errorf("value: customer %q: %w", id, err)
		}
	}
	out := Value{
		CustomerID: id, HorizonDays: h, CLV: sc.CLV, ExpectedOrders: sc.ExpectedOrders, PAlive: sc.PAlive,
		POrderInHorizon: sc.ProbAny, ExpectedOrderValue: sc.ExpectedValue, HistoricValue: sc.HistoricValue,
		Orders: int64(rec.Orders), Tier: string(segments.AllTiers[rec.Tier]), Segment: segments.AllSegments[rec.Segment],
		RecencyScore: int(rec.R), FrequencyScore: int(rec.F), DaysSinceLastOrder: rec.DaysSince, Notes: v.meta.Notes,
		ChurnProbability: rec.ChurnProbability, ValueAtRisk: rec.ValueAtRisk,
	}
	if rec.RiskBand != NoRisk {
		out.RiskBand = RiskBands[rec.RiskBand]
	}
	if sc.NextOrderDays <= MaxHorizonDays && !math.IsInf(sc.NextOrderDays, 0) && !math.IsNaN(sc.NextOrderDays) {
		out.NextOrder = v.meta.Model.NextOrder(sc)
	}
	return out, nil
}

// MaxBatch is the most customers one BatchGet answers.
const MaxBatch = 1000

// BatchGet returns the values of the known customers among ids, in request
// order, and the ids it does not know.
func (v *Values) BatchGet(ids []string, horizonDays int) ([]Value, []string, error) {
	if len(ids) == 0 || len(ids) > MaxBatch {
		return nil, nil, fmt.Errorf("%w: %d customer ids: want 1 to %d", ErrBadRequest, len(ids), MaxBatch)
	}
	if _, err := v.CheckHorizon(horizonDays); err != nil {
		return nil, nil, err
	}
	out := make([]Value, 0, len(ids))
	var missing []string
	for _, id := range ids {
		val, err := v.Get(id, horizonDays)
		if errors.Is(err, ErrUnknownCustomer) {
			missing = append(missing, id)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		out = append(out, val)
	}
	return out, missing, nil
}

// Page is one page of a customer list.
type Page struct {
	Customers     []Value
	NextPageToken string
	TotalSize     int
}

// List pages through customers (values at the default horizon).
func (v *Values) List(req ListRequest) (Page, error) {
	pg, err := v.ix.list(req)
	if err != nil {
		return Page{}, err
	}
	out := Page{NextPageToken: pg.next, TotalSize: pg.total, Customers: make([]Value, 0, len(pg.rows))}
	for _, i := range pg.rows {
		val, err := v.Get(v.ix.rows[i].id, 0)
		if errors.Is(err, ErrUnknownCustomer) {
			// The store hides a customer forgotten since the index was
			// built (see serving's suppression list); the page is short.
			continue
		}
		if err != nil {
			return Page{}, err
		}
		out.Customers = append(out.Customers, val)
	}
	return out, nil
}
