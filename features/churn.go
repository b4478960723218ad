package features

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/patron-crm/patron/internal/stats"
)

// Churn features describe each customer's behaviour before a cutoff date,
// from their own timeline only, so a model trained on features at one date
// can score customers at another. Everything is measured in days and uses
// only orders and returns strictly before the cutoff: changing anything on
// or after it changes no feature (tested).
//
// A transaction is a customer's distinct order day (same-day orders merged,
// as the customer-value models count them).
//
//	recency_days          days from the last transaction to the cutoff
//	frequency             transactions
//	log_monetary          log(1 + spend net of returns)
//	tenure_days           days from the first transaction to the cutoff
//	mean_gap_days         mean days between transactions (one transaction:
//	                      the median over customers with two or more)
//	gap_std_days          standard deviation of those gaps (0 with fewer than 3)
//	recency_over_gap      recency_days / mean_gap_days: how overdue the
//	                      customer is against their own rhythm
//	orders_30d, orders_90d          transactions in the last 30 and 90 days
//	log_spend_30d, log_spend_90d    log(1 + spend) in the last 30 and 90 days
//	order_trend_90d       (orders in the last 90 days - the 90 before) /
//	                      (the 90 before + 1)
//	spend_trend_90d       log(1 + spend in the last 90 days) - log(1 + the 90 before)
//	distinct_items        items bought
//	distinct_categories   categories bought (0 without a category column)
//	return_share          value returned / value bought
//	log_mean_order_value  log(1 + spend / transactions)
//	orders_same_window_last_year   transactions in the horizon's calendar
//	                      window one year earlier (the customer's own season)
//	log_orders_180d, log_spend_180d log(1 + transactions) and log(1 + spend)
//	                      in the last 180 days
//	log_units             log(1 + units bought)
//	log_mean_unit_price   log(1 + spend / units bought): with log_units,
//	                      tells wholesale from retail buyers
//	order_value_log_std   standard deviation of log(1 + spend) over the
//	                      transactions (0 with fewer than 2)
//	log_<name>            log(1 + value) of recency_days, frequency,
//	                      tenure_days, mean_gap_days, gap_std_days,
//	                      distinct_items, recency_over_gap and orders_90d:
//	                      these are skewed, and a linear model separates
//	                      churners better on their logs (validation ROC AUC
//	                      on Online Retail 0.755 -> 0.758)
//
// The five features after orders_same_window_last_year raised validation
// ROC AUC on Online Retail (as-of 2011-09-09) from 0.758 to 0.763 for
// logistic regression and from 0.757 to 0.760 for boosted trees.
var ChurnFeatureNames = []string{
	"recency_days", "frequency", "log_monetary", "tenure_days", "mean_gap_days", "gap_std_days",
	"recency_over_gap", "orders_30d", "orders_90d", "log_spend_30d", "log_spend_90d",
	"order_trend_90d", "spend_trend_90d", "distinct_items", "distinct_categories", "return_share",
	"log_mean_order_value", "orders_same_window_last_year",
	"log_orders_180d", "log_spend_180d", "log_units", "log_mean_unit_price", "order_value_log_std",
	"log_recency_days", "log_frequency", "log_tenure_days", "log_mean_gap_days", "log_gap_std_days",
	"log_distinct_items", "log_recency_over_gap", "log_orders_90d",
}

// ChurnFeatures is a feature matrix: one row per customer with an order
// before Cutoff, row-major.
type ChurnFeatures struct {
	Cutoff      time.Time
	HorizonDays int
	Customers   []int32 // dense customer ids, increasing
	Names       []string
	X           []float64 // len(Customers) x len(Names)
}

// Row returns row i.
func (f *ChurnFeatures) Row(i int) []float64 {
	d := len(f.Names)
	return f.X[i*d : (i+1)*d]
}

// Column returns a copy of the named column, or nil.
func (f *ChurnFeatures) Column(name string) []float64 {
	j := slices.Index(f.Names, name)
	if j < 0 {
		return nil
	}
	out := make([]float64, len(f.Customers))
	for i := range out {
		out[i] = f.X[i*len(f.Names)+j]
	}
	return out
}

