package btyd

import (
	"fmt"
	"time"

	"github.com/patron-crm/patron/features"
)

// Unit is the time unit of the models' inputs and outputs, as a number of
// calendar days. The fitted parameter α (and every t, t_x, T) is in this
// unit, so a model is only meaningful with the unit it was fitted in.
// The zero value means Day.
type Unit int

// Time units. The CDNOW papers use Week.
const (
	Day  Unit = 1
	Week Unit = 7
)

// Days returns the length of the unit in days (Day for the zero value).
func (u Unit) Days() float64 {
	if u <= 0 {
		return 1
	}
	return float64(u)
}

// String returns "day", "week" or "N days".
func (u Unit) String() string {
	switch u {
	case 0, Day:
		return "day"
	case Week:
		return "week"
	}
	return fmt.Sprintf("%d days", int(u))
}

// SummaryOptions says how Summarize cuts and measures a history.
type SummaryOptions struct {
	// Through is the last day of the calibration period, inclusive: orders
	// on calendar days up to and including Through's day (in Location)
	// count. Its time of day is ignored. Required.
	Through time.Time
	// Unit is the time unit of Frequency, Recency and Age; 0 means Day.
	Unit Unit
	// Location decides where calendar days begin; nil means UTC.
	Location *time.Location
}

// Customer is one customer's calibration summary, the sufficient statistics
// of the BG/NBD and Gamma-Gamma models, kept in whole days so it is exact.
//
// Orders placed on the same calendar day are one transaction whose value is
// the sum of the orders' values, as in the papers (Fader, Hardie & Lee 2005).
// With the first transaction on day d₀, the last on day d_x and the
// calibration's last day D (Through):
//
//	x   = number of transactions - 1         (repeat transactions)
//	t_x = d_x - d₀  days                      (0 when x = 0)
//	T   = D - d₀    days
//
// Days are counted between calendar days, not exact times: an order at
// 23:59 and one at 00:01 the next day are one day apart. This reproduces the
// published CDNOW summary exactly (T = 38.86 weeks = 272 days for a first
// purchase on 1997-01-01 and Through 1997-09-30).
type Customer struct {
	// ID is the customer's dense id in the Dataset.
	ID int32
	// X is the number of repeat transactions (same-day orders merged).
	X int32
	// TxDays is the days from the first transaction to the last.
	TxDays int32
	// TDays is the days from the first transaction to Through.
	TDays int32
	// FirstDay is the day of the first transaction, in days since
	// 1970-01-01 in the summary's Location.
	FirstDay int32
	// Orders is the number of orders before same-day merging.
	Orders int32
	// Spend is the value of all transactions (gross, first included).
	Spend float64
	// RepeatSpend is the value of the repeat transactions (all but the first).
	RepeatSpend float64
	// Returned is the value of the customer's return lines up to Through.
	Returned float64
}

// MeanRepeatValue is z̄, the mean value of the repeat transactions, the
// Gamma-Gamma model's input; 0 when X = 0. The first transaction is left
// out, as in Fader, Hardie & Lee (2005, JMR). Values are net of returns:
// each is scaled by the share of the customer's spend they kept, so an
// order that was cancelled in full adds no value (on Online Retail one
// customer's single 168,000 order was cancelled the same day).
func (c *Customer) MeanRepeatValue() float64 {
	if c.X == 0 {
		return 0
	}
	return c.RepeatSpend / float64(c.X) * c.keptShare()
}

// keptShare is the share of the spend not returned, in [0, 1].
func (c *Customer) keptShare() float64 {
	if c.Spend <= 0 || c.Returned <= 0 {
		return 1
	}
	return max(0, c.Spend-c.Returned) / c.Spend
}

// HistoricValue is what the customer has spent up to Through, net of
// returns (never below zero).
func (c *Customer) HistoricValue() float64 {
	return max(0, c.Spend-c.Returned)
}

// Summary is the calibration summary of a Dataset: one Customer per known
// customer with at least one order up to Through.
type Summary struct {
	Through  time.Time // midnight starting the last day, in Location
	Unit     Unit
	Location *time.Location
	// Customers are in dense id order.
	Customers []Customer
	// Skipped counts known customers with no order up to Through.
	Skipped int

	row []int32 // dense id -> index in Customers, -1 when absent
}

