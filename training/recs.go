package training

import (
	"fmt"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/gbt"
	"github.com/patron-crm/patron/models/itemsim"
	"github.com/patron-crm/patron/models/recommend"
	"github.com/patron-crm/patron/training/eval"
)

// RecsReport is the recommendation part of a training run's evaluation:
// the validation search that chose the blend, and the chosen model beside
// the baselines on the validation window.
type RecsReport struct {
	// Validation is the window the choice was made on: fit before Cutoff,
	// score on [Cutoff, End).
	ValidationCutoff time.Time   `json:"validation_cutoff"`
	ValidationEnd    time.Time   `json:"validation_end"`
	Candidates       []Candidate `json:"candidates"`
	Chosen           Candidate   `json:"chosen"`
	// Reports are the chosen model and the baselines on the validation
	// window, tasks "all" and "new". The re-ranker was fitted on these
	// customers: Rerank.HeldOutNDCG10 is its out-of-sample check.
	Reports []eval.RankReport `json:"reports"`
	// Rerank is the re-ranking stage, fitted after the personal model and
	// history half-life were chosen, before the buy-again weight.
	Rerank   RerankReport `json:"rerank"`
	FellBack string       `json:"fell_back,omitempty"`
	Skipped  string       `json:"skipped,omitempty"`
}

// Candidate is one setting tried on the validation window.
type Candidate struct {
	Personal        string  `json:"personal"`
	HistoryHalfLife float64 `json:"history_half_life_days"`
	RebuyWeight     float64 `json:"rebuy_weight"`
	NDCG10All       float64 `json:"ndcg10_all"`
	NDCG10New       float64 `json:"ndcg10_new"`
}

// The search grid: the personal model and history half-life are chosen on
// task "new", then the buy-again weight on task "all".
var (
	// Plain cosine item-kNN is a baseline in every report; the search is
	// between the two stronger models.
	personalModels   = []string{recommend.ModelEASE, recommend.ModelRP3Beta}
	historyHalfLives = []float64{30, 60, 120}
	rebuyWeights     = []float64{0.5, 1, 2, 4, 8}
)

// MaxValidationCustomers bounds the customers the validation search scores,
// so that choosing parameters stays a small part of training on large data.
const MaxValidationCustomers = 5000

// Baseline names in reports.
const (
	BaselinePopular = "popularity"
	BaselineItemKNN = "item-knn"
)

// recsChoice is what the validation search chose: blend parameters and the
// re-ranking model (nil: none), with the report.
type recsChoice struct {
	Params   recommend.Params
	Reranker *gbt.Model
	Report   RecsReport
}

// pendingFit is a fit of the recommendation models running in the
// background (see startRecsFit).
type pendingFit struct {
	done chan struct{}
	m    *recommend.Recommender
	err  error
}

// startRecsFit starts fitting the recommendation models on ds as of asOf
// with parameters p (all of them, or with forRanking only what ranking
// evaluations ask: recommend.FitForRanking), so that the fit can run beside
// the validation search (which leaves part of the machine idle); finish
// adapts it to what the search chose.
func startRecsFit(ds *features.Dataset, asOf time.Time, p recommend.Params, forRanking bool) *pendingFit {
	fit := recommend.Fit
	if forRanking {
		fit = recommend.FitForRanking
	}
	f := &pendingFit{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.m, f.err = fit(ds, asOf, p)
	}()
	return f
}

// wait waits for the fit to end (before an error returns, so that no fit
// outlives its training run).
func (f *pendingFit) wait() { <-f.done }

// finish waits for the fit and gives it the choice: the chosen personal
// model (refitted only if it is not the one fitted), blend parameters and
// re-ranker. The result is the recommender fitted with the chosen
// parameters (a test checks that its bundle is byte for byte the same).
func (f *pendingFit) finish(ch recsChoice) (*recommend.Recommender, error) {
	f.wait()
	if f.err != nil {
		return nil, f.err
	}
	m := f.m
	if m.Params.Personal != ch.Params.Personal {
		p := m.Params
		p.Personal = ch.Params.Personal
		var err error
		if m, err = m.WithPersonal(p); err != nil {
			return nil, err
		}
	}
	return m.WithParams(ch.Params).WithReranker(ch.Reranker), nil
}

