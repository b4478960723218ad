package training

import (
	"fmt"
	"math"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/btyd"
	"github.com/patron-crm/patron/models/value"
)

// ValueEvaluation compares predicted and actual orders and spend per
// customer over a holdout window after a calibration date, beside a naive
// constant-rate forecast.
type ValueEvaluation struct {
	Calibration time.Time  `json:"calibration_end"` // exclusive: orders before it are fitted
	HoldoutEnd  time.Time  `json:"holdout_end"`     // exclusive
	Customers   int        `json:"customers"`
	Fit         btyd.BGNBD `json:"bgnbd"`
	Boundary    []string   `json:"boundary,omitempty"`
	// Seasonality is the seasonal index of the holdout (see value.Seasonality).
	Seasonality float64 `json:"seasonality"`
	// Rows: the model and the naive forecast, for orders and for spend.
	Rows []ForecastAccuracy `json:"rows"`
}

// ForecastAccuracy is one forecast's fit to the holdout, over customers.
type ForecastAccuracy struct {
	Quantity string `json:"quantity"` // "orders" or "spend"
	btyd.HoldoutAccuracy
}

// EvaluateValue fits the customer-value models on orders before cal and
// scores them on [cal, end). Orders are transactions with same-day orders
// merged, as the models count them; spend is the value of the holdout
// transactions. The naive forecast gives each customer their calibration
// repeat rate, x / T, for the holdout's length, and their mean transaction
// value.
func EvaluateValue(ds *features.Dataset, cal, end time.Time) (ValueEvaluation, error) {
	ev := ValueEvaluation{Calibration: cal, HoldoutEnd: end}
	if !cal.Before(end) {
		return ev, fmt.Errorf("evaluate value: calibration end %s must be before the holdout end %s", cal.Format(time.DateOnly), end.Format(time.DateOnly))
	}
	sum, err := btyd.Summarize(ds, btyd.SummaryOptions{Through: cal.AddDate(0, 0, -1), Unit: btyd.Day, Location: cal.Location()})
	if err != nil {
		return ev, err
	}
	m, err := btyd.Fit(sum, btyd.FitOptions{})
	if err != nil {
		return ev, err
	}
	ev.Fit, ev.Boundary = m.Purchases, m.PurchaseFit.Boundary
	h, err := btyd.NewHoldout(ds, sum, end)
	if err != nil {
		return ev, err
	}
	horizon := h.Days
	scores, err := m.ScoreAll(sum, btyd.CLVOptions{HorizonDays: horizon}, 0)
	if err != nil {
		return ev, err
	}
	ev.Seasonality = value.NewSeasonality(ds.Before(cal), cal).Index(cal, int(math.Round(horizon)))
	seasonal, err := m.ScoreAll(sum, btyd.CLVOptions{HorizonDays: horizon, Seasonality: ev.Seasonality}, 0)
	if err != nil {
		return ev, err
	}
	n := len(sum.Customers)
	ev.Customers = n
	predOrders, predSpend := make([]float64, n), make([]float64, n)
	seasOrders, seasSpend := make([]float64, n), make([]float64, n)
	naiveOrders, naiveSpend := h.Naive(sum), make([]float64, n)
	for i := range sum.Customers {
		c := &sum.Customers[i]
		predOrders[i] = scores[i].ExpectedOrders
		predSpend[i] = scores[i].ExpectedOrders * scores[i].ExpectedValue
		seasOrders[i] = seasonal[i].ExpectedOrders
		seasSpend[i] = seasonal[i].ExpectedOrders * seasonal[i].ExpectedValue
		naiveSpend[i] = naiveOrders[i] * c.HistoricValue() / float64(c.X+1)
	}
	row := func(name, qty string, pred, actual []float64) ForecastAccuracy {
		return ForecastAccuracy{Quantity: qty, HoldoutAccuracy: btyd.Compare(name, pred, actual)}
	}
	ev.Rows = []ForecastAccuracy{
		row("bg/nbd, seasonal (patron)", "orders", seasOrders, h.Actual),
		row("bg/nbd, plain", "orders", predOrders, h.Actual),
		row("naive constant rate", "orders", naiveOrders, h.Actual),
		row("bg/nbd x gamma-gamma, seasonal (patron)", "spend", seasSpend, h.Spend),
		row("bg/nbd x gamma-gamma, plain", "spend", predSpend, h.Spend),
		row("naive constant rate", "spend", naiveSpend, h.Spend),
	}
	return ev, nil
}
