package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/patron-crm/patron/models/value"
)

// runExport writes customer lists for the data team.
func runExport(ctx context.Context, a *app, args []string) error {
	const examples = `  patron export customers --tier gold --format csv > gold.csv
  patron export customers --risk-band high --order-by value_at_risk --out win-back.csv
  patron export customers --segment "At Risk" --order-by historic_value --out at-risk.csv
  patron export customers --format jsonl --horizon-days 90 --data-dir /var/lib/patron`
	if len(args) == 0 || args[0] != "customers" {
		fs := a.newFlagSet("export", "export customers [flags]", examples)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		return usageError{"export: name what to export: customers"}
	}
	fs := a.newFlagSet("export customers", "export customers [--tier T] [--segment S] [--order-by K] [--format csv|jsonl] [--out FILE]", examples)
	var sf storeFlags
	sf.register(fs)
	tier := fs.String("tier", "", "only this value tier: platinum, gold, silver or bronze")
	segment := fs.String("segment", "", `only this RFM segment, e.g. Champions or "At Risk"`)
	riskBand := fs.String("risk-band", "", "only this churn risk band: low, medium or high")
	orderBy := fs.String("order-by", value.OrderByCLV, "order, descending: clv, historic_value, p_alive, expected_orders, days_since_last_order, value_at_risk, churn_probability")
	format := fs.String("format", "csv", "csv or jsonl")
	out := fs.String("out", "-", "output file (- = standard output)")
	horizon := fs.Int("horizon-days", 0, "prediction horizon in days (default: the bundle's, 365); the order still follows the default horizon's values")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *format != "csv" && *format != "jsonl" {
		return usageError{fmt.Sprintf("--format %q: want csv or jsonl", *format)}
	}
	reg, err := sf.open(0)
	if err != nil {
		return err
	}
	v, err := reg.Active()
	if err != nil {
		return err
	}
	b, err := reg.OpenBundle(v)
	if err != nil {
		return err
	}
	defer b.Close()
	vals, err := value.Open(b, int64(v))
	if err != nil {
		return fmt.Errorf("export: bundle %d: %w", v, err)
	}
	req := value.ListRequest{Tier: *tier, Segment: *segment, RiskBand: *riskBand, OrderBy: *orderBy, PageSize: value.MaxPageSize}
	if _, err := vals.List(value.ListRequest{Tier: *tier, Segment: *segment, RiskBand: *riskBand, OrderBy: *orderBy, PageSize: 1}); err != nil {
		return usageError{err.Error()}
	}
	if value.NeedsChurn(req) && !vals.HasChurn() {
		return fmt.Errorf("export: bundle %d has no churn scores (see `patron models show %d`, metrics.churn), so --risk-band and --order-by %s are unavailable", v, v, *orderBy)
	}
	if _, err := vals.CheckHorizon(*horizon); err != nil {
		return usageError{err.Error()}
	}

	var w io.Writer = a.stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	rows := 0
	write, flush := exportWriter(bw, *format)
	for {
		pg, err := vals.List(req)
		if err != nil {
			return err
		}
		for _, c := range pg.Customers {
			if *horizon != 0 {
				if c, err = vals.Get(c.CustomerID, *horizon); err != nil {
					return err
				}
			}
			if err := write(&c); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			rows++
		}
		if pg.NextPageToken == "" || ctx.Err() != nil {
			break
		}
		req.PageToken = pg.NextPageToken
	}
	if err := flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if *out != "-" {
		fmt.Fprintf(a.stderr, "exported %s customers from bundle %d to %s\n", commaInt(int64(rows)), v, *out)
	}
	return ctx.Err()
}

var exportHeader = []string{"customer_id", "tier", "segment", "clv", "horizon_days", "expected_orders", "p_alive",
	"p_order_in_horizon", "expected_next_order", "expected_order_value", "historic_value", "order_count",
	"recency_score", "frequency_score", "days_since_last_order", "risk_band", "churn_probability", "value_at_risk"}

// exportWriter returns a function writing one customer and one flushing the writer.
func exportWriter(w io.Writer, format string) (func(*value.Value) error, func() error) {
	if format == "jsonl" {
		enc := json.NewEncoder(w)
		return func(c *value.Value) error { return enc.Encode(exportRecord(c)) }, func() error { return nil }
	}
	cw := csv.NewWriter(w)
	header := false
	return func(c *value.Value) error {
			if !header {
				header = true
				if err := cw.Write(exportHeader); err != nil {
					return err
				}
			}
			r := exportRecord(c)
			row := make([]string, len(exportHeader))
			for i, k := range exportHeader {
				row[i] = fmt.Sprint(r[k])
			}
			return cw.Write(row)
		}, func() error {
			if !header {
				if err := cw.Write(exportHeader); err != nil {
					return err
				}
			}
			cw.Flush()
			return cw.Error()
		}
}

func exportRecord(c *value.Value) map[string]any {
	f := func(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }
	next := ""
	if !c.NextOrder.IsZero() {
		next = c.NextOrder.Format(time.DateOnly)
	}
	return map[string]any{
		"customer_id": c.CustomerID, "tier": c.Tier, "segment": c.Segment, "clv": f(c.CLV, 2),
		"horizon_days": c.HorizonDays, "expected_orders": f(c.ExpectedOrders, 4), "p_alive": f(c.PAlive, 4),
		"p_order_in_horizon": f(c.POrderInHorizon, 4), "expected_next_order": next,
		"expected_order_value": f(c.ExpectedOrderValue, 2), "historic_value": f(c.HistoricValue, 2),
		"order_count": c.Orders, "recency_score": c.RecencyScore, "frequency_score": c.FrequencyScore,
		"days_since_last_order": f(c.DaysSinceLastOrder, 1),
		"risk_band":             c.RiskBand, "churn_probability": f(c.ChurnProbability, 4), "value_at_risk": f(c.ValueAtRisk, 2),
	}
}