// chooseRecs picks recommendation parameters on the validation window
// [valCut, end) of ds, fitting only on orders before valCut.
func chooseRecs(ds *features.Dataset, valCut, end time.Time, base recommend.Params) (recsChoice, error) {
	ch := recsChoice{Params: base, Report: RecsReport{ValidationCutoff: valCut, ValidationEnd: end}}
	rep := &ch.Report
	split := eval.NewRankSplit(ds.Before(end), valCut, end).Sample(MaxValidationCustomers, 1)
	if len(split.Customers) < 20 {
		rep.Skipped = fmt.Sprintf("only %d customers bought both before and after the validation cutoff %s: kept the default parameters", len(split.Customers), valCut.Format("2006-01-02"))
		return ch, nil
	}
	best := Candidate{NDCG10New: -1}
	shared := base
	shared.Personal = recommend.ModelPopular
	baseFit, err := recommend.FitForRanking(split.Train, valCut, shared)
	if err != nil {
		return ch, err
	}
	fits := map[string]*recommend.Recommender{}
	for _, pm := range personalModels {
		p := base
		p.Personal = pm
		m, err := baseFit.WithPersonal(p)
		if err != nil {
			return ch, err
		}
		if m.FellBack != "" {
			rep.FellBack = m.FellBack
		}
		got := m.Params.Personal // differs from pm after a fallback
		if _, done := fits[got]; done {
			continue
		}
		fits[got] = m
		for _, hl := range historyHalfLives {
			mm := m.WithBlend(hl, base.RebuyWeight)
			c := Candidate{Personal: got, HistoryHalfLife: hl, RebuyWeight: base.RebuyWeight}
			c.NDCG10New = split.Evaluate(got, eval.TaskNew, Ranker(mm, ds)).NDCG(10)
			rep.Candidates = append(rep.Candidates, c)
			if c.NDCG10New > best.NDCG10New {
				best = c
			}
		}
	}
	// The re-ranker learns to reorder the chosen vote's candidates; the
	// buy-again weight is then chosen with it in place.
	rr, rrRep, err := fitReranker(split, fits[best.Personal].WithBlend(best.HistoryHalfLife, base.RebuyWeight), ds, 1)
	if err != nil {
		return ch, err
	}
	rep.Rerank, ch.Reranker = rrRep, rr
	reranked := fits[best.Personal].WithBlend(best.HistoryHalfLife, base.RebuyWeight).WithReranker(rr)
	bestAll := -1.0
	for _, w := range rebuyWeights {
		mm := reranked.WithBlend(best.HistoryHalfLife, w) // shares the histories computed so far
		c := best
		c.RebuyWeight = w
		c.NDCG10All = split.Evaluate(best.Personal, eval.TaskAll, Ranker(mm, ds)).NDCG(10)
		rep.Candidates = append(rep.Candidates, c)
		if c.NDCG10All > bestAll {
			bestAll, rep.Chosen = c.NDCG10All, c
		}
	}
	p := &ch.Params
	p.Personal, p.HistoryHalfLife, p.RebuyWeight = rep.Chosen.Personal, rep.Chosen.HistoryHalfLife, rep.Chosen.RebuyWeight
	chosen := reranked.WithBlend(p.HistoryHalfLife, p.RebuyWeight)
	reports, err := compare(split, ds, chosen, base)
	if err != nil {
		return ch, err
	}
	rep.Reports = reports
	return ch, nil
}

