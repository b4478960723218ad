package eval

// This file holds the metrics for binary classifiers, used by the churn
// protocol (design.md, "Evaluation protocols"): label 1 means the customer
// churned, and a higher score means more likely to churn.
//
// Ranking metrics (meaningful for any score, including pure rankers such as
// "days since the last order"):
//
//	ROC AUC = P(score of a random positive > score of a random negative),
//	          ties counting 1/2 (the Mann–Whitney U statistic over P·N;
//	          Hanley & McNeil 1982). Computed from average ranks in O(n log n).
//	PR AUC  = average precision, the step-wise sum
//	          AP = Σ_k (R_k − R_{k−1}) · P_k
//	          over the distinct score thresholds k in decreasing order, with
//	          P_k and R_k the precision and recall of "score ≥ threshold k".
//	          Tied scores form one threshold. This is the definition of
//	          scikit-learn's average_precision_score; it does not interpolate
//	          (trapezoids over PR points are optimistic; Davis & Goadrich 2006).
//	Lift@10% = observed churn rate among the top 10% by score / base rate.
//	          The top 10% holds ceil(n/10) rows; when tied scores straddle the
//	          boundary, the tied group contributes its positive rate times the
//	          slots it fills (the expected value under a random tie-break), so
//	          the figure does not depend on input order.
//
// Probability metrics (meaningful only when scores are probabilities):
//
//	Brier    = (1/n) Σ (p_i − y_i)²                                 (Brier 1950)
//	LogLoss  = −(1/n) Σ [y_i log p_i + (1 − y_i) log(1 − p_i)], with p and 1 − p
//	           clipped below at 1e-15 so a confident mistake costs ~34.5, not +Inf
//	Calibration: ten fixed-width bins of predicted probability
//	           [0, 0.1), [0.1, 0.2), …, [0.9, 1.0]; each bin reports its count,
//	           mean predicted probability and observed churn rate (a reliability
//	           diagram; Niculescu-Mizil & Caruana 2005). Fixed bins never split
//	           tied scores, so the table does not depend on input order.
//	ECE      = Σ_bins (count/n) · |mean predicted − observed rate|.

import (
	"fmt"
	"math"

	"github.com/patron-crm/patron/internal/stats"
)

// CalibrationBins is the number of fixed-width probability bins in a
// calibration table.
const CalibrationBins = 10

// logLossEps clips probabilities for the log loss (scikit-learn's convention).
const logLossEps = 1e-15

// CalibrationBin is one row of a calibration table: the rows whose predicted
// probability lies in [Lower, Upper) (the last bin includes 1).
type CalibrationBin struct {
	Lower         float64 `json:"lower"`
	Upper         float64 `json:"upper"`
	Count         int     `json:"count"`
	MeanPredicted float64 `json:"meanPredicted"` // 0 when Count is 0
	ObservedRate  float64 `json:"observedRate"`  // 0 when Count is 0
}

// BinaryReport holds the metrics of one binary classifier (or ranker) on one
// test set. It is NaN-free, so it always encodes to JSON.
//
// Probabilistic says whether the scores were probabilities (all in [0, 1]).
// When it is false (a pure ranker such as recency in days), only the ranking
// metrics (ROCAUC, PRAUC, LiftTop10) are meaningful; Brier, LogLoss, ECE and
// MeanPredicted are 0 and Calibration is empty.
//
// When the labels hold a single class, ROC AUC is undefined and reported as
// 0; PR AUC and the lift are 0 when there are no positives. Positives and
// Negatives let a reader see that case.
type BinaryReport struct {
	Name          string           `json:"name"`
	N             int              `json:"n"`
	Positives     int              `json:"positives"`
	Negatives     int              `json:"negatives"`
	BaseRate      float64          `json:"baseRate"` // share of label 1
	Probabilistic bool             `json:"probabilistic"`
	MeanPredicted float64          `json:"meanPredicted"`
	ROCAUC        float64          `json:"rocAuc"`
	PRAUC         float64          `json:"prAuc"` // average precision, step-wise
	Brier         float64          `json:"brier"`
	LogLoss       float64          `json:"logLoss"`
	ECE           float64          `json:"ece"`           // expected calibration error over Calibration
	TopDecileRate float64          `json:"topDecileRate"` // observed rate in the top 10% by score
	LiftTop10     float64          `json:"liftTopDecile"` // TopDecileRate / BaseRate
	Calibration   []CalibrationBin `json:"calibration,omitempty"`
}

