// Package training runs a training job: read the order history as of a
// date, fit every model, write their tables into a new bundle with a
// manifest, and publish it.
//
// It is the only package that knows the order in which models are built;
// each model package only knows how to fit itself from a Dataset and write
// its own tables.
package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/churn"
	"github.com/patron-crm/patron/models/privacy"
	"github.com/patron-crm/patron/models/profiles"
	"github.com/patron-crm/patron/models/recommend"
	"github.com/patron-crm/patron/models/registry"
	"github.com/patron-crm/patron/models/value"
)

// Config describes one training run.
type Config struct {
	// Orders is the order file ("-" for stdin).
	Orders string
	// Input, when set, is read instead of opening Orders (which then only
	// names it), e.g. a command's standard input.
	Input io.Reader
	// Read says how to read it (columns, time zone, cleaning rules, limits).
	Read features.Options
	// AsOf is the training date: only orders before it are used. Zero means
	// the day after the last order (midnight in Read.Location).
	AsOf time.Time
	// Seed makes every randomised step reproducible.
	Seed int64
	// NoActivate publishes the bundle without making it active.
	NoActivate bool
	// CodeVersion is recorded in the manifest.
	CodeVersion string
	// Params are extra parameters recorded in the manifest as given.
	Params map[string]string
	// Progress, when set, is told which stage the run is in.
	Progress func(stage string)
	// ChurnHorizonDays is H: churned = no order in the H days after a date (default 90).
	ChurnHorizonDays int
	// ChurnThresholds split churn probabilities into risk bands (zero: the default 0.3 / 0.6).
	ChurnThresholds churn.Thresholds
	// Value configures the customer-value models (horizon, discount, tiers).
	Value value.Options
	// ValidationDays is the length of the window before AsOf on which
	// model parameters are chosen (default 90).
	ValidationDays int
}

// DefaultValidationDays is the default validation window.
const DefaultValidationDays = 90

// Result reports a finished run.
type Result struct {
	Manifest registry.Manifest
	Summary  features.Summary
	// Stages holds the wall time of each stage.
	Stages []Stage
	// Recs reports how the recommendation parameters were chosen.
	Recs RecsReport
	// Value reports the customer-value fit; nil when ValueSkipped says why
	// there is none.
	Value        *value.Report
	ValueSkipped string
	// Churn reports the churn model; nil when ChurnSkipped says why there is none.
	Churn        *ChurnReport
	ChurnSkipped string
}

// Stage is one timed step of a run.
type Stage struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration_ns"`
}

