package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/patron-crm/patron/training"
	"github.com/patron-crm/patron/training/eval"
)

// runEval evaluates the models offline on a time split.
func runEval(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("eval", "eval --orders FILE --cutoff DATE [flags]",
		`  patron eval --orders data/online_retail.csv.gz --cutoff 2011-09-01 --validation-cutoff 2011-06-01
  patron eval --orders orders.csv.gz --cutoff 2025-10-01 --json > eval.json`)
	var rf readFlags
	rf.register(fs)
	rf.registerDataDir(fs)
	cutoffS := fs.String("cutoff", "", "test cutoff (YYYY-MM-DD): fit on orders before it, test on orders after (required)")
	valS := fs.String("validation-cutoff", "", "validation cutoff inside the training period, where parameters are chosen (default: 90 days before --cutoff)")
	endS := fs.String("end", "", "end of the test window (default: the day after the last order)")
	models := fs.String("models", "recs,value,churn", "what to evaluate: recs (recommendations), value (customer value), churn; comma separated")
	churnAsOfS := fs.String("churn-as-of", "", "as-of date of the churn evaluation (default: --value-cutoff, else --cutoff)")
	horizon := fs.Int("horizon-days", training.DefaultChurnHorizon, "churn horizon H: churned = no order in the H days after the as-of date")
	valueCutS := fs.String("value-cutoff", "", "calibration end for the customer-value holdout (default: --cutoff)")
	jsonOut := fs.Bool("json", false, "print the report as JSON")
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
	if *cutoffS == "" {
		return usageError{"--cutoff is required: the date that splits training (before) from test (after), e.g. 2011-09-01"}
	}
	cutoff, err := parseDate("cutoff", *cutoffS, opts.Location)
	if err != nil {
		return err
	}
	valCut := cutoff.AddDate(0, 0, -training.DefaultValidationDays)
	if *valS != "" {
		if valCut, err = parseDate("validation-cutoff", *valS, opts.Location); err != nil {
			return err
		}
	}
	var end time.Time
	if *endS != "" {
		if end, err = parseDate("end", *endS, opts.Location); err != nil {
			return err
		}
	}
	if !valCut.Before(cutoff) || (!end.IsZero() && !cutoff.Before(end)) {
		return usageError{"want --validation-cutoff < --cutoff < --end"}
	}

	valueCut := cutoff
	if *valueCutS != "" {
		if valueCut, err = parseDate("value-cutoff", *valueCutS, opts.Location); err != nil {
			return err
		}
	}
	churnAsOf := valueCut
	if *churnAsOfS != "" {
		if churnAsOf, err = parseDate("churn-as-of", *churnAsOfS, opts.Location); err != nil {
			return err
		}
	}
	if *horizon < 1 {
		return usageError{fmt.Sprintf("--horizon-days %d: want at least 1", *horizon)}
	}
	doRecs, doValue, doChurn := false, false, false
	for _, m := range strings.Split(*models, ",") {
		switch strings.TrimSpace(m) {
		case "recs":
			doRecs = true
		case "value":
			doValue = true
		case "churn":
			doChurn = true
		default:
			return usageError{fmt.Sprintf("--models %q: list recs, value and/or churn", *models)}
		}
	}

	p := a.newProgress(*jsonOut)
	opts.Progress = readProgress(p, rf.orders)
	ds, err := a.readOrders(ctx, rf.orders, opts)
	if err != nil {
		p.Done()
		return err
	}
	if end.IsZero() {
		lt := ds.Summary.Last.In(opts.Location)
		end = time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, opts.Location)
	}
	var report struct {
		Recs  *training.RecsEvaluation  `json:"recommendations,omitempty"`
		Value *training.ValueEvaluation `json:"value,omitempty"`
		Churn *training.ChurnEvaluation `json:"churn,omitempty"`
	}
	start := time.Now()
	if doRecs {
		p.Printf("evaluating recommendations: choosing on %s to %s, testing from %s", valCut.Format(time.DateOnly), cutoff.Format(time.DateOnly), cutoff.Format(time.DateOnly))
		ev, err := training.EvaluateRecs(ds, valCut, cutoff, end)
		if err != nil {
			p.Done()
			return err
		}
		report.Recs = &ev
	}
	if doValue {
		p.Printf("evaluating customer value: calibration before %s, holdout to %s", valueCut.Format(time.DateOnly), end.Format(time.DateOnly))
		ev, err := training.EvaluateValue(ds, valueCut, end)
		if err != nil {
			p.Done()
			return err
		}
		report.Value = &ev
	}
	if doChurn {
		p.Printf("evaluating churn: as of %s, horizon %d days", churnAsOf.Format(time.DateOnly), *horizon)
		ev, err := training.EvaluateChurn(ds, churnAsOf, end, *horizon, 1)
		if err != nil {
			p.Done()
			return err
		}
		report.Churn = &ev
	}
	p.Done()
	if *jsonOut {
		return writeJSON(a.stdout, report)
	}
	if report.Recs != nil {
		writeRecsEvaluation(a.stdout, *report.Recs, time.Since(start))
	}
	if report.Value != nil {
		if report.Recs != nil {
			fmt.Fprintln(a.stdout)
		}
		writeValueEvaluation(a.stdout, *report.Value)
	}
	if report.Churn != nil {
		if report.Recs != nil || report.Value != nil {
			fmt.Fprintln(a.stdout)
		}
		writeChurnEvaluation(a.stdout, *report.Churn)
	}
	return nil
}

