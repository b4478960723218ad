package training

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/internal/hash"
	"github.com/patron-crm/patron/internal/parallel"
	"github.com/patron-crm/patron/internal/stats"
	"github.com/patron-crm/patron/models/btyd"
	"github.com/patron-crm/patron/models/churn"
	"github.com/patron-crm/patron/models/gbt"
	"github.com/patron-crm/patron/models/value"
	"github.com/patron-crm/patron/training/eval"
)

// Churn windows. With as-of date A and horizon H, a customer active before a
// cutoff has churned if they order nothing in the H days after it. Nothing
// after A is ever read:
//
//	fit window         features at A-2H, labels from [A-2H, A-H)
//	validation window  features at A-H,  labels from [A-H, A)
//	scoring            features at A (labels unknown)
//
// Candidate models are fitted on the fit window, compared and calibrated
// on the validation window; the chosen model and its calibration score
// customers at A.

// DefaultChurnHorizon is H in days.
const DefaultChurnHorizon = 90

// Row limits: models are fitted and calibrated on at most MaxChurnFitRows
// customers of a window (a seeded sample; more adds little and costs
// linearly), the golearn reference on at most MaxGolearnRows.
const (
	MaxChurnFitRows = 200_000
	MaxGolearnRows  = 20_000
	// MaxCeilingRows bounds the test customers of the cross-validated
	// ceiling: on 50,000 customers with a churn rate of 0.3-0.6 the standard
	// error of its ROC AUC is about 0.002 (Hanley & McNeil 1982), and its five
	// fits took 3 s of the 40 s protocol on a million generated customers.
	MaxCeilingRows = 50_000
)

// sample returns at most n rows of w, picked by a seeded hash of the
// customer ids (all of w when it is smaller), in their original order.
func (w churnWindow) sample(n int, seed uint64) churnWindow {
	if len(w.f.Customers) <= n {
		return w
	}
	keep := hash.Sample(w.f.Customers, n, seed)
	d := len(w.f.Names)
	out := churnWindow{f: &features.ChurnFeatures{Cutoff: w.f.Cutoff, HorizonDays: w.f.HorizonDays, Names: w.f.Names}}
	for _, i := range keep {
		out.f.Customers = append(out.f.Customers, w.f.Customers[i])
		out.f.X = append(out.f.X, w.f.X[i*d:(i+1)*d]...)
		out.y = append(out.y, w.y[i])
	}
	return out
}

// churnWindow is a feature matrix with labels.
type churnWindow struct {
	f *features.ChurnFeatures
	y []float64
}

// churnFeatures computes the features at cutoff, with the BG/NBD
// probability of at least one order in the horizon when a fit is possible.
func churnFeatures(ds *features.Dataset, cutoff time.Time, horizon int) (*features.ChurnFeatures, error) {
	f := features.ComputeChurnFeatures(ds, cutoff, horizon)
	if len(f.Customers) == 0 {
		return nil, fmt.Errorf("churn: no customer ordered before %s", cutoff.Format(time.DateOnly))
	}
	p := make([]float64, len(f.Customers))
	for i := range p {
		p[i] = math.NaN()
	}
	if sum, err := btyd.Summarize(ds, btyd.SummaryOptions{Through: cutoff.AddDate(0, 0, -1), Location: cutoff.Location()}); err == nil {
		if m, err := btyd.Fit(sum, btyd.FitOptions{}); err == nil {
			scores, err := m.ScoreAll(sum, btyd.CLVOptions{HorizonDays: float64(horizon)}, 0)
			if err != nil {
				return nil, err
			}
			byID := make(map[int32]float64, len(sum.Customers))
			for k := range sum.Customers {
				byID[sum.Customers[k].ID] = scores[k].ProbAny
			}
			for i, c := range f.Customers {
				if v, ok := byID[c]; ok {
					p[i] = v
				}
			}
		}
	}
	for i := range p {
		if math.IsNaN(p[i]) {
			p[i] = 0.5 // no BG/NBD fit: uninformative
		}
	}
	f.AddColumn("bgnbd_p_order_in_horizon", p)
	return f, nil
}

func churnWindowAt(ds *features.Dataset, cutoff time.Time, horizon int) (churnWindow, error) {
	f, err := churnFeatures(ds.Before(cutoff), cutoff, horizon)
	if err != nil {
		return churnWindow{}, err
	}
	return churnWindow{f: f, y: features.ChurnLabels(ds, f.Customers, cutoff, horizon)}, nil
}

