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
	plain, seas := newForecast(n), newForecast(n)
	plainSpend, seasSpend, naiveSpend := newForecast(n), newForecast(n), newForecast(n)
	naive := h.Naive(sum)
	for i := range sum.Customers {
		c := &sum.Customers[i]
		plain.Mean[i], plain.Median[i] = scores[i].ExpectedOrders, scores[i].MedianOrders
		seas.Mean[i], seas.Median[i] = seasonal[i].ExpectedOrders, seasonal[i].MedianOrders
		// Spend: the order forecast times the expected order value (for the
		// median, a forecast of spend close to its median, not exactly it).
		v := scores[i].ExpectedValue
		plainSpend.Mean[i], plainSpend.Median[i] = plain.Mean[i]*v, plain.Median[i]*v
		seasSpend.Mean[i], seasSpend.Median[i] = seas.Mean[i]*v, seas.Median[i]*v
		nv := c.HistoricValue() / float64(c.X+1)
		naiveSpend.Mean[i], naiveSpend.Median[i] = naive.Mean[i]*nv, naive.Median[i]*nv
	}
	row := func(name, qty string, f btyd.Forecast, actual []float64) ForecastAccuracy {
		return ForecastAccuracy{Quantity: qty, HoldoutAccuracy: btyd.Compare(name, f, actual)}
	}
	ev.Rows = []ForecastAccuracy{
		row("bg/nbd, seasonal (patron)", "orders", seas, h.Actual),
		row("bg/nbd, plain", "orders", plain, h.Actual),
		row("naive constant rate", "orders", naive, h.Actual),
		row("bg/nbd x gamma-gamma, seasonal (patron)", "spend", seasSpend, h.Spend),
		row("bg/nbd x gamma-gamma, plain", "spend", plainSpend, h.Spend),
		row("naive constant rate", "spend", naiveSpend, h.Spend),
	}
	return ev, nil
}

func newForecast(n int) btyd.Forecast {
	return btyd.Forecast{Mean: make([]float64, n), Median: make([]float64, n)}
}