// writeChurnEvaluation prints the churn models beside the baselines.
func writeChurnEvaluation(w io.Writer, ev training.ChurnEvaluation) {
	fmt.Fprintf(w, "Churn (no order in %d days), as of %s; models fitted on features at %s, chosen and calibrated on %s; seasonal index validation %.3f, test %.3f\n",
		ev.HorizonDays, ev.AsOf.Format(time.DateOnly), ev.AsOf.AddDate(0, 0, -2*ev.HorizonDays).Format(time.DateOnly),
		ev.AsOf.AddDate(0, 0, -ev.HorizonDays).Format(time.DateOnly), ev.Seasonality[0], ev.Seasonality[1])
	for _, c := range ev.Candidates {
		fmt.Fprintf(w, "  validation: %-28s ROC AUC %.3f, Brier %.3f\n", c.Model, c.ROCAUC, c.Brier)
	}
	fmt.Fprintf(w, "chosen: %s\n\n", ev.Chosen)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tcustomers\tchurn rate\tmean predicted\tROC AUC\tPR AUC\tBrier\tlift@10%\t")
	for _, r := range ev.Test {
		mean, brier := "-", "-"
		if r.Probabilistic {
			mean, brier = fmt.Sprintf("%.3f", r.MeanPredicted), fmt.Sprintf("%.3f", r.Brier)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%s\t%.3f\t%.3f\t%s\t%.2f\t\n", r.Name, r.N, r.BaseRate, mean, r.ROCAUC, r.PRAUC, brier, r.LiftTop10)
	}
	tw.Flush()
	if ev.CeilingSkipped != "" {
		fmt.Fprintf(w, "\nceiling not computed: %s\n", ev.CeilingSkipped)
	}
	if c := ev.Ceiling; c != nil {
		fmt.Fprintf(w, "\nceiling, not a forecast: %s, %d customers: ROC AUC %.4f, Brier %.4f, lift@10%% %.2f\n(the best these features rank and calibrate this window with its own labels known)\n",
			c.Name, c.N, c.ROCAUC, c.Brier, c.LiftTop10)
	}
}

// writeValueEvaluation prints the customer-value holdout comparison.
func writeValueEvaluation(w io.Writer, ev training.ValueEvaluation) {
	fmt.Fprintf(w, "Customer value, calibration before %s, holdout %s to %s (%d customers); seasonal index of the holdout %.3f\n",
		ev.Calibration.Format(time.DateOnly), ev.Calibration.Format(time.DateOnly), ev.HoldoutEnd.Format(time.DateOnly), ev.Customers, ev.Seasonality)
	f := ev.Fit
	fmt.Fprintf(w, "BG/NBD r=%.3g alpha=%.3g a=%.3g b=%.3g\n", f.R, f.Alpha, f.A, f.B)
	for _, b := range ev.Boundary {
		fmt.Fprintf(w, "boundary fit: %s\n", b)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "forecast\tquantity\tpredicted total\tactual total\tPearson\tMAE (mean)\tMAE (median)\t")
	for _, r := range ev.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.3f\t%.3f\t%.3f\t\n", r.Forecast, r.Quantity, r.Predicted, r.Actual, r.Pearson, r.MAE, r.MedianMAE)
	}
	tw.Flush()
}

// writeRecsEvaluation prints the evaluation as tables.
func writeRecsEvaluation(w io.Writer, ev training.RecsEvaluation, took time.Duration) {
	v := ev.Validation
	fmt.Fprintf(w, "Recommendations, time split at %s (train before, test after); chosen on %s to %s\n",
		ev.Cutoff.Format("2006-01-02"), v.ValidationCutoff.Format("2006-01-02"), v.ValidationEnd.Format("2006-01-02"))
	if v.Skipped != "" {
		fmt.Fprintf(w, "validation skipped: %s\n", v.Skipped)
	}
	fmt.Fprintf(w, "chosen: %s, history half-life %g days, buy-again weight %g (validation NDCG@10 new %.3f, all %.3f)\n",
		v.Chosen.Personal, v.Chosen.HistoryHalfLife, v.Chosen.RebuyWeight, v.Chosen.NDCG10New, v.Chosen.NDCG10All)
	writeRerank(w, v.Rerank)
	if v.FellBack != "" {
		fmt.Fprintf(w, "fell back: %s\n", v.FellBack)
	}
	fmt.Fprintln(w)
	writeRankTable(w, ev.Test)
	fmt.Fprintf(w, "\nfit %.1fs, whole evaluation %s. Task new = the default request (bought items left out);\ntask all = include_purchased=true.\n", ev.FitSeconds, took.Round(time.Millisecond))
}

// writeRankTable prints ranking reports one row per model and task.
func writeRankTable(w io.Writer, reps []eval.RankReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\ttask\tcustomers\tHR@10\tP@10\tR@10\tNDCG@10\tHR@20\tP@20\tR@20\tNDCG@20\tcoverage@10\t")
	for _, r := range reps {
		fmt.Fprintf(tw, "%s\t%s\t%d\t", r.Model, r.Task, r.Customers)
		for _, at := range r.At {
			fmt.Fprintf(tw, "%.3f\t%.3f\t%.3f\t%.3f\t", at.HitRate, at.Precision, at.Recall, at.NDCG)
		}
		fmt.Fprintf(tw, "%.3f\t\n", r.At[0].Coverage)
	}
	tw.Flush()
}