// ChurnCandidate is one model's score on the validation window.
type ChurnCandidate struct {
	Model  string  `json:"model"`
	ROCAUC float64 `json:"roc_auc"`
	Brier  float64 `json:"brier_calibrated"`
}

// ChurnEvaluation reports churn models on a time split.
type ChurnEvaluation struct {
	AsOf        time.Time        `json:"as_of"`
	HorizonDays int              `json:"horizon_days"`
	Candidates  []ChurnCandidate `json:"validation"`
	Chosen      string           `json:"chosen"`
	// Seasonality holds the seasonal indices of the validation and test windows.
	Seasonality [2]float64          `json:"seasonality"`
	Test        []eval.BinaryReport `json:"test"`
	// Ceiling is not a model: the logistic regression (the validation's
	// penalty) fitted on the test window's own labels, each customer scored
	// by the folds that did not see them (CeilingFolds-fold cross-validation).
	// It says how well the features can rank and calibrate churn in that
	// window at best, with its season known, so a gap between it and the
	// models is the cost of forecasting, and a target above it needs more
	// information than the features hold. Nil when it could not be fitted
	// (CeilingSkipped says why); the evaluation stands without it.
	Ceiling        *eval.BinaryReport `json:"ceiling,omitempty"`
	CeilingSkipped string             `json:"ceiling_skipped,omitempty"`
}

// CeilingFolds is the number of cross-validation folds of the ceiling.
const CeilingFolds = 5

// scorer is a fitted churn model with its calibration.
type scorer struct {
	name    string
	lambda  float64 // the logistic regression's L2 penalty (0 for trees)
	std     *churn.Standardizer
	raw     func(row []float64) float64        // log-odds
	contrib func(dst, row []float64) []float64 // per-feature log-odds
	platt   *churn.Platt
}

func (s *scorer) scores(f *features.ChurnFeatures) []float64 {
	n, d := len(f.Customers), len(f.Names)
	x := s.std.Transform(f.X, n)
	out := make([]float64, n)
	for i := range out {
		out[i] = s.platt.Calibrate(s.raw(x[i*d : (i+1)*d]))
	}
	return out
}

// fitChurn fits the candidates on fit, calibrates and compares them on val,
// and returns them best first.
func fitChurn(fit, val churnWindow, seed uint64) ([]*scorer, []ChurnCandidate, error) {
	n, d := len(fit.f.Customers), len(fit.f.Names)
	std, err := churn.FitStandardizer(fit.f.X, n, d)
	if err != nil {
		return nil, nil, err
	}
	x := std.Transform(fit.f.X, n)
	vn := len(val.f.Customers)
	vx := std.Transform(val.f.X, vn)
	var cands []*scorer
	// Logistic regression: the L2 penalty is chosen on the validation window.
	var lr *churn.Logistic
	bestAUC, bestLambda := -1.0, 0.0
	for _, lambda := range []float64{1e-3, 1e-2, 1e-1} {
		m, err := churn.FitLogistic(x, n, d, fit.y, lambda)
		if err != nil {
			return nil, nil, err
		}
		vs := make([]float64, vn)
		for i := range vs {
			vs[i] = m.LogOdds(vx[i*d : (i+1)*d])
		}
		if auc := eval.EvaluateBinary("", vs, val.y).ROCAUC; auc > bestAUC {
			lr, bestAUC, bestLambda = m, auc, lambda
		}
	}
	cands = append(cands, &scorer{name: "logistic regression (L2)", lambda: bestLambda, std: std, raw: lr.LogOdds, contrib: lr.Contributions})
	gbt, err := gbt.Fit(x, n, d, fit.y, gbt.Params{Trees: 300, Depth: 3, LearningRate: 0.05, MinLeaf: 40, Subsample: 0.8, Seed: seed}, vx, vn, val.y)
	if err != nil {
		return nil, nil, err
	}
	cands = append(cands, &scorer{name: "gradient-boosted trees", std: std, raw: gbt.LogOdds,
		contrib: func(dst, row []float64) []float64 { c, _ := gbt.Contributions(dst, row); return c }})

	var report []ChurnCandidate
	for _, c := range cands {
		raw := make([]float64, vn)
		for i := range raw {
			raw[i] = c.raw(vx[i*d : (i+1)*d])
		}
		if c.platt, err = churn.FitPlatt(raw, val.y); err != nil {
			return nil, nil, err
		}
		r := eval.EvaluateBinary(c.name, c.scores(val.f), val.y)
		report = append(report, ChurnCandidate{Model: c.name, ROCAUC: r.ROCAUC, Brier: r.Brier})
	}
	if report[1].ROCAUC > report[0].ROCAUC {
		cands[0], cands[1] = cands[1], cands[0]
	}
	return cands, report, nil
}