// Obs returns customer c's (x, t_x, T) in the summary's unit, with weight 1.
func (s *Summary) Obs(c *Customer) Obs {
	d := s.Unit.Days()
	return Obs{X: float64(c.X), Tx: float64(c.TxDays) / d, T: float64(c.TDays) / d, W: 1}
}

// AllObs returns every customer's observation, in the order of Customers.
func (s *Summary) AllObs() []Obs {
	out := make([]Obs, len(s.Customers))
	for i := range s.Customers {
		out[i] = s.Obs(&s.Customers[i])
	}
	return out
}

// SpendObs returns the Gamma-Gamma inputs of the repeat buyers: X and
// MeanRepeatValue, for customers with X > 0.
func (s *Summary) SpendObs() []SpendObs {
	var out []SpendObs
	for i := range s.Customers {
		c := &s.Customers[i]
		if c.X > 0 {
			out = append(out, SpendObs{X: float64(c.X), Mean: c.MeanRepeatValue()})
		}
	}
	return out
}

// Find returns the summary of the customer with dense id id.
func (s *Summary) Find(id int32) (*Customer, bool) {
	if id < 0 || int(id) >= len(s.row) || s.row[id] < 0 {
		return nil, false
	}
	return &s.Customers[s.row[id]], true
}

// Summarize builds the calibration summary of ds as of opts.Through (see
// Customer for the definitions). Guest orders are ignored; returns count
// in Returned but never as transactions.
func Summarize(ds *features.Dataset, opts SummaryOptions) (*Summary, error) {
	if opts.Through.IsZero() {
		return nil, fmt.Errorf("btyd: summary needs the calibration's last day (Through)")
	}
	if opts.Unit < 0 {
		return nil, fmt.Errorf("btyd: unit %d days: must be positive", int(opts.Unit))
	}
	if opts.Unit == 0 {
		opts.Unit = Day
	}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := opts.Through.In(loc).Date()
	through := time.Date(y, m, d, 0, 0, 0, 0, loc)
	lastDay := dayOf(through.Unix(), loc)
	// Orders strictly before the next day's midnight are in.
	limit := time.Date(y, m, d+1, 0, 0, 0, 0, loc).Unix()

	n := ds.Customers.Len()
	s := &Summary{Through: through, Unit: opts.Unit, Location: loc, row: make([]int32, n)}
	s.Customers = make([]Customer, 0, n)
	for id := 0; id < n; id++ {
		s.row[id] = -1
		orders := ds.CustomerOrders.Of(id)
		if len(orders) == 0 || ds.Orders[orders[0]].Time >= limit {
			s.Skipped++
			continue
		}
		c := Customer{ID: int32(id)}
		prev := int32(0)
		for k, o := range orders {
			ord := &ds.Orders[o]
			if ord.Time >= limit {
				break
			}
			day := dayOf(ord.Time, loc)
			c.Orders++
			c.Spend += ord.Value
			switch {
			case k == 0:
				c.FirstDay = day
			case day != prev:
				c.X++
				c.RepeatSpend += ord.Value
			case c.X > 0: // same day as the previous repeat transaction
				c.RepeatSpend += ord.Value
			}
			prev = day
		}
		c.TxDays = prev - c.FirstDay
		c.TDays = lastDay - c.FirstDay
		if ds.CustomerReturns.Ptr != nil {
			for _, r := range ds.CustomerReturns.Of(id) {
				if ds.Returns[r].Time >= limit {
					break
				}
				c.Returned += ds.Returns[r].Value
			}
		}
		s.row[id] = int32(len(s.Customers))
		s.Customers = append(s.Customers, c)
	}
	return s, nil
}

// dayOf returns the calendar day of Unix time t in loc, as days since
// 1970-01-01.
func dayOf(t int64, loc *time.Location) int32 {
	if loc != time.UTC {
		_, off := time.Unix(t, 0).In(loc).Zone()
		t += int64(off)
	}
	d := t / 86400
	if t%86400 < 0 {
		d--
	}
	return int32(d)
}
