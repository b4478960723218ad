package btyd

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"
)

// daysPerYear converts the annual discount rate to days (Gregorian mean year).
const daysPerYear = 365.2425

// CLVOptions says how far ahead and how Score values customers.
type CLVOptions struct {
	// HorizonDays is the prediction horizon in days; 0 means 365.
	HorizonDays float64
	// AnnualDiscount is the annual discount rate (0.10 = 10%); 0 means no
	// discounting. DefaultCLVOptions sets 0.10.
	AnnualDiscount float64
	// Periods is the number of equal steps the horizon is cut into for
	// discounting; 0 means one per month (rounded up).
	Periods int
	// Seasonality, when positive, is how much busier the horizon is than an
	// average stretch of the same length (a seasonal index, 1 = average):
	// the purchase process runs on a clock that ticks Seasonality times as
	// fast as the calendar, so E[X] is taken at Seasonality x t while
	// discounting follows calendar time. 0 means 1.
	Seasonality float64
}

// DefaultCLVOptions returns a 365-day horizon, monthly steps and a 10%
// annual discount rate.
func DefaultCLVOptions() CLVOptions {
	return CLVOptions{HorizonDays: 365, AnnualDiscount: 0.10}
}

func (o CLVOptions) resolve() (CLVOptions, error) {
	if o.HorizonDays == 0 {
		o.HorizonDays = 365
	}
	if !(o.HorizonDays > 0) || math.IsInf(o.HorizonDays, 0) {
		return o, fmt.Errorf("btyd: horizon %v days: must be > 0", o.HorizonDays)
	}
	if !(o.AnnualDiscount >= 0) || math.IsInf(o.AnnualDiscount, 0) {
		return o, fmt.Errorf("btyd: annual discount rate %v: must be >= 0", o.AnnualDiscount)
	}
	if o.Seasonality == 0 {
		o.Seasonality = 1
	}
	if !(o.Seasonality > 0) || math.IsInf(o.Seasonality, 0) {
		return o, fmt.Errorf("btyd: seasonality %v: must be > 0", o.Seasonality)
	}
	if o.Periods < 0 {
		return o, fmt.Errorf("btyd: %d discount periods: must be >= 0", o.Periods)
	}
	if o.Periods == 0 {
		o.Periods = max(1, int(math.Ceil(o.HorizonDays/(daysPerYear/12)-1e-9)))
	}
	return o, nil
}

// Model is a fitted customer-value model: a purchase model (BG/NBD or
// MBG/NBD, as Kind says) for the number and timing of transactions, a
// SpendModel for their value, in the time unit of the Summary it was fitted
// on, as of that Summary's last day. It round-trips through encoding/json;
// models encoded before Kind existed decode as BG/NBD.
type Model struct {
	Unit    Unit
	Through time.Time // the calibration's last day (midnight, in its location)

	// Kind is the purchase model; empty means BGNBDKind.
	Kind PurchaseKind `json:",omitempty"`
	// Purchases holds the purchase model's fitted r, α, a, b, for either
	// Kind (both models have these four, with the same meaning: Gamma(r, α)
	// purchase rates, Beta(a, b) dropout probabilities). Predict through
	// PurchaseModel, which applies Kind's formulas: Purchases' own methods
	// are the BG/NBD's, wrong for an MBG/NBD model.
	Purchases BGNBD
	Spend     SpendModel

	// PurchaseFit and SpendFit describe the fits (log-likelihood,
	// optimizer, boundary); SpendFit is nil when no Gamma-Gamma fit was
	// possible (see Spend.Reason).
	PurchaseFit *FitStats
	SpendFit    *GammaGammaFit
}

// PurchaseModel returns the fitted purchase model: BGNBD or MBGNBD as Kind
// says, with the parameters in Purchases. It panics on an unknown Kind.
func (m *Model) PurchaseModel() PurchaseModel {
	p := m.Purchases
	return NewPurchaseModel(m.Kind, p.R, p.Alpha, p.A, p.B)
}

// Fit fits the purchase model opts.Purchases (BG/NBD by default) and the
// spend model on a summary. The purchase fit must succeed (its errors are
// returned); the Gamma-Gamma fit may fail (q <= 1, too few repeat buyers),
// and then the spend model falls back to observed means with Spend.Reason
// saying why. SelectByHoldout chooses between the purchase models.
func Fit(s *Summary, opts FitOptions) (*Model, error) {
	kind, err := ParsePurchaseKind(string(opts.Purchases))
	if err != nil {
		return nil, err
	}
	p, pf, err := fitPurchases(kind, s.AllObs(), opts)
	if err != nil {
		return nil, err
	}
	m := &Model{Unit: s.Unit, Through: s.Through, Kind: kind, Purchases: p, PurchaseFit: pf}
	var total float64
	var n int64
	for i := range s.Customers {
		total += s.Customers[i].HistoricValue() // net of returns, like MeanRepeatValue
		n += int64(s.Customers[i].X) + 1
	}
	m.Spend.PopulationMean = total / float64(n)
	sf, err := FitGammaGamma(s.SpendObs(), opts)
	switch {
	case err == nil:
		m.Spend.GammaGamma, m.SpendFit = sf.Model, sf
	case errors.Is(err, ErrInfiniteMean) || errors.Is(err, ErrTooFewCustomers) || errors.Is(err, ErrNoRepeatBuyers) || errors.Is(err, ErrNoConvergence):
		m.Spend.Fallback, m.Spend.Reason, m.SpendFit = true, err.Error(), sf
	default:
		return nil, err
	}
	return m, nil
}

