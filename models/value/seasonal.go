package value

import (
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/internal/stats"
)

// Seasonality. BG/NBD assumes a customer's purchase rate is constant while
// they are active, but shops have seasons: on Online Retail a forecast made
// on 2011-09-09 for the next three months under-predicts orders by a
// quarter, because those months lead up to Christmas. The data shows the
// shop's calendar only a year back, so Patron measures it there, by month:
//
//	idx(m) = (transactions per trading day in calendar month m a year before)
//	       / trend(m)
//	s      = mean of idx over the horizon's days, counting only months the
//	         data covers in full a year back
//
// where trend is a robust (Theil-Sen) line through the monthly rates of the
// year before the as-of date (at least three whole months), so that a shop
// that grows or shrinks is not mistaken for one with seasons, and the
// ratios are normalised to average 1 over those months: the classic
// ratio-to-trend seasonal index.
//
// and runs the purchase process s times as fast over the horizon (see
// btyd.CLVOptions.Seasonality). Transactions are customer-days, as the
// models count them; trading days are days with at least one order, so a
// shop's holiday closure does not read as a slump. When no month of the
// horizon is covered a year back (a history under a year), s is 1 and the
// predictions are plain BG/NBD.
//
// Whole months, not the same calendar days: on Online Retail the days a
// year before the 2011-09-09 holdout that the data holds are only the
// first nine days of December 2010, the busiest of the year, and an index
// from them (1.9) over-predicts the three-month holdout by 44%.
type Seasonality struct {
	// Start is the first day of Counts (midnight UTC); Counts holds the
	// shop's transactions per day from Start to the day before the as-of date.
	Start  time.Time `json:"start"`
	Counts []int32   `json:"counts"`
}

// MinSeasonDays is the least coverage of last year's window that counts.
const MinSeasonDays = 7

// maxProfileDays bounds the stored profile (two years).
const maxProfileDays = 731

// NewSeasonality counts ds's transactions (distinct customer-days) per day
// before asOf, over at most the last two years.
func NewSeasonality(ds *features.Dataset, asOf time.Time) Seasonality {
	end := dayNumber(asOf.Unix())
	start := end - maxProfileDays
	first := end
	for _, o := range ds.Orders {
		if o.Customer >= 0 {
			first = max(start, dayNumber(o.Time))
			break
		}
	}
	s := Seasonality{Start: time.Unix(first*86400, 0).UTC(), Counts: make([]int32, max(0, end-first))}
	last := make(map[int32]int64) // customer -> last counted day
	for _, o := range ds.Orders {
		d := dayNumber(o.Time)
		if o.Customer < 0 || d < first || d >= end {
			continue
		}
		if prev, ok := last[o.Customer]; ok && prev == d {
			continue
		}
		last[o.Customer] = d
		s.Counts[d-first]++
	}
	return s
}

func dayNumber(unix int64) int64 {
	if unix < 0 {
		return (unix - 86399) / 86400
	}
	return unix / 86400
}

// Index is s for the window of days starting at from (normally the as-of
// date); 1 when the profile cannot tell.
func (s Seasonality) Index(from time.Time, days int) float64 {
	if len(s.Counts) == 0 || days <= 0 {
		return 1
	}
	first := dayNumber(s.Start.Unix())
	end := first + int64(len(s.Counts)) // exclusive
	// perTradingDay is the mean count over days with orders in [a, b).
	perTradingDay := func(a, b int64) float64 {
		total, trading := 0.0, 0
		for d := max(a, first); d < min(b, end); d++ {
			if c := s.Counts[d-first]; c > 0 {
				total += float64(c)
				trading++
			}
		}
		if trading == 0 {
			return 0
		}
		return total / float64(trading)
	}
	// The whole months of the year before from that the data holds, with
	// their rates, and a robust (Theil-Sen) line through them (the trend).
	f := dayNumber(from.Unix())
	type month struct {
		start int64
		k     float64 // months since the first
		rate  float64
	}
	var months []month
	t0 := time.Unix((f-365)*86400, 0).UTC()
	m := time.Date(t0.Year(), t0.Month(), 1, 0, 0, 0, 0, time.UTC)
	for k := 0; k < 14; k, m = k+1, m.AddDate(0, 1, 0) {
		a, b := dayNumber(m.Unix()), dayNumber(m.AddDate(0, 1, 0).Unix())
		if a < first || b > min(end, f) {
			continue
		}
		if r := perTradingDay(a, b); r > 0 {
			months = append(months, month{a, float64(k), r})
		}
	}
	if len(months) < 3 {
		return 1
	}
	// Theil-Sen: the median of the pairwise slopes, robust to the very
	// seasonal months the index is after; then the median intercept.
	var slopes []float64
	for i := range months {
		for j := i + 1; j < len(months); j++ {
			slopes = append(slopes, (months[j].rate-months[i].rate)/(months[j].k-months[i].k))
		}
	}
	slope := stats.Median(slopes)
	icepts := make([]float64, len(months))
	for i, mo := range months {
		icepts[i] = mo.rate - slope*mo.k
	}
	icept := stats.Median(icepts)
	// Raw ratios to trend, normalised to average 1 over the months seen.
	raw := make([]float64, len(months))
	mean := 0.0
	for i, mo := range months {
		if trend := icept + slope*mo.k; trend > 0 {
			raw[i] = mo.rate / trend
		}
		mean += raw[i] / float64(len(months))
	}
	if mean <= 0 {
		return 1
	}
	weighted, weight := 0.0, 0.0
	for d := f; d < f+int64(days); d++ {
		// The calendar month of day d, a year earlier.
		t := time.Unix((d-365)*86400, 0).UTC()
		a := dayNumber(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Unix())
		for i, mo := range months {
			if mo.start == a && raw[i] > 0 {
				weighted += raw[i] / mean
				weight++
				break
			}
		}
	}
	if weight == 0 {
		return 1
	}
	return weighted / weight
}