// EvaluateChurn runs the churn protocol at as-of asOf: models fitted and
// chosen on windows before asOf, tested on the labels of [asOf, asOf+H).
func EvaluateChurn(ds *features.Dataset, asOf, end time.Time, horizon int, seed uint64) (ChurnEvaluation, error) {
	ev := ChurnEvaluation{AsOf: asOf, HorizonDays: horizon}
	if horizon <= 0 {
		return ev, errors.New("churn: the horizon must be at least one day")
	}
	// The test labels need the whole window [asOf, asOf+H) inside the data,
	// or customers would count as churned because the data ran out.
	if testEnd := asOf.AddDate(0, 0, horizon); testEnd.After(end) {
		return ev, fmt.Errorf("churn: the test window %s to %s runs past the data (it ends %s): use an as-of date on or before %s or a shorter horizon",
			asOf.Format(time.DateOnly), testEnd.Format(time.DateOnly), end.Format(time.DateOnly), end.AddDate(0, 0, -horizon).Format(time.DateOnly))
	}
	ds = ds.Before(end)
	past := ds.Before(asOf)
	fitW, err := churnWindowAt(past, asOf.AddDate(0, 0, -2*horizon), horizon)
	if err != nil {
		return ev, err
	}
	valW, err := churnWindowAt(past, asOf.AddDate(0, 0, -horizon), horizon)
	if err != nil {
		return ev, err
	}
	models, cands, err := fitChurn(fitW.sample(MaxChurnFitRows, seed), valW.sample(MaxChurnFitRows, seed+1), seed)
	if err != nil {
		return ev, err
	}
	ev.Candidates, ev.Chosen = cands, models[0].name
	test, err := churnWindowAt(ds, asOf, horizon)
	if err != nil {
		return ev, err
	}
	// Seasonality: calibrated on the validation window's season, scored on
	// the test window's. If the purchase clock runs s times as fast, the
	// chance of no order, exp(-s mu), becomes P^s; so P_test = P_val^(s_test/s_val).
	sVal := value.NewSeasonality(past.Before(asOf.AddDate(0, 0, -horizon)), asOf.AddDate(0, 0, -horizon)).Index(asOf.AddDate(0, 0, -horizon), horizon)
	sTest := value.NewSeasonality(past, asOf).Index(asOf, horizon)
	ev.Seasonality = [2]float64{sVal, sTest}
	for _, m := range models {
		p := m.scores(test.f)
		ev.Test = append(ev.Test, eval.EvaluateBinary(m.name, p, test.y))
		for i := range p {
			p[i] = math.Pow(p[i], sTest/sVal)
		}
		ev.Test = append(ev.Test, eval.EvaluateBinary(m.name+", seasonal", p, test.y))
	}
	for _, m := range models {
		if m.lambda > 0 {
			c, err := crossValidated(test.sample(MaxCeilingRows, seed+3), m.lambda, CeilingFolds, seed)
			if err != nil {
				ev.CeilingSkipped = err.Error()
			} else {
				ev.Ceiling = &c
			}
		}
	}
	// Baselines: recency alone, frequency alone (rankers), BG/NBD P(no order in H).
	ev.Test = append(ev.Test,
		eval.EvaluateBinary("recency alone", test.f.Column("recency_days"), test.y),
		eval.EvaluateBinary("frequency alone (fewer = riskier)", negate(test.f.Column("frequency")), test.y),
		eval.EvaluateBinary("BG/NBD P(no order in H)", oneMinus(test.f.Column("bgnbd_p_order_in_horizon")), test.y))
	// golearn's bagged trees on the same windows, as a reference (it is
	// slow: fitted on at most MaxGolearnRows rows, scored on at most as
	// many test customers).
	ref, refTest := fitW.sample(MaxGolearnRows, seed), test.sample(MaxGolearnRows, seed+2)
	n, d := len(ref.f.Customers), len(ref.f.Names)
	if scores, err := churn.GolearnForestReference(ref.f.X, n, d, ref.y, refTest.f.X, len(refTest.f.Customers), seed); err == nil {
		name := "golearn bagged ID3 (reference)"
		if len(refTest.f.Customers) < len(test.f.Customers) {
			name = fmt.Sprintf("golearn bagged ID3 (reference, %d sampled customers)", len(refTest.f.Customers))
		}
		ev.Test = append(ev.Test, eval.EvaluateBinary(name, scores, refTest.y))
	}
	return ev, nil
}

