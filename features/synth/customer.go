package synth

import (
	"math"
	"math/rand/v2"
)

// event is one output line in compact form; 10M lines take 160 MB.
type event struct {
	t     uint32 // seconds since Config.Start
	cust  uint32 // customer index (for a guest order, the customer whose stream made it)
	item  uint32
	seq   uint16 // order number within the customer's stream (guest orders follow the customer's own)
	qty   int8   // negative for a return
	flags uint8  // flagReturn | flagGuest | malformed kind << kindShift | country << countryShift
}

const (
	flagReturn   = 1 << 0
	flagGuest    = 1 << 1
	kindShift    = 2 // 3 bits: 0 = well formed, else malformedKinds[k-1]
	kindMask     = 7 << kindShift
	countryShift = 5 // 3 bits: index into countries
)

// maxSeq bounds a customer's orders (their own and the guest orders their
// stream adds), so order numbers fit in event.seq.
const maxSeq = math.MaxUint16

// countries and their shares of customers.
var countries = []string{"United Kingdom", "Germany", "France", "Netherlands", "Ireland", "Spain", "Belgium", "Sweden"}
var countryWeights = []float64{0.55, 0.12, 0.1, 0.06, 0.05, 0.05, 0.04, 0.03}

// customerTruth is what the truth file records of one customer.
type customerTruth struct {
	lambda, p float64
	first     uint32 // seconds since Start
	dropout   uint32 // time of the order after which the customer dropped out
	dropped   bool
	orders    uint16 // the customer's own purchase orders
	seqs      uint16 // orders in the customer's stream, guest orders included
}

// counts are the line counts a simulation adds up; sums do not depend on
// the order of the customers, so workers can count separately.
type counts struct {
	purchaseLines, returnLines, guestLines int64
	malformed                              [len(malformedKinds)]int64
}

func (c *counts) add(o *counts) {
	c.purchaseLines += o.purchaseLines
	c.returnLines += o.returnLines
	c.guestLines += o.guestLines
	for k := range c.malformed {
		c.malformed[k] += o.malformed[k]
	}
}

// sim holds what every customer simulation shares (read only).
type sim struct {
	cfg        *Config
	cat        *catalog
	span       uint32  // End - Start in seconds
	acqDays    float64 // length of the acquisition window in days
	spanDays   float64
	startDays  float64 // Start in days since 1970
	guestMean  float64 // expected guest orders per customer stream
	country    alias
	returnDays int
}

func newSim(cfg *Config, cat *catalog, guestMean float64) *sim {
	span := cfg.End.Sub(cfg.Start)
	return &sim{
		cfg:        cfg,
		cat:        cat,
		span:       uint32(span.Seconds()),
		acqDays:    cfg.AcquireUntil.Sub(cfg.Start).Hours() / 24,
		spanDays:   span.Hours() / 24,
		startDays:  float64(cfg.Start.Unix()) / 86400,
		guestMean:  guestMean,
		country:    newAlias(countryWeights),
		returnDays: 14,
	}
}

// seasonal reports whether a candidate event at day t (since Start) is kept
// by thinning: with probability (1 + A cos(2π(doy-peak)/year)) / (1 + A).
func (s *sim) seasonal(r *rand.Rand, t float64) bool {
	a := s.cfg.Seasonality
	if a == 0 {
		return true
	}
	// Day 0 of 1970 is 1 January, day of year 1.
	phase := 2 * math.Pi * (s.startDays + t - (s.cfg.PeakDay - 1)) / 365.2425
	return r.Float64()*(1+a) < 1+a*math.Cos(phase)
}

// seconds converts a time in days since Start to whole seconds, within the window.
func (s *sim) seconds(t float64) uint32 {
	return min(uint32(t*86400), s.span-1)
}

// prefs are a shopper's preferred categories and their weights (cumulative).
type prefs struct {
	n   int
	cat [5]int32
	cum [5]float64
}

func (s *sim) drawPrefs(r *rand.Rand, most int) prefs {
	var p prefs
	want := min(1+poisson(r, 1), most, s.cfg.Categories)
	sum := 0.0
	for tries := 0; p.n < want && tries < 50; tries++ {
		c := int32(s.cat.cats.draw(r))
		dup := false
		for _, x := range p.cat[:p.n] {
			dup = dup || x == c
		}
		if dup {
			continue
		}
		p.cat[p.n] = c
		sum += r.ExpFloat64() // flat Dirichlet: normalised exponentials
		p.cum[p.n] = sum
		p.n++
	}
	for i := range p.n {
		p.cum[i] /= sum
	}
	return p
}

// scratch is a worker's reusable memory.
type scratch struct {
	history []int32 // items the current customer bought, for buy-again
}