// Score is one customer's predictions at the model's Through date.
type Score struct {
	// PAlive is the probability that the customer is still active.
	PAlive float64
	// QuietProb is the probability that an active customer would have been
	// silent this long (see BGNBD.QuietProb); small values flag churn risk
	// even when P(alive) is uninformative.
	QuietProb float64
	// ExpectedOrders is the expected number of transactions in the horizon.
	ExpectedOrders float64
	// MedianOrders is the median number of transactions in the horizon:
	// the forecast with the smallest expected absolute error (see
	// BGNBD.MedianOrders), where ExpectedOrders has the smallest squared one.
	MedianOrders float64
	// ProbAny is the probability of at least one transaction in the horizon.
	ProbAny float64
	// NextOrderDays is the median number of days after Through to the next
	// transaction if the customer is active (see BGNBD.MedianWait).
	NextOrderDays float64
	// ExpectedValue is the expected value of one future transaction.
	ExpectedValue float64
	// CLV is the discounted expected spend over the horizon.
	CLV float64
	// HistoricValue is the spend up to Through, net of returns.
	HistoricValue float64
}

// NextOrder returns the date of the median next transaction (Through +
// NextOrderDays), for display.
func (m *Model) NextOrder(s Score) time.Time {
	return m.Through.Add(time.Duration(math.Round(s.NextOrderDays*86400)) * time.Second)
}

// Score predicts one customer of the summary the model was fitted on (or a
// later summary with the same Unit and Through). With horizon H cut into K
// periods t_k = kH/K and d the annual discount rate,
//
//	CLV = E[M | x, z̄] · Σ_k (E[X(t_k) | x, t_x, T] - E[X(t_{k-1}) | x, t_x, T]) / (1+d)^(t_k / 365.2425 days)
//
// the expected transactions of each period valued at the customer's
// expected transaction value and discounted from the period's end
// (Fader, Hardie & Lee 2005, JMR, use the same product of the two models
// with a continuous discount; monthly steps differ from it by well under 1%).
func (m *Model) Score(s *Summary, c *Customer, opts CLVOptions) (Score, error) {
	opts, err := opts.resolve()
	if err != nil {
		return Score{}, err
	}
	return m.score(m.PurchaseModel(), s, c, opts), nil
}

// score scores c with bg, the model's PurchaseModel (resolved once by the
// caller: an interface value allocates).
func (m *Model) score(bg PurchaseModel, s *Summary, c *Customer, opts CLVOptions) Score {
	o := s.Obs(c)
	d := m.Unit.Days()
	h := opts.HorizonDays / d
	sc := Score{
		PAlive:        bg.PAlive(o),
		QuietProb:     bg.QuietProb(o),
		ProbAny:       bg.ProbAny(h*opts.Seasonality, o),
		MedianOrders:  bg.MedianOrders(h*opts.Seasonality, o),
		NextOrderDays: bg.MedianWait(o) * d,
		ExpectedValue: m.Spend.ExpectedValue(o.X, c.MeanRepeatValue()),
		HistoricValue: c.HistoricValue(),
	}
	var prev, disc float64
	for k := 1; k <= opts.Periods; k++ {
		t := h * float64(k) / float64(opts.Periods)
		e := bg.ExpectedOrders(t*opts.Seasonality, o)
		f := 1.0
		if opts.AnnualDiscount > 0 {
			f = math.Pow(1+opts.AnnualDiscount, -t*d/daysPerYear)
		}
		disc += max(0, e-prev) * f
		prev = e
	}
	sc.ExpectedOrders = prev
	sc.CLV = sc.ExpectedValue * disc
	return sc
}

// ScoreAll scores every customer of s, in the order of s.Customers, on
// workers goroutines (0 means runtime.GOMAXPROCS). Each score depends only
// on its customer, so the result does not depend on workers.
func (m *Model) ScoreAll(s *Summary, opts CLVOptions, workers int) ([]Score, error) {
	opts, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([]Score, len(s.Customers))
	bg := m.PurchaseModel()
	const chunk = 4096
	parallel(workers, (len(out)+chunk-1)/chunk, func(c int) {
		for i := c * chunk; i < min(len(out), (c+1)*chunk); i++ {
			out[i] = m.score(bg, s, &s.Customers[i], opts)
		}
	})
	return out, nil
}