// crossValidated fits the L2 logistic regression on w in k folds (by a
// seeded hash of the customer ids) and scores each customer with the model
// fitted on the other folds, standardised on them too.
func crossValidated(w churnWindow, lambda float64, k int, seed uint64) (eval.BinaryReport, error) {
	n, d := len(w.f.Customers), len(w.f.Names)
	fold := make([]int, n)
	for i, c := range w.f.Customers {
		fold[i] = int(hash.ID(seed, c) % uint64(k))
	}
	p, row := make([]float64, n), make([]float64, d)
	var x, y []float64
	for f := range k {
		x, y = x[:0], y[:0]
		churned := 0.0
		for i := range n {
			if fold[i] != f {
				x = append(x, w.f.X[i*d:(i+1)*d]...)
				y = append(y, w.y[i])
				churned += w.y[i]
			}
		}
		if churned == 0 || churned == float64(len(y)) {
			return eval.BinaryReport{}, fmt.Errorf("the window's %d customers leave %d churned and %d active outside fold %d of %d: too few of each to fit on", n, int(churned), len(y)-int(churned), f+1, k)
		}
		std, err := churn.FitStandardizer(x, len(y), d)
		if err != nil {
			return eval.BinaryReport{}, fmt.Errorf("churn ceiling fold %d: %w", f, err)
		}
		m, err := churn.FitLogistic(std.Transform(x, len(y)), len(y), d, y, lambda)
		if err != nil {
			return eval.BinaryReport{}, fmt.Errorf("churn ceiling fold %d: %w", f, err)
		}
		for i := range n {
			if fold[i] == f {
				p[i] = m.Predict(std.TransformRow(row, w.f.X[i*d:(i+1)*d]))
			}
		}
	}
	return eval.EvaluateBinary(fmt.Sprintf("logistic regression cross-validated on the test window's labels (%d folds)", k), p, w.y), nil
}

func negate(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = -v
	}
	return out
}

func oneMinus(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = 1 - v
	}
	return out
}

// ChurnReport is the churn part of a training run's manifest.
type ChurnReport struct {
	HorizonDays int              `json:"horizon_days"`
	Candidates  []ChurnCandidate `json:"validation"`
	Chosen      string           `json:"chosen"`
	// Seasonality is s_horizon / s_validation, the exponent of the
	// calibrated probabilities.
	Seasonality float64          `json:"seasonality"`
	Customers   int              `json:"customers"`
	Bands       map[string]int   `json:"bands"`
	MeanRisk    float64          `json:"mean_probability"`
	Thresholds  churn.Thresholds `json:"thresholds"`
}

// maxReasons is how many reasons a score carries.
const maxReasons = 3

