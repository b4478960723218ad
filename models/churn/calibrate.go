package churn

import (
	"fmt"
	"math"
	"slices"

	"github.com/patron-crm/patron/internal/learn"
	"github.com/patron-crm/patron/internal/stats"
)

// Calibrator maps a model score to a calibrated churn probability.
type Calibrator interface {
	Calibrate(score float64) float64
}

// Platt is Platt scaling (Platt 1999, "Probabilistic outputs for support
// vector machines and comparisons to regularized likelihood methods"):
//
//	P(churn | s) = σ(A·s + B),
//
// a one-dimensional logistic regression of the labels on the validation
// scores. (Platt writes 1/(1+exp(A·s+B)); the sign of A and B is flipped
// here so that A > 0 when higher scores mean more churn.) Following Platt,
// the 0/1 targets are replaced by
//
//	t+ = (N+ + 1)/(N+ + 2),   t− = 1/(N− + 2),
//
// a Bayesian prior that keeps A and B finite on separable scores and avoids
// overfitting a small validation set (Lin, Lin & Weng 2007, "A note on
// Platt's probabilistic outputs"). For a model that outputs probabilities,
// pass the log-odds (Logit) as the score: Platt's sigmoid is then a
// correction of slope and offset in log-odds space.
type Platt struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// FitPlatt fits A and B on validation scores and 0/1 labels by maximum
// likelihood (gonum L-BFGS, no penalty, deterministic).
func FitPlatt(scores, labels []float64) (*Platt, error) {
	n := len(scores)
	if err := learn.CheckMatrix(scores, n, 1); err != nil {
		return nil, fmt.Errorf("fit platt: scores: %w", err)
	}
	if err := learn.CheckBinary(labels, n); err != nil {
		return nil, fmt.Errorf("fit platt: %w", err)
	}
	var pos float64
	for _, y := range labels {
		pos += y
	}
	neg := float64(n) - pos
	hi, lo := (pos+1)/(pos+2), 1/(neg+2)
	targets := make([]float64, n)
	for i, y := range labels {
		targets[i] = lo
		if y == 1 {
			targets[i] = hi
		}
	}
	m, err := FitLogistic(scores, n, 1, targets, 0)
	if err != nil {
		return nil, fmt.Errorf("fit platt: %w", err)
	}
	return &Platt{A: m.Coef[0], B: m.Intercept}, nil
}

// Calibrate returns σ(A·score + B).
func (p *Platt) Calibrate(score float64) float64 { return learn.Sigmoid(p.A*score + p.B) }

// Logit is log(p/(1−p)), with p clipped to [1e-12, 1−1e-12] so it stays
// finite; it turns a probability into a score for Platt scaling.
func Logit(p float64) float64 {
	p = min(max(p, 1e-12), 1-1e-12)
	return math.Log(p / (1 - p))
}

// Isotonic is isotonic regression calibration (Zadrozny & Elkan 2002,
// "Transforming classifier scores into accurate multiclass probability
// estimates"): the non-decreasing step function of the score that minimises
// the squared error to the 0/1 labels, found by pool-adjacent-violators
// (PAV; Ayer et al. 1955):
//
//  1. sort the validation pairs by score and pool equal scores into one block
//     (weight = count, value = mean label);
//  2. scan left to right; while a block's value is not above its left
//     neighbour's, merge the two into one block whose value is the weighted
//     mean, and look left again.
//
// Blocks with equal values are merged too, so the steps strictly increase.
// Calibrate maps a score to the value of the last block whose lowest score is
// at or below it (scores below every block get the first value). The result
// is a step function, so scores inside one block tie: isotonic calibration
// can lower ROC AUC slightly but never reorders scores.
type Isotonic struct {
	// Lower[k] is the lowest validation score in block k, increasing.
	Lower []float64 `json:"lower"`
	// Value[k] is block k's calibrated probability, increasing.
	Value []float64 `json:"value"`
	// Weight[k] is the number of validation rows in block k.
	Weight []float64 `json:"weight"`
}

// FitIsotonic fits the step function on validation scores and 0/1 labels.
func FitIsotonic(scores, labels []float64) (*Isotonic, error) {
	n := len(scores)
	if err := learn.CheckMatrix(scores, n, 1); err != nil {
		return nil, fmt.Errorf("fit isotonic: scores: %w", err)
	}
	if err := learn.CheckBinary(labels, n); err != nil {
		return nil, fmt.Errorf("fit isotonic: %w", err)
	}
	order := stats.Order(scores)
	m := &Isotonic{}
	sum := []float64{} // label sum per block, parallel to m's slices
	for k := 0; k < n; {
		s := scores[order[k]]
		var w, ys float64
		for ; k < n && scores[order[k]] == s; k++ {
			w++
			ys += labels[order[k]]
		}
		m.Lower = append(m.Lower, s)
		m.Weight = append(m.Weight, w)
		sum = append(sum, ys)
		m.Value = append(m.Value, ys/w)
		for last := len(m.Value) - 1; last > 0 && m.Value[last-1] >= m.Value[last]; last-- {
			// Merge block last into last-1 (keep last-1's lower bound).
			m.Weight[last-1] += m.Weight[last]
			sum[last-1] += sum[last]
			m.Value[last-1] = sum[last-1] / m.Weight[last-1]
			m.Lower, m.Weight, m.Value, sum = m.Lower[:last], m.Weight[:last], m.Value[:last], sum[:last]
		}
	}
	return m, nil
}

// Calibrate returns the value of the block that covers score.
func (m *Isotonic) Calibrate(score float64) float64 {
	k, found := slices.BinarySearch(m.Lower, score)
	if !found {
		k-- // the last block starting below score
	}
	return m.Value[max(k, 0)]
}
