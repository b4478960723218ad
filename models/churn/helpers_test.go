package churn

import (
	"math"
	"slices"
)

// auc is the Mann–Whitney ROC AUC by brute force (fine for test sizes).
func auc(scores, y []float64) float64 {
	var wins, pairs float64
	pos := []float64{}
	neg := []float64{}
	for i, s := range scores {
		if y[i] == 1 {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	slices.Sort(neg)
	for _, s := range pos {
		lo, _ := slices.BinarySearch(neg, s)
		hi := lo
		for hi < len(neg) && neg[hi] == s {
			hi++
		}
		wins += float64(lo) + 0.5*float64(hi-lo)
		pairs += float64(len(neg))
	}
	return wins / pairs
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