// Train runs a training job and publishes its bundle in reg.
func Train(ctx context.Context, reg *registry.Registry, cfg Config) (Result, error) {
	var res Result
	stage := func(name string, start time.Time) {
		res.Stages = append(res.Stages, Stage{Name: name, Duration: time.Since(start)})
	}
	say := func(s string) {
		if cfg.Progress != nil {
			cfg.Progress(s)
		}
	}

	// 1. Read the orders before the as-of date.
	start := time.Now()
	say("reading orders")
	opts := cfg.Read
	if !cfg.AsOf.IsZero() {
		opts.Before = cfg.AsOf
	}
	// Customers forgotten on request (models/privacy) never enter a bundle
	// of this data directory: their lines are dropped and counted.
	suppressed, err := privacy.Load(reg.Dir())
	if err != nil {
		return res, fmt.Errorf("train: %w (the list of forgotten customers; restore it before training)", err)
	}
	if opts.Suppressed == nil && suppressed.Len() > 0 {
		opts.Suppressed = suppressed.ContainsBytes
	}
	var ds *features.Dataset
	if cfg.Input != nil {
		if opts.Source == "" {
			opts.Source = cfg.Orders
		}
		ds, err = features.Read(ctx, cfg.Input, opts)
	} else {
		ds, err = features.ReadFile(ctx, cfg.Orders, opts)
	}
	if err != nil {
		return res, err
	}
	res.Summary = ds.Summary
	if len(ds.Orders) == 0 {
		return res, fmt.Errorf("train: no purchase orders in %s%s: nothing to learn from", cfg.Orders, beforeText(cfg.AsOf))
	}
	asOf := cfg.AsOf
	if asOf.IsZero() {
		asOf = dayAfter(ds.Summary.Last, opts.Location)
	}
	stage("read", start)

	// 2. Start the bundle.
	m, err := newManifest(cfg, ds, asOf)
	if err != nil {
		return res, err
	}
	b, err := reg.NewBuilder(m)
	if err != nil {
		return res, err
	}
	published := false
	defer func() {
		if !published {
			b.Abort()
		}
	}()

	// 3. Fit and write each model's tables.
	start = time.Now()
	say("writing customer and item profiles")
	if err := profiles.Write(ds, b); err != nil {
		return res, err
	}
	stage("profiles", start)
	if err := ctx.Err(); err != nil {
		return res, err
	}

	start = time.Now()
	say("choosing recommendation parameters on the validation window")
	valDays := cfg.ValidationDays
	if valDays <= 0 {
		valDays = DefaultValidationDays
	}
	// The models are fitted on all orders while the search runs, with the
	// parameters it starts from (finish adapts them to its choice).
	base := recommend.DefaultParams()
	pending := startRecsFit(ds, asOf, base, false)
	choice, err := chooseRecs(ds, asOf.AddDate(0, 0, -valDays), asOf, base)
	if err != nil {
		pending.wait()
		return res, err
	}
	recsRep := choice.Report
	stage("recs-validation", start)
	if err := ctx.Err(); err != nil {
		pending.wait()
		return res, err
	}
	start = time.Now()
	say("fitting and writing recommendation models")
	rec, err := pending.finish(choice)
	if err != nil {
		return res, err
	}
	recsRep.FellBack = rec.FellBack
	if err := rec.Write(b); err != nil {
		return res, err
	}
	if err := b.SetMetrics("recommendations", recsRep); err != nil {
		return res, err
	}
	res.Recs = recsRep
	stage("recommendations", start)
	if err := ctx.Err(); err != nil {
		return res, err
	}

	start = time.Now()
	say("fitting customer-value models")
	vf, err := value.Fit(ds, asOf, cfg.Value)
	switch {
	case errors.Is(err, value.ErrNoModel):
		// Not every history supports a lifetime model (e.g. no repeat
		// buyers): the bundle still serves everything else, and says why.
		res.ValueSkipped = err.Error()
		if err := b.SetMetrics("value", map[string]string{"skipped": err.Error()}); err != nil {
			return res, err
		}
	case err != nil:
		return res, err
	default:
		// Written after the churn model, which adds its results to the
		// customers' records for retention lists.
		if err := b.SetMetrics("value", vf.Report); err != nil {
			return res, err
		}
		res.Value = &vf.Report
	}
	stage("value", start)
	if err := ctx.Err(); err != nil {
		return res, err
	}

	start = time.Now()
	say("fitting the churn model")
	horizon := cfg.ChurnHorizonDays
	if horizon <= 0 {
		horizon = DefaultChurnHorizon
	}
	var clv map[string]float64
	if res.Value != nil {
		clv = vf.CLVByID()
	}
	th := cfg.ChurnThresholds
	if th == (churn.Thresholds{}) {
		th = churn.DefaultThresholds
	}
	if err := th.Validate(); err != nil {
		return res, err
	}
	churnRep, churnByID, err := trainChurn(ds, asOf, horizon, uint64(cfg.Seed), th, clv, b)
	if res.Value != nil {
		vf.SetChurn(churnByID) // empty when there is no churn model
		if err := vf.Write(b); err != nil {
			return res, err
		}
	}
	switch {
	case err != nil && !errors.Is(err, churn.ErrNoModel):
		return res, err
	case err != nil:
		// Like the value model: a short history cannot support a churn
		// model, and the bundle says why instead of failing.
		res.ChurnSkipped = err.Error()
		if err := b.SetMetrics("churn", map[string]string{"skipped": err.Error()}); err != nil {
			return res, err
		}
	default:
		if err := b.SetMetrics("churn", churnRep); err != nil {
			return res, err
		}
		res.Churn = &churnRep
	}
	stage("churn", start)
	if err := ctx.Err(); err != nil {
		return res, err
	}

	// 4. Publish.
	start = time.Now()
	say("publishing bundle")
	// Customers forgotten while this run trained leave its bundle before
	// it is active (see privacy.PublishTrained).
	m, err = privacy.PublishTrained(reg, b, !cfg.NoActivate, slices.Values(ds.Customers.Names()))
	if err != nil {
		return res, err
	}
	published = true
	stage("publish", start)
	res.Manifest = m
	return res, nil
}

func beforeText(asOf time.Time) string {
	if asOf.IsZero() {
		return ""
	}
	return " before " + asOf.Format(time.RFC3339)
}

// dayAfter returns midnight (in loc) of the day after t.
func dayAfter(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	return time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, loc)
}

// newManifest describes the bundle: input checksum, counts, cleaning
// summary and parameters.
func newManifest(cfg Config, ds *features.Dataset, asOf time.Time) (registry.Manifest, error) {
	s := &ds.Summary
	ingest, err := json.Marshal(s)
	if err != nil {
		return registry.Manifest{}, fmt.Errorf("train: encode summary: %w", err)
	}
	path := cfg.Orders
	if path != "-" {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
	}
	var size int64
	if fi, err := os.Stat(cfg.Orders); err == nil {
		size = fi.Size()
	}
	params := map[string]string{
		"as_of":          asOf.Format(time.RFC3339),
		"seed":           strconv.FormatInt(cfg.Seed, 10),
		"time_zone":      locName(cfg.Read.Location),
		"max_error_rate": strconv.FormatFloat(s.MaxErrorRate, 'g', -1, 64),
	}
	if cfg.Read.NonProduct != nil {
		params["non_product"] = strings.Join(cfg.Read.NonProduct.Codes(), ",")
	}
	for k, v := range cfg.Params {
		params[k] = v
	}
	returns := int64(0)
	for _, r := range ds.Returns {
		if r.Customer >= 0 {
			returns++
		}
	}
	return registry.Manifest{
		CreatedAt:   time.Now().UTC(),
		CodeVersion: cfg.CodeVersion,
		AsOf:        asOf.UTC(),
		Input:       registry.Input{Path: path, SHA256: s.SHA256, Bytes: size},
		Params:      params,
		Counts: map[string]int64{
			"lines":        s.Lines,
			"kept_lines":   s.Kept,
			"customers":    int64(ds.Customers.Len()),
			"items":        int64(ds.Items.Len()),
			"orders":       int64(len(ds.Orders)),
			"guest_orders": int64(s.GuestOrders),
			"return_lines": returns,
		},
		Ingest: ingest,
	}, nil
}

func locName(loc *time.Location) string {
	if loc == nil {
		return "UTC"
	}
	return loc.String()
}
