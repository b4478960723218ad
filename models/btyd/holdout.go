package btyd

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/patron-crm/patron/features"
)

// Holdout is the window after a summary's Through in which forecasts are
// checked: each customer's actual transactions (same-day orders merged, in
// the summary's Location, as Summarize counts them) on the days after
// Through and before End's day.
type Holdout struct {
	Through time.Time // the summary's last calibration day
	End     time.Time // exclusive: the first day not in the window
	// Days is the window's length in days, the forecast horizon.
	Days float64
	// Actual[i] is the transactions of the summary's Customers[i], and
	// Spend[i] their value.
	Actual []float64
	Spend  []float64
}

// NewHoldout counts the transactions of every customer of s in ds on the
// days after s.Through and before end's day (in s.Location). ds must be the
// Dataset s was summarised from (the dense ids must match).
func NewHoldout(ds *features.Dataset, s *Summary, end time.Time) (*Holdout, error) {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	y, mo, d := end.In(loc).Date()
	endMidnight := time.Date(y, mo, d, 0, 0, 0, 0, loc)
	first := dayOf(s.Through.Unix(), loc) + 1
	last := dayOf(endMidnight.Unix(), loc) // exclusive
	if last <= first {
		return nil, fmt.Errorf("btyd: holdout ending %s is empty: it must end at least two days after the calibration's last day %s",
			endMidnight.Format(time.DateOnly), s.Through.Format(time.DateOnly))
	}
	h := &Holdout{Through: s.Through, End: endMidnight, Days: float64(last - first),
		Actual: make([]float64, len(s.Customers)), Spend: make([]float64, len(s.Customers))}
	from := time.Date(s.Through.Year(), s.Through.Month(), s.Through.Day()+1, 0, 0, 0, 0, loc).Unix()
	to := endMidnight.Unix()
	for i := range s.Customers {
		id := int(s.Customers[i].ID)
		if id >= ds.Customers.Len() {
			return nil, fmt.Errorf("btyd: holdout: customer %d of the summary is not in the dataset (%d customers): not the summary's dataset", id, ds.Customers.Len())
		}
		prev := int32(math.MinInt32)
		for _, o := range ds.CustomerOrders.Of(id) {
			t := ds.Orders[o].Time
			if t < from || t >= to {
				continue
			}
			h.Spend[i] += ds.Orders[o].Value
			if day := dayOf(t, loc); day != prev {
				h.Actual[i]++
				prev = day
			}
		}
	}
	return h, nil
}

// Forecast is a per-customer forecast of a quantity (transactions or
// spend) in a holdout: Mean is the expected value, the forecast that
// minimises squared error and adds up to totals; Median is the forecast
// that minimises absolute error (Gneiting, "Making and evaluating point
// forecasts", JASA 106(494):746-762, 2011). On counts where most customers
// buy nothing the two differ much: MAE judges a forecast by its median.
// Median may be nil.
type Forecast struct {
	Mean, Median []float64
}

// HoldoutAccuracy is how well one forecast matched a holdout.
type HoldoutAccuracy struct {
	// Forecast names the forecast: "bgnbd", "mbgnbd" or "naive".
	Forecast string `json:"forecast"`
	// Customers is the number of customers compared.
	Customers int `json:"customers"`
	// Predicted and Actual are the totals over customers (of the mean
	// forecast).
	Predicted float64 `json:"predicted_total"`
	Actual    float64 `json:"actual_total"`
	// Pearson is the correlation of the mean forecast and the actual values
	// per customer; MAE their mean absolute difference.
	Pearson float64 `json:"pearson"`
	MAE     float64 `json:"mae"`
	// MedianMAE is the mean absolute error of the median forecast, when
	// there is one: the figure to compare forecasts by MAE.
	MedianMAE float64 `json:"median_mae,omitempty"`
	// Err says why the forecast is missing (a fit that failed), if it is.
	Err string `json:"error,omitempty"`
}

// Accuracy compares a forecast with h's actual transactions.
func (h *Holdout) Accuracy(name string, f Forecast) HoldoutAccuracy {
	return Compare(name, f, h.Actual)
}

// Compare measures a per-customer forecast against actual values (orders,
// or spend): totals, Pearson correlation (0 when either side is constant)
// and mean absolute error of the mean forecast, and the mean absolute error
// of the median forecast when f has one.
func Compare(name string, f Forecast, actual []float64) HoldoutAccuracy {
	pred := f.Mean
	if len(pred) != len(actual) || (f.Median != nil && len(f.Median) != len(actual)) {
		panic(fmt.Sprintf("btyd: %d mean and %d median predictions for %d customers", len(pred), len(f.Median), len(actual)))
	}
	a := HoldoutAccuracy{Forecast: name, Customers: len(pred)}
	var sp, sa, spp, saa, spa float64
	for i, p := range pred {
		x := actual[i]
		a.MAE += math.Abs(p - x)
		sp, sa, spp, saa, spa = sp+p, sa+x, spp+p*p, saa+x*x, spa+p*x
	}
	for i, p := range f.Median {
		a.MedianMAE += math.Abs(p - actual[i])
	}
	a.Predicted, a.Actual = sp, sa
	if n := float64(len(pred)); n > 0 {
		a.MAE /= n
		a.MedianMAE /= n
		cov := spa/n - (sp/n)*(sa/n)
		if v := (spp/n - (sp/n)*(sp/n)) * (saa/n - (sa/n)*(sa/n)); v > 0 {
			a.Pearson = cov / math.Sqrt(v)
		}
	}
	return a
}