// customer simulates customer i with its own stream and appends its lines
// (and those of the guest orders its stream adds) to out.
func (s *sim) customer(i uint32, r *rand.Rand, sc *scratch, out []event, cnt *counts) ([]event, customerTruth) {
	cfg := s.cfg
	var tr customerTruth
	lambda := gammaRand(r, cfg.R) / cfg.Alpha
	p := betaRand(r, cfg.A, cfg.B)
	tr.lambda, tr.p = lambda, p
	ctry := uint8(s.country.draw(r))
	pr := s.drawPrefs(r, 5)
	sc.history = sc.history[:0]

	// First order: uniform over the acquisition window, thinned by season.
	t := 0.0
	for {
		t = r.Float64() * s.acqDays
		if s.seasonal(r, t) {
			break
		}
	}
	tr.first = s.seconds(t)
	var seq uint16
	out = s.order(r, sc, out, cnt, i, seq, tr.first, ctry, &pr, false)
	seq++
	tr.orders = 1

	// Repeat orders: a Poisson process of rate λ, thinned by season; the
	// dropout coin is tossed after each repeat purchase.
	if lambda > 0 {
		boost := lambda * (1 + cfg.Seasonality)
		for seq < maxSeq {
			t += r.ExpFloat64() / boost
			if t >= s.spanDays {
				break
			}
			if !s.seasonal(r, t) {
				continue
			}
			at := s.seconds(t)
			out = s.order(r, sc, out, cnt, i, seq, at, ctry, &pr, false)
			seq++
			tr.orders++
			if r.Float64() < p {
				tr.dropped, tr.dropout = true, at
				break
			}
		}
	}

	// Guest orders carried by this stream.
	for g := poisson(r, s.guestMean); g > 0 && seq < maxSeq; g-- {
		for {
			t = r.Float64() * s.spanDays
			if s.seasonal(r, t) {
				break
			}
		}
		gp := s.drawPrefs(r, 2)
		out = s.order(r, sc, out, cnt, i, seq, s.seconds(t), uint8(s.country.draw(r)), &gp, true)
		seq++
	}
	tr.seqs = seq
	return out, tr
}

// order appends the lines of one order and of its returns.
func (s *sim) order(r *rand.Rand, sc *scratch, out []event, cnt *counts, cust uint32, seq uint16, at uint32, ctry uint8, pr *prefs, guest bool) []event {
	cfg := s.cfg
	flags := ctry << countryShift
	if guest {
		flags |= flagGuest
	}
	start := len(out)
	n := 1 + poisson(r, cfg.LinesPerOrder-1)
	for range n {
		var item int32
		u := r.Float64()
		switch {
		case !guest && len(sc.history) > 0 && u < cfg.RebuyProb:
			item = sc.history[r.IntN(len(sc.history))]
		case u < cfg.RebuyProb+cfg.Explore || pr.n == 0:
			item = int32(s.cat.global.draw(r))
		default:
			v, j := r.Float64(), 0
			for j < pr.n-1 && v >= pr.cum[j] {
				j++
			}
			item = s.cat.drawIn(r, int(pr.cat[j]))
		}
		q := 1
		for q < 100 && r.Float64() < 0.4 {
			q++
		}
		merged := false
		for k := start; k < len(out); k++ {
			if out[k].item == uint32(item) {
				out[k].qty = int8(min(100, int(out[k].qty)+q))
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, event{t: at, cust: cust, item: uint32(item), seq: seq, qty: int8(q), flags: flags})
		}
	}
	end := len(out)
	if !guest {
		for k := start; k < end; k++ {
			sc.history = append(sc.history, int32(out[k].item))
		}
	}

	// Returns: one return order a few days later for the returned lines.
	var retAt uint32
	for k := start; k < end; k++ {
		if cfg.ReturnRate == 0 || r.Float64() >= cfg.ReturnRate {
			continue
		}
		if retAt == 0 {
			d := uint64(at) + uint64(86400*(1+r.IntN(s.returnDays))+r.IntN(86400))
			if d >= uint64(s.span) {
				break // after End: not seen in this window
			}
			retAt = uint32(d)
		}
		e := out[k]
		e.t, e.qty, e.flags = retAt, -e.qty, e.flags|flagReturn
		out = append(out, e)
	}

	// Malformed lines and counts.
	for k := start; k < len(out); k++ {
		e := &out[k]
		if cfg.MalformedShare > 0 && r.Float64() < cfg.MalformedShare {
			kind := r.IntN(len(malformedKinds))
			e.flags |= uint8(kind+1) << kindShift
			cnt.malformed[kind]++
			continue
		}
		if e.flags&flagReturn != 0 {
			cnt.returnLines++
		} else {
			cnt.purchaseLines++
		}
		if guest {
			cnt.guestLines++
		}
	}
	return out
}
