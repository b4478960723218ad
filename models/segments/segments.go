// Package segments groups customers the way CRM teams talk about them:
// value tiers from predicted lifetime value ("the top 1% are platinum"), and
// RFM segments from how recently and how often they buy.
//
// Tiers rank customers by a value (CLV) and cut the ranking at shares of the
// customer base: by default the top 1% are platinum, the next 4% gold, the
// next 15% silver and the rest bronze, so the top tiers are the few customers
// who bring most of the value.
//
// RFM segments score recency and frequency in quintiles, 5 the best (most
// recent, most orders), and name the cell of the R x F grid with the
// standard CRM names (the grid used by most RFM tools):
//
//	           F=1            F=2-3                F=4          F=5
//	R=5        New            Potential Loyalists  Champions    Champions
//	R=4        Promising      Potential Loyalists  Loyal        Loyal
//	R=3        About to Sleep About to Sleep/Need  Loyal        Loyal
//	           (F=1-2)        Attention (F=3)
//	R=1-2      Hibernating (F=1-2), At Risk (F=3-4), Can't Lose Them (F=5)
//
// Quintiles are by rank with ties kept together: a score is 1 + the share
// of customers with a strictly smaller value, times five, so customers with
// equal values always share a score (most customers with one order share
// F=1).
package segments

import (
	"cmp"
	"fmt"
	"slices"
)

// Tier is a value tier.
type Tier string

// Tiers, best first.
const (
	Platinum Tier = "platinum"
	Gold     Tier = "gold"
	Silver   Tier = "silver"
	Bronze   Tier = "bronze"
)

// AllTiers lists the tiers, best first.
var AllTiers = []Tier{Platinum, Gold, Silver, Bronze}

// TierCuts are the shares of customers in each top tier.
type TierCuts struct {
	Platinum, Gold, Silver float64
}

// DefaultTierCuts: top 1% platinum, next 4% gold, next 15% silver.
var DefaultTierCuts = TierCuts{Platinum: 0.01, Gold: 0.04, Silver: 0.15}

// Validate checks the shares are non-negative and sum to at most 1.
func (c TierCuts) Validate() error {
	if c.Platinum < 0 || c.Gold < 0 || c.Silver < 0 || c.Platinum+c.Gold+c.Silver > 1 {
		return fmt.Errorf("tier shares %v/%v/%v: want non-negative shares summing to at most 1", c.Platinum, c.Gold, c.Silver)
	}
	return nil
}

// AssignTiers gives each value its tier: the customers are ranked by value
// (higher first; ties by index, so the result is stable) and the ranking is
// cut at the shares of c. Tier sizes round to the nearest customer.
func AssignTiers(values []float64, c TierCuts) []Tier {
	n := len(values)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if x := cmp.Compare(values[b], values[a]); x != 0 {
			return x
		}
		return cmp.Compare(a, b)
	})
	bounds := []int{
		round(c.Platinum * float64(n)),
		round((c.Platinum + c.Gold) * float64(n)),
		round((c.Platinum + c.Gold + c.Silver) * float64(n)),
	}
	out := make([]Tier, n)
	for rank, i := range order {
		switch {
		case rank < bounds[0]:
			out[i] = Platinum
		case rank < bounds[1]:
			out[i] = Gold
		case rank < bounds[2]:
			out[i] = Silver
		default:
			out[i] = Bronze
		}
	}
	return out
}

func round(x float64) int { return int(x + 0.5) }

// Quintiles scores values 1..5, 5 for the largest, with equal values
// sharing a score: 1 + floor(5 * (customers with a smaller value) / n).
func Quintiles(values []float64) []int {
	n := len(values)
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	out := make([]int, n)
	for i, v := range values {
		below, _ := slices.BinarySearch(sorted, v) // first index of v: the count of smaller values
		out[i] = 1 + 5*below/n
	}
	return out
}

// Segment names.
const (
	Champions          = "Champions"
	Loyal              = "Loyal"
	PotentialLoyalists = "Potential Loyalists"
	New                = "New"
	Promising          = "Promising"
	NeedAttention      = "Need Attention"
	AboutToSleep       = "About to Sleep"
	AtRisk             = "At Risk"
	CantLoseThem       = "Can't Lose Them"
	Hibernating        = "Hibernating"
)

// AllSegments lists the segment names, best first.
var AllSegments = []string{Champions, Loyal, PotentialLoyalists, New, Promising, NeedAttention, AboutToSleep, AtRisk, CantLoseThem, Hibernating}

// RFM names the segment of recency score r and frequency score f (1..5).
func RFM(r, f int) string {
	switch {
	case r <= 2 && f <= 2:
		return Hibernating
	case r <= 2 && f <= 4:
		return AtRisk
	case r <= 2:
		return CantLoseThem
	case r == 3 && f <= 2:
		return AboutToSleep
	case r == 3 && f == 3:
		return NeedAttention
	case f >= 4 && r <= 4:
		return Loyal
	case f >= 4:
		return Champions
	case f == 1 && r == 4:
		return Promising
	case f == 1:
		return New
	default: // r 4-5, f 2-3
		return PotentialLoyalists
	}
}

// Assign scores every customer: recency in days since the last order
// (smaller is better) and frequency in orders (larger is better), and
// returns their R and F scores and segment names.
func Assign(recencyDays, frequency []float64) (r, f []int, names []string) {
	neg := make([]float64, len(recencyDays))
	for i, d := range recencyDays {
		neg[i] = -d
	}
	r, f = Quintiles(neg), Quintiles(frequency)
	names = make([]string, len(r))
	for i := range r {
		names[i] = RFM(r[i], f[i])
	}
	return r, f, names
}
