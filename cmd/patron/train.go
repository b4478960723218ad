package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/churn"
	"github.com/patron-crm/patron/training"
)

func runTrain(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("train", "train --orders FILE --data-dir DIR [flags]",
		`  patron train --orders data/online_retail.csv.gz --data-dir patron-data
  patron train --orders data/online_retail.csv.gz --data-dir patron-data --as-of 2011-09-01
  patron train --orders orders.csv --data-dir /var/lib/patron --encryption-key-file /etc/patron/bundle.key --json`)
	var rf readFlags
	rf.register(fs)
	var sf storeFlags
	sf.register(fs)
	asOf := fs.String("as-of", "", "train as of this date (YYYY-MM-DD): use only orders before it (default: the day after the last order)")
	seed := fs.Int64("seed", 1, "seed for every randomised step, so a run can be repeated exactly")
	keep := fs.Int("keep", 5, "how many bundles to keep in the data directory")
	noActivate := fs.Bool("no-activate", false, "publish the bundle without making it active")
	churnHorizon := fs.Int("churn-horizon-days", 90, "churn horizon H: a customer has churned when they order nothing in H days")
	churnMedium := fs.Float64("churn-medium", 0.3, "churn probability from which a customer is medium risk")
	churnHigh := fs.Float64("churn-high", 0.6, "churn probability from which a customer is high risk")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts, rej, err := rf.options()
	if err != nil {
		return err
	}
	if rej != nil {
		defer rej.Close()
	}
	if *churnHorizon < 1 {
		return usageError{fmt.Sprintf("--churn-horizon-days %d: want at least 1", *churnHorizon)}
	}
	if !(*churnMedium > 0 && *churnMedium < *churnHigh && *churnHigh < 1) {
		return usageError{fmt.Sprintf("--churn-medium %v, --churn-high %v: want 0 < medium < high < 1", *churnMedium, *churnHigh)}
	}
	cfg := training.Config{ChurnHorizonDays: *churnHorizon, ChurnThresholds: churn.Thresholds{Medium: *churnMedium, High: *churnHigh},
		Orders: rf.orders, Input: a.input(rf.orders), Read: opts, Seed: *seed, NoActivate: *noActivate, CodeVersion: a.version}
	if *asOf != "" {
		if cfg.AsOf, err = parseDate("as-of", *asOf, opts.Location); err != nil {
			return err
		}
	}
	if *keep < 1 {
		return usageError{fmt.Sprintf("--keep %d: keep at least 1 bundle", *keep)}
	}
	reg, err := sf.open(*keep)
	if err != nil {
		return err
	}
	if err := checkTrainSpace(reg); err != nil {
		return err
	}
	p := a.newProgress(*jsonOut)
	cfg.Read.Progress = readProgress(p, rf.orders)
	cfg.Progress = func(stage string) { p.Printf("%s", stage) }
	start := time.Now()
	res, err := training.Train(ctx, reg, cfg)
	p.Done()
	if err != nil {
		return explainWriteError(err, reg)
	}
	if *jsonOut {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Version  int64            `json:"version"`
			Active   bool             `json:"active"`
			AsOf     time.Time        `json:"as_of"`
			Counts   map[string]int64 `json:"counts"`
			Stages   []training.Stage `json:"stages"`
			Duration time.Duration    `json:"duration_ns"`
		}{int64(res.Manifest.Version), !*noActivate, res.Manifest.AsOf, res.Manifest.Counts, res.Stages, time.Since(start)})
	}
	s := res.Summary
	fmt.Fprintf(a.stdout, "trained bundle v%d as of %s from %s\n", res.Manifest.Version, res.Manifest.AsOf.Format("2006-01-02"), rf.orders)
	fmt.Fprintf(a.stdout, "  lines %s: kept %s, dropped %s, rejected %s (run `patron ingest` for the full summary)\n",
		commaInt(s.Lines), commaInt(s.Kept), commaInt(s.Dropped), commaInt(s.Rejected))
	if n := s.Reason(features.ReasonSuppressed).Count; n > 0 {
		fmt.Fprintf(a.stdout, "  left out %s lines of forgotten customers (suppression list of %s)\n", commaInt(n), sf.dataDir)
	}
	c := res.Manifest.Counts
	fmt.Fprintf(a.stdout, "  customers %s, items %s, orders %s\n", commaInt(c["customers"]), commaInt(c["items"]), commaInt(c["orders"]))
	for _, st := range res.Stages {
		fmt.Fprintf(a.stdout, "  %-16s %s\n", st.Name, st.Duration.Round(time.Millisecond))
	}
	writeRecsSummary(a.stdout, res.Recs)
	writeValueSummary(a.stdout, res)
	if res.Churn == nil {
		fmt.Fprintf(a.stdout, "churn: none (%s)\n", res.ChurnSkipped)
	} else {
		c := res.Churn
		fmt.Fprintf(a.stdout, "churn (no order in %d days): %s, mean risk %.2f; bands high %s, medium %s, low %s; seasonal exponent %.2f\n",
			c.HorizonDays, c.Chosen, c.MeanRisk, commaInt(int64(c.Bands["high"])), commaInt(int64(c.Bands["medium"])), commaInt(int64(c.Bands["low"])), c.Seasonality)
	}
	if *noActivate {
		fmt.Fprintf(a.stdout, "not activated: run `patron models activate %d --data-dir %s` to serve it\n", res.Manifest.Version, sf.dataDir)
	} else {
		fmt.Fprintf(a.stdout, "active: `patron serve --data-dir %s` serves it (a running server switches to it by itself)\n", sf.dataDir)
	}
	return nil
}