// AddColumn appends a column (one value per row), e.g. a model score that
// the features package cannot compute itself.
func (f *ChurnFeatures) AddColumn(name string, values []float64) {
	if len(values) != len(f.Customers) {
		panic("features: AddColumn with the wrong number of rows")
	}
	d := len(f.Names)
	x := make([]float64, 0, len(f.Customers)*(d+1))
	for i := range f.Customers {
		x = append(x, f.X[i*d:(i+1)*d]...)
		x = append(x, values[i])
	}
	f.Names = append(slices.Clone(f.Names), name)
	f.X = x
}

// ComputeChurnFeatures builds the features of every customer with an order
// before cutoff; horizonDays sets the window of the seasonal feature.
func ComputeChurnFeatures(ds *Dataset, cutoff time.Time, horizonDays int) *ChurnFeatures {
	cut := cutoff.Unix()
	f := &ChurnFeatures{Cutoff: cutoff, HorizonDays: horizonDays, Names: ChurnFeatureNames}
	for c := 0; c < ds.Customers.Len(); c++ {
		if orders := ds.CustomerOrders.Of(c); len(orders) > 0 && ds.Orders[orders[0]].Time < cut {
			f.Customers = append(f.Customers, int32(c))
		}
	}
	d := len(f.Names)
	f.X = make([]float64, len(f.Customers)*d)
	medianGap := medianCustomerGap(ds, f.Customers, cut)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var sc churnScratch
			for i := w; i < len(f.Customers); i += workers {
				sc.features(ds, f.Customers[i], cut, horizonDays, medianGap, f.X[i*d:(i+1)*d])
			}
		}(w)
	}
	wg.Wait()
	return f
}

// ChurnLabels is 1 for each customer who orders nothing in the horizon
// after cutoff, 0 for those who do.
func ChurnLabels(ds *Dataset, customers []int32, cutoff time.Time, horizonDays int) []float64 {
	from, to := cutoff.Unix(), cutoff.AddDate(0, 0, horizonDays).Unix()
	y := make([]float64, len(customers))
	for i, c := range customers {
		y[i] = 1
		for _, o := range ds.CustomerOrders.Of(int(c)) {
			if t := ds.Orders[o].Time; t >= from && t < to {
				y[i] = 0
				break
			}
		}
	}
	return y
}

// churnScratch is one worker's reusable memory.
type churnScratch struct {
	days     []int64   // transaction days
	spend    []float64 // spend per transaction day
	items    map[int32]struct{}
	cats     map[string]struct{}
	gaps     []float64
	sorted   []float64
	logSpend []float64 // log(1 + spend) per transaction day
}

const day = 86400

