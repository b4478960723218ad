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
	Forecast  string  `json:"forecast"`
	Quantity  string  `json:"quantity"` // "orders" or "spend"
	Predicted float64 `json:"predicted_total"`
	Actual    float64 `json:"actual_total"`
	Pearson   float64 `json:"pearson"`
	MAE       float64 `json:"mae"`
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
	horizon := end.Sub(cal).Hours() / 24
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
	naiveOrders, naiveSpend := make([]float64, n), make([]float64, n)
	actOrders, actSpend := make([]float64, n), make([]float64, n)
	for i := range sum.Customers {
		c := &sum.Customers[i]
		predOrders[i] = scores[i].ExpectedOrders
		predSpend[i] = scores[i].ExpectedOrders * scores[i].ExpectedValue
		seasOrders[i] = seasonal[i].ExpectedOrders
		seasSpend[i] = seasonal[i].ExpectedOrders * seasonal[i].ExpectedValue
		if c.TDays > 0 {
			naiveOrders[i] = float64(c.X) / float64(c.TDays) * horizon
		}
		naiveSpend[i] = naiveOrders[i] * c.HistoricValue() / float64(c.X+1)
		actOrders[i], actSpend[i] = holdout(ds, c.ID, cal, end)
	}
	ev.Rows = []ForecastAccuracy{
		accuracy("bg/nbd, seasonal (patron)", "orders", seasOrders, actOrders),
		accuracy("bg/nbd, plain", "orders", predOrders, actOrders),
		accuracy("naive constant rate", "orders", naiveOrders, actOrders),
		accuracy("bg/nbd x gamma-gamma, seasonal (patron)", "spend", seasSpend, actSpend),
		accuracy("bg/nbd x gamma-gamma, plain", "spend", predSpend, actSpend),
		accuracy("naive constant rate", "spend", naiveSpend, actSpend),
	}
	return ev, nil
}

// holdout counts customer c's transactions (distinct UTC days with an order)
// and their value in [from, to).
func holdout(ds *features.Dataset, c int32, from, to time.Time) (orders, spend float64) {
	lastDay := int64(math.MinInt64)
	for _, o := range ds.CustomerOrders.Of(int(c)) {
		ord := ds.Orders[o]
		if ord.Time < from.Unix() || ord.Time >= to.Unix() {
			continue
		}
		if d := ord.Time / 86400; d != lastDay {
			orders++
			lastDay = d
		}
		spend += ord.Value
	}
	return orders, spend
}

func accuracy(name, qty string, pred, act []float64) ForecastAccuracy {
	a := ForecastAccuracy{Forecast: name, Quantity: qty}
	var sp, sa, spp, saa, spa float64
	n := float64(len(pred))
	for i := range pred {
		p, x := pred[i], act[i]
		a.Predicted += p
		a.Actual += x
		a.MAE += math.Abs(p - x)
		sp, sa, spp, saa, spa = sp+p, sa+x, spp+p*p, saa+x*x, spa+p*x
	}
	if n > 0 {
		a.MAE /= n
		cov := spa/n - (sp/n)*(sa/n)
		// Undefined (reported as 0) when predictions or actuals are constant.
		if den := (spp/n - (sp/n)*(sp/n)) * (saa/n - (sa/n)*(sa/n)); den > 0 {
			a.Pearson = cov / math.Sqrt(den)
		}
	}
	return a
}