// writeRecsSummary says which recommendation model training chose and how
// it scored on the validation window beside the baselines.
func writeRecsSummary(w io.Writer, r training.RecsReport) {
	if r.Skipped != "" {
		fmt.Fprintf(w, "recommendations: %s\n", r.Skipped)
	} else {
		c := r.Chosen
		fmt.Fprintf(w, "recommendations: %s, history half-life %g days, buy-again weight %g, chosen on %s to %s\n",
			c.Personal, c.HistoryHalfLife, c.RebuyWeight, r.ValidationCutoff.Format("2006-01-02"), r.ValidationEnd.Format("2006-01-02"))
		for _, rep := range r.Reports {
			fmt.Fprintf(w, "  validation NDCG@10 %-4s %-22s %.3f (%d customers)\n", rep.Task, rep.Model, rep.NDCG(10), rep.Customers)
		}
		writeRerank(w, r.Rerank)
	}
	if r.FellBack != "" {
		fmt.Fprintf(w, "  fell back: %s\n", r.FellBack)
	}
}

// writeRerank says whether candidates are re-ranked, and why.
func writeRerank(w io.Writer, r training.RerankReport) {
	if !r.Kept {
		if r.Why != "" {
			fmt.Fprintf(w, "  re-ranker: not used (%s)\n", r.Why)
		}
		return
	}
	fmt.Fprintf(w, "  re-ranker: %d trees on %d candidates (%d bought); held-out validation NDCG@10 new %.3f -> %.3f (%d customers)\n",
		r.Trees, r.Rows, r.Positives, r.HeldOutNDCG10[0], r.HeldOutNDCG10[1], r.HeldOutCustomers)
}

// writeValueSummary reports the customer-value fit, or why there is none.
func writeValueSummary(w io.Writer, res training.Result) {
	if res.Value == nil {
		fmt.Fprintf(w, "customer value: none (%s)\n", res.ValueSkipped)
		return
	}
	v := res.Value
	p := v.Purchases
	kind := map[string]string{"mbgnbd": "MBG/NBD"}[v.Kind]
	if kind == "" {
		kind = "BG/NBD"
	}
	fmt.Fprintf(w, "customer value: %s r=%.3g alpha=%.3g a=%.3g b=%.3g (%s customers, %s repeat buyers); top 5%% hold %.0f%% of predicted %g-day CLV\n",
		kind, p.R, p.Alpha, p.A, p.B, commaInt(int64(v.Customers)), commaInt(int64(v.RepeatBuyers)), 100*v.TopShare, v.Options.HorizonDays)
	if sel := v.Selection; sel != nil && len(sel.Candidates) >= 3 {
		fmt.Fprintf(w, "  chosen on %s to %s by per-customer MAE of median orders: BG/NBD %.3f, MBG/NBD %.3f, naive %.3f\n",
			sel.Through.AddDate(0, 0, 1).Format(time.DateOnly), sel.End.Format(time.DateOnly), sel.Candidates[0].MedianMAE, sel.Candidates[1].MedianMAE, sel.Candidates[2].MedianMAE)
	}
	for _, b := range v.Boundary {
		fmt.Fprintf(w, "  boundary fit: %s\n", b)
	}
	if v.SpendFallback != "" {
		fmt.Fprintf(w, "  order values: %s\n", v.SpendFallback)
	}
}