// EvaluateBinary computes every metric of BinaryReport for scores against
// labels (1 = churned, 0 = stayed). The result depends only on the multiset
// of (score, label) pairs, never on their order.
//
// scores and labels must have the same length, labels must be 0 or 1 and
// scores must not be NaN: anything else is a programmer error and panics.
func EvaluateBinary(name string, scores, labels []float64) BinaryReport {
	if len(scores) != len(labels) {
		panic(fmt.Sprintf("eval: %d scores for %d labels", len(scores), len(labels)))
	}
	r := BinaryReport{Name: name, N: len(scores), Probabilistic: len(scores) > 0}
	for i, y := range labels {
		if y != 0 && y != 1 {
			panic(fmt.Sprintf("eval: label %d is %v, want 0 or 1", i, y))
		}
		s := scores[i]
		if math.IsNaN(s) {
			panic(fmt.Sprintf("eval: score %d is NaN", i))
		}
		if y == 1 {
			r.Positives++
		}
		if s < 0 || s > 1 {
			r.Probabilistic = false
		}
	}
	r.Negatives = r.N - r.Positives
	if r.N == 0 {
		return r
	}
	r.BaseRate = float64(r.Positives) / float64(r.N)

	order := sortedByScore(scores)
	r.ROCAUC = rocAUC(order, scores, labels, r.Positives)
	r.PRAUC = averagePrecision(order, scores, labels, r.Positives)
	r.TopDecileRate = topRate(order, scores, labels, (r.N+9)/10)
	if r.BaseRate > 0 {
		r.LiftTop10 = r.TopDecileRate / r.BaseRate
	}
	if r.Probabilistic {
		r.MeanPredicted, r.Brier, r.LogLoss = probabilityScores(scores, labels)
		r.Calibration = CalibrationTable(scores, labels)
		for _, b := range r.Calibration {
			r.ECE += float64(b.Count) / float64(r.N) * math.Abs(b.MeanPredicted-b.ObservedRate)
		}
	}
	return r
}

// sortedByScore returns the row indices in increasing order of score (ties by
// index, which no metric here depends on).
func sortedByScore(scores []float64) []int { return stats.Order(scores) }

// rocAUC is the Mann–Whitney statistic: with average ranks r_i (1-based,
// ties sharing the mean of their ranks), AUC = (Σ_{positives} r_i −
// P(P+1)/2) / (P·N).
func rocAUC(order []int, scores, labels []float64, pos int) float64 {
	n := len(order)
	neg := n - pos
	if pos == 0 || neg == 0 {
		return 0
	}
	var rankSum float64
	for i := 0; i < n; {
		j := i
		for j < n && scores[order[j]] == scores[order[i]] {
			j++
		}
		avg := float64(i+1+j) / 2 // mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			if labels[order[k]] == 1 {
				rankSum += avg
			}
		}
		i = j
	}
	p := float64(pos)
	return (rankSum - p*(p+1)/2) / (p * float64(neg))
}

// averagePrecision walks thresholds from the highest score down; each group
// of tied scores is one threshold.
func averagePrecision(order []int, scores, labels []float64, pos int) float64 {
	if pos == 0 {
		return 0
	}
	var ap float64
	tp, seen := 0, 0
	for i := len(order) - 1; i >= 0; {
		j := i
		groupPos := 0
		for j >= 0 && scores[order[j]] == scores[order[i]] {
			if labels[order[j]] == 1 {
				groupPos++
			}
			j--
		}
		seen += i - j
		tp += groupPos
		if groupPos > 0 {
			ap += float64(groupPos) / float64(pos) * float64(tp) / float64(seen)
		}
		i = j
	}
	return ap
}

// topRate is the observed positive rate among the k highest scores, with the
// tied group at the boundary counted at its own positive rate.
func topRate(order []int, scores, labels []float64, k int) float64 {
	if k <= 0 {
		return 0
	}
	var hits float64
	taken := 0
	for i := len(order) - 1; i >= 0 && taken < k; {
		j := i
		groupPos := 0
		for j >= 0 && scores[order[j]] == scores[order[i]] {
			if labels[order[j]] == 1 {
				groupPos++
			}
			j--
		}
		size := i - j
		use := min(size, k-taken)
		hits += float64(groupPos) * float64(use) / float64(size)
		taken += use
		i = j
	}
	return hits / float64(k)
}

// probabilityScores returns the mean prediction, the Brier score and the log
// loss (p and 1-p clipped below at 1e-15).
func probabilityScores(p, y []float64) (mean, brier, logLoss float64) {
	for i, pi := range p {
		mean += pi
		d := pi - y[i]
		brier += d * d
		if y[i] == 1 {
			logLoss -= math.Log(max(pi, logLossEps))
		} else {
			logLoss -= math.Log(max(1-pi, logLossEps))
		}
	}
	n := float64(len(p))
	return mean / n, brier / n, logLoss / n
}

// CalibrationTable bins probabilities p (each in [0, 1]) into
// CalibrationBins fixed-width bins and reports, per bin, the count, the mean
// predicted probability and the observed rate of label 1. Empty bins are kept
// (with zeros) so tables from different models line up.
func CalibrationTable(p, y []float64) []CalibrationBin {
	bins := make([]CalibrationBin, CalibrationBins)
	sumP := make([]float64, CalibrationBins)
	sumY := make([]float64, CalibrationBins)
	for b := range bins {
		bins[b].Lower = float64(b) / CalibrationBins
		bins[b].Upper = float64(b+1) / CalibrationBins
	}
	for i, pi := range p {
		b := min(int(pi*CalibrationBins), CalibrationBins-1)
		// Guard the float edge: 0.3*10 may land just below 3.
		if b+1 < CalibrationBins && pi >= bins[b+1].Lower {
			b++
		}
		bins[b].Count++
		sumP[b] += pi
		sumY[b] += y[i]
	}
	for b := range bins {
		if c := bins[b].Count; c > 0 {
			bins[b].MeanPredicted = sumP[b] / float64(c)
			bins[b].ObservedRate = sumY[b] / float64(c)
		}
	}
	return bins
}