// compare scores a fitted recommender beside the popularity and plain
// item-kNN baselines on both tasks.
func compare(split *eval.RankSplit, ds *features.Dataset, m *recommend.Recommender, base recommend.Params) ([]eval.RankReport, error) {
	pop := base
	pop.Personal = recommend.ModelPopular
	popM, err := m.WithPersonal(pop)
	if err != nil {
		return nil, err
	}
	popM = popM.WithBlend(0, 0) // plain: no buy-again either
	knn := base
	knn.Personal, knn.Cosine = recommend.ModelCosine, itemsim.Params{Kind: itemsim.Cosine, K: 100}
	knnM, err := m.WithPersonal(knn)
	if err != nil {
		return nil, err
	}
	knnM = knnM.WithBlend(0, 0) // plain: equal history weights, no buy-again
	var out []eval.RankReport
	for _, task := range []eval.Task{eval.TaskAll, eval.TaskNew} {
		out = append(out,
			split.Evaluate(BaselinePopular, task, Ranker(popM, ds)),
			split.Evaluate(BaselineItemKNN, task, Ranker(knnM, ds)),
			split.Evaluate(patronName(m), task, Ranker(m, ds)))
	}
	return out, nil
}

// Ranker adapts a recommender to the evaluation protocol: it asks exactly
// what a storefront asks (task "new" = the default request, task "all" =
// include_purchased), by the ids of ds.
func Ranker(m *recommend.Recommender, ds *features.Dataset) eval.Recommender {
	return func(c int32, k int, excludeBought bool, dst []int32) []int32 {
		res, err := m.ForCustomer(recommend.Request{CustomerID: ds.Customers.Name(c), Limit: k, IncludePurchased: !excludeBought})
		if err != nil {
			panic(fmt.Sprintf("evaluation request failed: %v", err)) // requests here are always valid
		}
		for _, it := range res.Items {
			if i, ok := ds.Items.Index(it.ItemID); ok {
				dst = append(dst, i)
			}
		}
		return dst
	}
}

// RecsEvaluation is the offline evaluation of recommendations on a time
// split: parameters chosen on a validation window before the cutoff, the
// model fitted on everything before the cutoff, scored after it.
type RecsEvaluation struct {
	Cutoff     time.Time         `json:"cutoff"`
	End        time.Time         `json:"end,omitzero"`
	Validation RecsReport        `json:"validation"`
	Params     recommend.Params  `json:"params"`
	Test       []eval.RankReport `json:"test"`
	FitSeconds float64           `json:"fit_seconds"`
}

// EvaluateRecs runs the protocol of docs/design.md on ds: choose on
// [valCut, cutoff), fit before cutoff, test on [cutoff, end) (zero end: to
// the last order).
func EvaluateRecs(ds *features.Dataset, valCut, cutoff, end time.Time) (RecsEvaluation, error) {
	ev := RecsEvaluation{Cutoff: cutoff, End: end}
	if !valCut.Before(cutoff) {
		return ev, fmt.Errorf("evaluate: validation cutoff %s must be before the cutoff %s", valCut.Format("2006-01-02"), cutoff.Format("2006-01-02"))
	}
	ch, err := chooseRecs(ds, valCut, cutoff, recommend.DefaultParams())
	if err != nil {
		return ev, err
	}
	ev.Validation, ev.Params = ch.Report, ch.Params
	full := ds
	if !end.IsZero() {
		full = ds.Before(end)
	}
	split := eval.NewRankSplit(full, cutoff, time.Time{})
	start := time.Now()
	// Fitted with the chosen parameters (nothing runs beside it here, so
	// fitting the defaults and adapting them would fit a personal model the
	// search did not choose).
	m, err := startRecsFit(split.Train, cutoff, ch.Params, true).finish(ch)
	if err != nil {
		return ev, err
	}
	ev.FitSeconds = time.Since(start).Seconds()
	ev.Test, err = compare(split, ds, m, recommend.DefaultParams())
	return ev, err
}

// patronName names Patron's recommender in reports: its personal model, and
// whether candidates are re-ranked.
func patronName(m *recommend.Recommender) string {
	if m.Reranked() {
		return "patron (" + m.Params.Personal + ", re-ranked)"
	}
	return "patron (" + m.Params.Personal + ")"
}