func (sc *churnScratch) features(ds *Dataset, c int32, cut int64, horizon int, medianGap float64, out []float64) {
	if sc.items == nil {
		sc.items, sc.cats = map[int32]struct{}{}, map[string]struct{}{}
	}
	clear(sc.items)
	clear(sc.cats)
	sc.days, sc.spend = sc.days[:0], sc.spend[:0]
	var spend, units float64
	cutDay := floorDay(cut)
	var o30, o90, oPrev, s30, s90, sPrev, sameWindow float64
	lastYearFrom, lastYearTo := cutDay-365, cutDay-365+int64(horizon)
	for _, o := range ds.CustomerOrders.Of(int(c)) {
		ord := ds.Orders[o]
		if ord.Time >= cut {
			break
		}
		d := floorDay(ord.Time)
		if n := len(sc.days); n == 0 || sc.days[n-1] != d {
			sc.days = append(sc.days, d)
			sc.spend = append(sc.spend, 0)
			age := cutDay - d // 1 = yesterday
			switch {
			case age <= 30:
				o30++
				o90++
			case age <= 90:
				o90++
			case age <= 180:
				oPrev++
			}
			if d >= lastYearFrom && d < lastYearTo {
				sameWindow++
			}
		}
		sc.spend[len(sc.spend)-1] += ord.Value
		spend += ord.Value
		items, qty := ds.OrderItems.Row(int(o))
		for _, q := range qty {
			units += q
		}
		for _, it := range items {
			sc.items[it] = struct{}{}
			if cat := ds.ItemCategory[it]; cat != "" {
				sc.cats[cat] = struct{}{}
			}
		}
	}
	for k, d := range sc.days {
		switch age := cutDay - d; {
		case age <= 30:
			s30 += sc.spend[k]
			s90 += sc.spend[k]
		case age <= 90:
			s90 += sc.spend[k]
		case age <= 180:
			sPrev += sc.spend[k]
		}
	}
	var returned float64
	for _, r := range ds.CustomerReturns.Of(int(c)) {
		if ds.Returns[r].Time >= cut {
			break
		}
		returned += ds.Returns[r].Value
	}
	n := float64(len(sc.days))
	first, last := sc.days[0], sc.days[len(sc.days)-1]
	recency := float64(cut-last*day) / day
	sc.gaps = sc.gaps[:0]
	for k := 1; k < len(sc.days); k++ {
		sc.gaps = append(sc.gaps, float64(sc.days[k]-sc.days[k-1]))
	}
	meanGap, gapStd := medianGap, 0.0
	if len(sc.gaps) > 0 {
		meanGap = mean(sc.gaps)
	}
	if len(sc.gaps) > 1 {
		gapStd = stdDev(sc.gaps, meanGap)
	}
	ratio := 0.0
	if meanGap > 0 {
		ratio = recency / meanGap
	}
	returnShare := 0.0
	if spend > 0 {
		returnShare = returned / spend
	}
	unitPrice := 0.0
	if units > 0 {
		unitPrice = spend / units
	}
	valueStd := 0.0
	if len(sc.spend) > 1 {
		sc.logSpend = sc.logSpend[:0]
		for _, v := range sc.spend {
			sc.logSpend = append(sc.logSpend, math.Log1p(max(0, v)))
		}
		valueStd = stdDev(sc.logSpend, mean(sc.logSpend))
	}
	values := [...]float64{
		recency, n, math.Log1p(max(0, spend-returned)), float64(cut-first*day) / day, meanGap, gapStd,
		ratio, o30, o90, math.Log1p(max(0, s30)), math.Log1p(max(0, s90)),
		(o90 - oPrev) / (oPrev + 1), math.Log1p(max(0, s90)) - math.Log1p(max(0, sPrev)),
		float64(len(sc.items)), float64(len(sc.cats)), returnShare,
		math.Log1p(max(0, spend/n)), sameWindow,
		math.Log1p(o90 + oPrev), math.Log1p(max(0, s90+sPrev)), math.Log1p(units), math.Log1p(max(0, unitPrice)), valueStd,
		math.Log1p(recency), math.Log1p(n), math.Log1p(float64(cut-first*day) / day), math.Log1p(meanGap), math.Log1p(gapStd),
		math.Log1p(float64(len(sc.items))), math.Log1p(ratio), math.Log1p(o90),
	}
	copy(out, values[:])
}

// medianCustomerGap is the median over customers with two or more
// transactions before cut of their mean gap in days (30 when none).
func medianCustomerGap(ds *Dataset, customers []int32, cut int64) float64 {
	var means []float64
	for _, c := range customers {
		var first, last, prev int64 = -1, -1, -1
		n := 0
		for _, o := range ds.CustomerOrders.Of(int(c)) {
			t := ds.Orders[o].Time
			if t >= cut {
				break
			}
			d := floorDay(t)
			if d == prev {
				continue
			}
			if first < 0 {
				first = d
			}
			last, prev = d, d
			n++
		}
		if n >= 2 {
			means = append(means, float64(last-first)/float64(n-1))
		}
	}
	if len(means) == 0 {
		return 30
	}
	return stats.Median(means)
}

// floorDay is the UTC day number of Unix time t.
func floorDay(t int64) int64 {
	if t < 0 {
		return (t - day + 1) / day
	}
	return t / day
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func stdDev(x []float64, m float64) float64 {
	s := 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}
