package synth

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config describes a synthetic shop. Start from DefaultConfig and change
// what you need; Validate says what is wrong with a Config.
type Config struct {
	// Customers is the number of registered customers. When it is 0 and
	// Lines is set, Generate picks the number that gives about Lines lines.
	Customers int `json:"customers"`
	// Lines is a target number of output lines, used only when Customers is 0.
	Lines int64 `json:"lines_target,omitempty"`
	// Items is the catalog size; Items must be at least Categories.
	Items int `json:"items"`
	// Categories is the number of latent item categories, at least 1.
	Categories int `json:"categories"`

	// Start and End bound the order times: [Start, End).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// AcquireUntil bounds the first orders: uniform over [Start,
	// AcquireUntil). Zero means three quarters of the way from Start to End.
	AcquireUntil time.Time `json:"acquire_until"`

	// R and Alpha are the shape and rate (per day) of the Gamma
	// distribution of purchase rates; both must be > 0. E[λ] = R/Alpha.
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
	// A and B are the parameters of the Beta distribution of dropout
	// probabilities; both must be > 0. E[p] = A/(A+B).
	A float64 `json:"a"`
	B float64 `json:"b"`

	// Seasonality is the amplitude of the yearly cycle, in [0, 1); 0 means
	// none (exact BG/NBD). PeakDay is the day of the year (1-366) of the peak.
	Seasonality float64 `json:"seasonality"`
	PeakDay     float64 `json:"peak_day"`

	// ZipfExponent is the exponent s of item popularity (weight rank^-s), > 0.
	ZipfExponent float64 `json:"zipf_exponent"`
	// LinesPerOrder is the mean number of lines drawn per order, >= 1.
	LinesPerOrder float64 `json:"lines_per_order"`
	// RebuyProb is the probability that a line re-buys an earlier item.
	RebuyProb float64 `json:"rebuy_prob"`
	// Explore is the probability that a line ignores the customer's
	// preferred categories and follows global popularity.
	Explore float64 `json:"explore"`

	// GuestShare is the expected share of orders placed by guests, in [0, 1).
	GuestShare float64 `json:"guest_share"`
	// ReturnRate is the probability that an order line is returned, in [0, 1].
	ReturnRate float64 `json:"return_rate"`
	// MalformedShare is the share of lines replaced by malformed ones, in [0, 1).
	MalformedShare float64 `json:"malformed_share"`

	// Seed selects the random streams; the same Config gives the same bytes.
	Seed uint64 `json:"seed"`
	// Workers is the number of goroutines; 0 means runtime.GOMAXPROCS. The
	// output does not depend on it.
	Workers int `json:"-"`
}

// DefaultConfig returns a shop of 100,000 customers and 100,000 items over
// the two years before 2026-01-01, about 10 lines per customer (1M
// customers give about 10M lines). The BG/NBD parameters give a mean
// purchase rate of one order every 90 days and a mean dropout probability
// of 0.25 per repeat purchase, in the range Fader, Hardie and Lee report for
// CDNOW (r = 0.24, α = 4.4 weeks, a = 0.79, b = 2.4) but with more frequent
// buyers, as in an online gift shop.
func DefaultConfig() Config {
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return Config{
		Customers:     100_000,
		Items:         100_000,
		Categories:    40,
		Start:         end.AddDate(-2, 0, 0),
		End:           end,
		R:             0.9,
		Alpha:         72,
		A:             1.2,
		B:             3.6,
		Seasonality:   0.3,
		PeakDay:       340, // early December
		ZipfExponent:  1.05,
		LinesPerOrder: 2.5,
		RebuyProb:     0.25,
		Explore:       0.1,
		GuestShare:    0.1,
		ReturnRate:    0.03,
		Seed:          1,
	}
}

// maxSpan bounds End - Start: times are stored as uint32 seconds from Start.
const maxSpan = 100 * 365 * 24 * time.Hour

// Validate reports the first invalid field, in words a user can act on.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error { return fmt.Errorf("synth: "+format, args...) }
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case c.Customers < 0:
		return bad("customers %d: must be >= 0", c.Customers)
	case c.Customers == 0 && c.Lines <= 0:
		return bad("set the number of customers or a target number of lines")
	case c.Customers > math.MaxInt32-1:
		return bad("customers %d: at most %d", c.Customers, math.MaxInt32-1)
	case c.Categories < 1:
		return bad("categories %d: need at least 1", c.Categories)
	case c.Items < c.Categories:
		return bad("items %d: need at least one item per category (%d)", c.Items, c.Categories)
	case c.Items > math.MaxInt32-1:
		return bad("items %d: at most %d", c.Items, math.MaxInt32-1)
	case !c.End.After(c.Start):
		return bad("end %s is not after start %s", c.End.Format(time.DateOnly), c.Start.Format(time.DateOnly))
	case c.End.Sub(c.Start) > maxSpan:
		return bad("the window %s to %s is longer than 100 years", c.Start.Format(time.DateOnly), c.End.Format(time.DateOnly))
	case !c.AcquireUntil.IsZero() && (!c.AcquireUntil.After(c.Start) || c.AcquireUntil.After(c.End)):
		return bad("acquire-until %s must be after start and not after end", c.AcquireUntil.Format(time.DateOnly))
	case !(c.R > 0) || !(c.Alpha > 0) || !finite(c.R) || !finite(c.Alpha):
		return bad("purchase rate Gamma(r=%v, alpha=%v): both must be > 0", c.R, c.Alpha)
	case !(c.A > 0) || !(c.B > 0) || !finite(c.A) || !finite(c.B):
		return bad("dropout Beta(a=%v, b=%v): both must be > 0", c.A, c.B)
	case !(c.Seasonality >= 0 && c.Seasonality < 1):
		return bad("seasonality %v: want an amplitude in [0, 1)", c.Seasonality)
	case !(c.ZipfExponent > 0) || !finite(c.ZipfExponent):
		return bad("zipf exponent %v: must be > 0", c.ZipfExponent)
	case !(c.LinesPerOrder >= 1 && c.LinesPerOrder <= 50):
		return bad("lines per order %v: want a mean in [1, 50]", c.LinesPerOrder)
	case !(c.RebuyProb >= 0 && c.RebuyProb <= 1):
		return bad("rebuy probability %v: want [0, 1]", c.RebuyProb)
	case !(c.Explore >= 0 && c.Explore <= 1):
		return bad("explore probability %v: want [0, 1]", c.Explore)
	case !(c.GuestShare >= 0 && c.GuestShare < 1):
		return bad("guest share %v: want [0, 1)", c.GuestShare)
	case !(c.ReturnRate >= 0 && c.ReturnRate <= 1):
		return bad("return rate %v: want [0, 1]", c.ReturnRate)
	case !(c.MalformedShare >= 0 && c.MalformedShare < 1):
		return bad("malformed share %v: want [0, 1)", c.MalformedShare)
	case c.Workers < 0:
		return bad("workers %d: must be >= 0", c.Workers)
	}
	return nil
}

// errTooManyLines is returned when a Lines target needs too many customers.
var errTooManyLines = errors.New("synth: the lines target needs more than 2^31 customers")