// Forecast returns each customer's expected and median transactions in h
// predicted by m, a model fitted on s (the summary h was counted for), with
// the purchase clock running seasonality times as fast as the calendar (0
// means 1; see CLVOptions.Seasonality).
func (h *Holdout) Forecast(m *Model, s *Summary, seasonality float64, workers int) (Forecast, error) {
	if len(s.Customers) != len(h.Actual) || !s.Through.Equal(h.Through) {
		return Forecast{}, fmt.Errorf("btyd: holdout of %d customers after %s, summary of %d after %s: not the same summary",
			len(h.Actual), h.Through.Format(time.DateOnly), len(s.Customers), s.Through.Format(time.DateOnly))
	}
	scores, err := m.ScoreAll(s, CLVOptions{HorizonDays: h.Days, Periods: 1, Seasonality: seasonality}, workers)
	if err != nil {
		return Forecast{}, err
	}
	f := Forecast{Mean: make([]float64, len(scores)), Median: make([]float64, len(scores))}
	for i := range scores {
		f.Mean[i], f.Median[i] = scores[i].ExpectedOrders, scores[i].MedianOrders
	}
	return f, nil
}

// Naive is the naive constant-rate forecast of h: each customer's
// calibration repeat rate x/T (per day) times the window's length, 0 for a
// customer first seen on the last day (T = 0), and as its median that of a
// Poisson count with this mean. Every model should beat it.
func (h *Holdout) Naive(s *Summary) Forecast {
	f := Forecast{Mean: make([]float64, len(s.Customers)), Median: make([]float64, len(s.Customers))}
	for i := range s.Customers {
		c := &s.Customers[i]
		if c.TDays > 0 {
			f.Mean[i] = float64(c.X) / float64(c.TDays) * h.Days
			f.Median[i] = PoissonMedian(f.Mean[i])
		}
	}
	return f
}

// SelectOptions tunes SelectByHoldout.
type SelectOptions struct {
	// Unit and Location are those of the summary (see SummaryOptions).
	Unit     Unit
	Location *time.Location
	// Seasonality is the seasonal index of the validation window (see
	// CLVOptions.Seasonality); 0 means 1.
	Seasonality float64
	// Fit tunes the fits; its Purchases is ignored.
	Fit FitOptions
}

// Selection is the result of SelectByHoldout.
type Selection struct {
	// Kind is the purchase model whose median forecast has the lowest
	// per-customer MAE on the validation window (BG/NBD on a tie).
	Kind PurchaseKind `json:"kind"`
	// Through and End delimit the window (see Holdout); Days is its length.
	Through time.Time `json:"through"`
	End     time.Time `json:"end"`
	Days    float64   `json:"days"`
	// Candidates are the accuracies of BG/NBD, MBG/NBD and the naive
	// forecast, in that order.
	Candidates []HoldoutAccuracy `json:"candidates"`
	// Models are the fitted candidates, by kind (absent when a fit failed).
	Models map[PurchaseKind]*Model `json:"-"`
}

// SelectByHoldout chooses between the BG/NBD and the MBG/NBD by forecast
// accuracy on a validation window: it fits both on the orders of ds up to
// through (inclusive) and compares each customer's forecast transactions on
// the days after through and before end with the actual ones, by the mean
// absolute error (MAE) of the median forecast (see Forecast). Use it inside the training period (through < end <=
// the training cut-off), never on the test window, then fit the chosen Kind
// on the whole training period with Fit(s, FitOptions{Purchases: sel.Kind}).
//
// A model that cannot be fitted is reported in its candidate's Err and not
// chosen; when neither can be, the BG/NBD fit's error is returned.
func SelectByHoldout(ds *features.Dataset, through, end time.Time, opts SelectOptions) (*Selection, error) {
	s, err := Summarize(ds, SummaryOptions{Through: through, Unit: opts.Unit, Location: opts.Location})
	if err != nil {
		return nil, err
	}
	h, err := NewHoldout(ds, s, end)
	if err != nil {
		return nil, err
	}
	sel := &Selection{Through: h.Through, End: h.End, Days: h.Days, Models: map[PurchaseKind]*Model{}}
	var firstErr error
	best := math.Inf(1)
	for _, k := range []PurchaseKind{BGNBDKind, MBGNBDKind} {
		fo := opts.Fit
		fo.Purchases = k
		m, err := Fit(s, fo)
		var pred Forecast
		if err == nil {
			pred, err = h.Forecast(m, s, opts.Seasonality, opts.Fit.Workers)
		}
		if err != nil {
			if !errors.Is(err, ErrTooFewCustomers) && !errors.Is(err, ErrNoRepeatBuyers) && !errors.Is(err, ErrNoConvergence) && !errors.Is(err, ErrBadObs) {
				return nil, err
			}
			firstErr = cmpErr(firstErr, err)
			sel.Candidates = append(sel.Candidates, HoldoutAccuracy{Forecast: string(k), Customers: len(h.Actual), Actual: sum(h.Actual), Err: err.Error()})
			continue
		}
		a := h.Accuracy(string(k), pred)
		sel.Candidates = append(sel.Candidates, a)
		sel.Models[k] = m
		if a.MedianMAE < best {
			best, sel.Kind = a.MedianMAE, k
		}
	}
	sel.Candidates = append(sel.Candidates, h.Accuracy("naive", h.Naive(s)))
	if sel.Kind == "" {
		return nil, fmt.Errorf("btyd: select purchase model on %s to %s: %w", h.Through.Format(time.DateOnly), h.End.Format(time.DateOnly), firstErr)
	}
	return sel, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}
