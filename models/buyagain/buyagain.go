// Package buyagain ranks the items a customer has bought before by how
// likely they are to buy them again soon: shops selling consumables and
// stock items (the UCI Online Retail data is a wholesaler's) get most of
// their next orders from repeat items.
//
// For customer c and item i bought in n_ci of c's orders, last at t_ci, the
// score at the as-of date T is
//
//	rebuy(c, i) = n_ci^a * 2^(-(T - t_ci) / h_c) * due(c, i)
//
// where h_c is a recency half-life scaled by the customer's own mean gap
// between orders (a frequent buyer's purchase a month ago is older news than
// an occasional buyer's), and due(c, i) favours an item whose own repurchase
// interval (the mean gap between c's orders of i, when bought at least twice)
// has elapsed: due = 1 + d * min(1, (T - t_ci) / interval), so an item just
// bought ranks below one that is due. With RepeatPower ρ > 0 the score is
// also multiplied by r_i^ρ, where r_i is the share of item i's buyers who
// bought it in more than one order (shrunk toward the share over all items
// by a Beta prior worth RepeatPrior buyers): a consumable its buyers keep
// reordering outranks a one-off purchase bought as often by this customer.
// Two more factors say how the item sells now: exp(g t_i), t_i its trend
// (log of its orders in the last 30 days against a third of the 90 before,
// each plus one), and (1 + b_i)^u, b_i the distinct customers who bought it
// lately, so of two items a customer bought alike the one that sells more
// now, and to more people, comes first (the "quality" half of Anderson et
// al.'s recency-plus-quality model). The caller measures t_i and b_i
// (Signals). The shape follows the repeat-consumption models of Anderson et
// al. 2014 ("The dynamics of repeat consumption") and Bhagat et al. 2018
// ("Buy it again: modeling repeat purchase recommendations", where the
// per-item repeat probability r_i comes from), simplified to a few
// parameters tuned by validation.
package buyagain

import (
	"math"
	"time"

	"github.com/patron-crm/patron/features"
)

// Params shape the score; zero values take the defaults.
type Params struct {
	// CountPower is a: how much the number of orders with the item counts (default 1).
	CountPower float64
	// HalfLifeGaps is h_c in units of the customer's mean gap between orders
	// (default 4); HalfLifeMin and HalfLifeMax bound it in days (14, 365).
	HalfLifeGaps             float64
	HalfLifeMin, HalfLifeMax float64
	// DueWeight is d (0, the default, ignores repurchase intervals; on the
	// Online Retail validation window 0.25 / 0.5 / 1 scored lower than 0).
	DueWeight float64
	// RepeatPower is ρ, the weight of the item's repeat rate r_i (0 or
	// less: none, since a rate of 0 to a negative power is infinite).
	RepeatPower float64
	// TrendPower is g, the weight of the item's trend t_i (0: none). On the
	// Online Retail validation window of the README, NDCG@10 of
	// recommendations with bought items was 0.430 / 0.432 / 0.433 / 0.435 /
	// 0.434 / 0.431 / 0.424 at g = 0 / 0.1 / 0.15 / 0.2 / 0.25 / 0.35 / 0.5.
	TrendPower float64
	// BuyersPower is u, the weight of the item's recent buyers b_i (0:
	// none). On the same window, with g = 0.2: 0.4346 / 0.4361 / 0.4380 /
	// 0.4389 / 0.4387 / 0.4383 at u = 0 / 0.1 / 0.15 / 0.2 / 0.25 / 0.3.
	BuyersPower float64
}

// Signals are per-item inputs of the score that do not depend on its
// parameters, so scorers that differ only in those share them. Each is
// indexed by item; nil leaves its factor out.
type Signals struct {
	// Rates are RepeatRates(ds); nil computes them when RepeatPower needs
	// them.
	Rates []float64
	// Trend is t_i, and LogBuyers is log(1 + b_i).
	Trend, LogBuyers []float32
}

// RepeatPrior is the weight, in buyers, of the prior that shrinks an item's
// repeat rate toward the rate over all items.
const RepeatPrior = 5

func (p Params) withDefaults() Params {
	if p.CountPower == 0 {
		p.CountPower = 1
	}
	if p.HalfLifeGaps == 0 {
		p.HalfLifeGaps = 4
	}
	if p.HalfLifeMin == 0 {
		p.HalfLifeMin = 14
	}
	if p.HalfLifeMax == 0 {
		p.HalfLifeMax = 365
	}
	if p.DueWeight < 0 {
		p.DueWeight = 0
	}
	return p
}

// Item is one candidate for buying again.
type Item struct {
	Item     int32
	Score    float64
	Orders   int     // orders of the customer holding the item
	Last     int64   // Unix seconds of the last of them
	Interval float64 // mean days between them (0 when bought once)
}

// Scorer computes buy-again scores from a Dataset's timelines. It holds no
// per-customer state, so one Scorer serves concurrent callers that each
// pass their own scratch.
type Scorer struct {
	ds    *features.Dataset
	asOf  int64
	p     Params
	sig   Signals
	boost []float64 // r_i^b exp(g t_i) (1 + b_i)^u, by item (nil: 1)
}

