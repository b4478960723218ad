package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"google.golang.org/protobuf/proto"
)

func protoSize(m proto.Message) int { return proto.Size(m) }

// printMode writes one mode's runs, ratios and memory as plain tables.
func printMode(w io.Writer, cfg config, m modeResults) {
	fmt.Fprintf(w, "\n%s, %s per run (+%s warm-up), bare bodies: JSON %d B, churn message %d B\n",
		m.Mode, cfg.duration, cfg.warmup, m.BodyBytes, m.ChurnSize)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tconc\trequests\treq/s\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\tunknown ids\tNOT_FOUND\terrors\t")
	for _, r := range m.Runs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.3f\t%.3f\t%.3f\t%.1f\t%d\t%d\t%d\t\n", r.Target, r.Concurrency, r.Requests,
			r.RPS, r.P50ms, r.P99ms, r.P999ms, r.MaxMs, r.Unknown, r.NotFound, r.Errors)
	}
	tw.Flush()
	if len(m.Ratios) > 0 {
		printRatios(w, m.Ratios)
	}
	bundle := "trained from " + cfg.orders
	if cfg.dataDir != "" {
		bundle = "the active bundle of " + cfg.dataDir
	}
	fmt.Fprintf(w, "\npatron serve memory after the runs (%s): VmRSS %.1f MiB, peak VmHWM %.1f MiB\n",
		bundle, float64(m.PatronRSS)/1024, float64(m.PatronHWM)/1024)
}

// printRatios writes Patron/bare per API and concurrency, with issue 6's
// targets where it sets one.
func printRatios(w io.Writer, ratios []ratio) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Patron / bare\tconc\treq/s ratio\tp99 ratio\ttarget\tverdict\t")
	for _, r := range ratios {
		target, verdict := "-", "-"
		switch {
		case r.RPSTarget > 0 && r.P99Target > 0:
			target = fmt.Sprintf(">= %.2f, <= %.0fx", r.RPSTarget, r.P99Target)
		case r.P99Target > 0:
			target = fmt.Sprintf("p99 <= %.0fx", r.P99Target)
		}
		if r.Pass != nil {
			verdict = "FAIL"
			if *r.Pass {
				verdict = "pass"
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%s\t%s\t\n", r.API, r.Concurrency, r.RPSRatio, r.P99Ratio, target, verdict)
	}
	tw.Flush()
}