// trainChurn fits the churn model on windows before asOf, scores every
// customer at asOf and writes the scores. clv gives the value at risk's
// CLV by customer id (nil: historic value). It also returns each customer's
// result by id, for the retention lists of the value records.
func trainChurn(ds *features.Dataset, asOf time.Time, horizon int, seed uint64, th churn.Thresholds, clv map[string]float64, w churn.Writer) (ChurnReport, map[string]value.ChurnResult, error) {
	rep := ChurnReport{HorizonDays: horizon, Bands: map[string]int{}, Thresholds: th}
	// The validation labels need the whole window [A-H, A): an as-of date
	// beyond the day after the last order would count the missing days as
	// churn.
	if last := ds.Summary.Last; !last.IsZero() && asOf.After(last.AddDate(0, 0, 1)) {
		return rep, nil, fmt.Errorf("%w: the as-of date %s is more than a day after the last order (%s), so the validation window's labels would be cut short", churn.ErrNoModel, asOf.Format(time.DateOnly), last.Format(time.DateOnly))
	}
	fitW, err := churnWindowAt(ds, asOf.AddDate(0, 0, -2*horizon), horizon)
	if err != nil {
		return rep, nil, fmt.Errorf("%w: %v", churn.ErrNoModel, err)
	}
	valW, err := churnWindowAt(ds, asOf.AddDate(0, 0, -horizon), horizon)
	if err != nil {
		return rep, nil, fmt.Errorf("%w: %v", churn.ErrNoModel, err)
	}
	if len(fitW.f.Customers) < 50 || len(valW.f.Customers) < 50 {
		return rep, nil, fmt.Errorf("%w: %d and %d customers in the fit and validation windows: too few to learn from (history shorter than 2 x %d days?)", churn.ErrNoModel, len(fitW.f.Customers), len(valW.f.Customers), horizon)
	}
	models, cands, err := fitChurn(fitW.sample(MaxChurnFitRows, seed), valW.sample(MaxChurnFitRows, seed+1), seed)
	if err != nil {
		return rep, nil, err
	}
	m := models[0]
	rep.Candidates, rep.Chosen = cands, m.name
	sVal := value.NewSeasonality(ds.Before(asOf.AddDate(0, 0, -horizon)), asOf.AddDate(0, 0, -horizon)).Index(asOf.AddDate(0, 0, -horizon), horizon)
	sNow := value.NewSeasonality(ds, asOf).Index(asOf, horizon)
	rep.Seasonality = sNow / sVal

	f, err := churnFeatures(ds, asOf, horizon)
	if err != nil {
		return rep, nil, err
	}
	n, d := len(f.Customers), len(f.Names)
	x := m.std.Transform(f.X, n)
	scores := make([]churn.Score, n)
	byID := make(map[string]value.ChurnResult, n)
	contrib := make([]float64, d)
	row := make(map[string]float64, d)
	medians := make(map[string]float64, d)
	for _, name := range f.Names {
		medians[name] = stats.Median(f.Column(name))
	}
	order := make([]int, d)
	for i := range scores {
		xi := x[i*d : (i+1)*d]
		p := math.Pow(m.platt.Calibrate(m.raw(xi)), rep.Seasonality)
		sc := churn.Score{Probability: p, Band: th.Band(p)}
		raw := f.Row(i)
		for j, name := range f.Names {
			row[name] = raw[j]
		}
		contrib = m.contrib(contrib, xi)
		if sc.Band == churn.Bands[0] {
			contrib = contrib[:0] // a low risk needs no explaining
		}
		for j := range order {
			order[j] = j
		}
		if len(contrib) == d {
			slices.SortFunc(order, func(a, b int) int { return cmp.Compare(contrib[b], contrib[a]) })
		}
		for _, j := range order {
			if len(contrib) < d || contrib[j] <= 0 || len(sc.Reasons) == maxReasons {
				break
			}
			if r := churn.Reason(f.Names[j], raw[j], row, medians); r != "" && !slices.Contains(sc.Reasons, r) {
				sc.Reasons = append(sc.Reasons, r)
			}
		}
		id := ds.Customers.Name(f.Customers[i])
		base, ok := clv[id]
		if !ok {
			base = math.Expm1(row["log_monetary"])
		}
		sc.ValueAtRisk = p * base
		scores[i] = sc
		byID[id] = value.ChurnResult{Band: uint8(slices.Index(churn.Bands, sc.Band)), Probability: p, ValueAtRisk: sc.ValueAtRisk}
		rep.Bands[sc.Band]++
		rep.MeanRisk += p / float64(n)
	}
	rep.Customers = n
	if err := churn.WriteMeta(w, churn.Meta{AsOf: asOf, HorizonDays: horizon, Model: m.name, Thresholds: th, Seasonality: rep.Seasonality}); err != nil {
		return rep, nil, err
	}
	return rep, byID, parallel.OrderedPut(n, func(_, i int, key, val []byte) ([]byte, []byte, bool) {
		return append(key, ds.Customers.Name(f.Customers[i])...), churn.AppendScore(val, &scores[i]), true
	}, func(key, val []byte) error {
		return w.Put(churn.CustomersTable, key, val)
	})
}