// New returns a Scorer for ds at asOf with the item signals sig.
func New(ds *features.Dataset, asOf time.Time, p Params, sig Signals) *Scorer {
	s := &Scorer{ds: ds, asOf: asOf.Unix(), p: p.withDefaults(), sig: sig}
	if s.p.RepeatPower > 0 && s.sig.Rates == nil {
		s.sig.Rates = RepeatRates(ds)
	}
	// The item factors, once per item rather than per customer and item.
	n := ds.Items.Len()
	repeat := s.p.RepeatPower > 0
	trend := s.p.TrendPower != 0 && sig.Trend != nil
	buyers := s.p.BuyersPower != 0 && sig.LogBuyers != nil
	if !repeat && !trend && !buyers {
		return s
	}
	s.boost = make([]float64, n)
	for i := range s.boost {
		var e float64
		if trend {
			e += s.p.TrendPower * float64(sig.Trend[i])
		}
		if buyers {
			e += s.p.BuyersPower * float64(sig.LogBuyers[i])
		}
		s.boost[i] = math.Exp(e)
		if repeat {
			s.boost[i] *= math.Pow(s.sig.Rates[i], s.p.RepeatPower)
		}
	}
	return s
}

// Signals returns the signals the scorer was given, with the repeat rates
// it computed.
func (s *Scorer) Signals() Signals { return s.sig }

// RepeatRates returns, per item of ds, the share of its buyers who bought
// it in more than one order, shrunk toward the share over all items:
//
//	r_i = (repeaters_i + RepeatPrior * r) / (buyers_i + RepeatPrior)
//	r   = (all repeaters + 1) / (all buyers + 2)
//
// (r by Laplace's rule, so a shop where no one has bought anything twice
// yet gives every item a small rate, not 0, which would zero every score).
// Like Customer, it reads every order of ds: ds holds the orders before
// the as-of date. The counts come from ds.CustomerItems, whose values are
// the customer's orders holding the item.
func RepeatRates(ds *features.Dataset) []float64 {
	n := ds.Items.Len()
	buyers, repeaters := make([]float64, n), make([]float64, n)
	var allBuyers, allRepeaters float64
	for k, i := range ds.CustomerItems.Idx {
		buyers[i]++
		allBuyers++
		if ds.CustomerItems.Val[k] > 1 {
			repeaters[i]++
			allRepeaters++
		}
	}
	prior := (allRepeaters + 1) / (allBuyers + 2)
	rates := make([]float64, n)
	for i := range n {
		rates[i] = (repeaters[i] + RepeatPrior*prior) / (buyers[i] + RepeatPrior)
	}
	return rates
}

// Scratch is per-goroutine working memory for Customer.
type Scratch struct {
	first, last []int64
	count       []int32
	touched     []int32
}

// Params returns the scorer's parameters, defaults filled in.
func (s *Scorer) Params() Params { return s.p }

// NewScratch returns scratch space for ds's item count.
func (s *Scorer) NewScratch() *Scratch {
	n := s.ds.Items.Len()
	return &Scratch{first: make([]int64, n), last: make([]int64, n), count: make([]int32, n)}
}

// Customer appends customer c's buy-again candidates (unsorted) to dst.
func (s *Scorer) Customer(c int32, sc *Scratch, dst []Item) []Item {
	ds := s.ds
	orders := ds.CustomerOrders.Of(int(c))
	if len(orders) == 0 {
		return dst
	}
	sc.touched = sc.touched[:0]
	for _, o := range orders {
		t := ds.Orders[o].Time
		items, _ := ds.OrderItems.Row(int(o))
		for _, i := range items {
			if sc.count[i] == 0 {
				sc.touched = append(sc.touched, i)
				sc.first[i] = t
			}
			sc.count[i]++
			sc.last[i] = t
		}
	}
	first, last := ds.Orders[orders[0]].Time, ds.Orders[orders[len(orders)-1]].Time
	gap := 0.0 // mean days between the customer's orders
	if len(orders) > 1 {
		gap = float64(last-first) / 86400 / float64(len(orders)-1)
	}
	h := s.p.HalfLifeMax
	if gap > 0 {
		h = min(max(s.p.HalfLifeGaps*gap, s.p.HalfLifeMin), s.p.HalfLifeMax)
	}
	for _, i := range sc.touched {
		n := sc.count[i]
		age := float64(s.asOf-sc.last[i]) / 86400
		it := Item{Item: i, Orders: int(n), Last: sc.last[i]}
		due := 1.0
		if n > 1 {
			it.Interval = float64(sc.last[i]-sc.first[i]) / 86400 / float64(n-1)
			if it.Interval > 0 {
				due += s.p.DueWeight * min(1, age/it.Interval)
			}
		}
		it.Score = math.Pow(float64(n), s.p.CountPower) * math.Exp2(-age/h) * due
		if s.boost != nil {
			it.Score *= s.boost[i]
		}
		dst = append(dst, it)
		sc.count[i] = 0
	}
	return dst
}
