package privacy

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/internal/filelock"
	"github.com/patron-crm/patron/models/churn"
	"github.com/patron-crm/patron/models/profiles"
	"github.com/patron-crm/patron/models/recommend"
	"github.com/patron-crm/patron/models/registry"
	"github.com/patron-crm/patron/models/value"
)

// CustomerTables are the bundle tables keyed by customer id: every row a
// bundle holds about one customer. Other tables hold items, rankings,
// neighbour lists and model parameters: aggregates over all customers, in
// which no customer id appears (they change only when the model is
// retrained, which leaves suppressed customers out; a run already training
// when a customer is forgotten read their lines, see PublishTrained).
var CustomerTables = []string{profiles.CustomerTable, recommend.CustomersTable, value.CustomersTable, churn.CustomersTable}

// IsCustomerTable reports whether table is one of CustomerTables.
func IsCustomerTable(table string) bool {
	for _, t := range CustomerTables {
		if t == table {
			return true
		}
	}
	return false
}

// CustomerResult is what a forget did for one customer.
type CustomerResult struct {
	Hash              Hash
	AlreadySuppressed bool
	// Known is true when any bundle held rows of the customer.
	Known       bool
	RowsRemoved int64
}

// Result is what Forget did.
type Result struct {
	// Customers are the forgotten customers, in request order (an id given
	// twice appears once).
	Customers []CustomerResult
	// NewVersion is the bundle published in place of the active one (0 when
	// the active bundle held nothing of these customers); the old active
	// bundle was then deleted (Replaced), since NewVersion holds the same
	// rows but theirs.
	NewVersion, Replaced registry.Version
	// Rewritten are the retained bundles rewritten in place, ascending.
	Rewritten []registry.Version
	// RowsRemoved counts the rows removed over all bundles.
	RowsRemoved int64
	Duration    time.Duration
}

// Forget erases the customers ids from reg's data directory: their id
// hashes join the suppression list (so servers hide them at their next
// poll and training leaves their lines out); if the active bundle holds
// rows of theirs, a copy without those rows is published as a new version
// and activated, and the old active bundle deleted; every other bundle
// holding rows of theirs is rewritten without them in place; and one audit
// record per customer, naming who (e.g. "api-key:ops" or "cli:alice"), is
// appended to audit.log. Forgetting again is harmless: nothing left to
// remove, one more audit line.
//
// Rows are those of CustomerTables; the manifest's cleaning summary keeps
// example lines, and those mentioning an id are dropped from the copies.
// Ids are matched exactly, as the API shows them.
func Forget(reg *registry.Registry, ids []string, who string) (Result, error) {
	start := time.Now()
	dir := reg.Dir()
	if len(ids) == 0 {
		return Result{}, errors.New("forget: no customer ids")
	}
	// The reader keeps "17850.0" as "17850": forget the id the orders name.
	ids = slices.Clone(ids)
	for i, id := range ids {
		if ids[i] = features.NormaliseID(id); ids[i] == "" {
			return Result{}, fmt.Errorf("forget: customer id %d of %d is empty", i+1, len(ids))
		}
	}
	unlock, err := lockForget(dir)
	if err != nil {
		return Result{}, err
	}
	defer unlock()

	before, err := Load(dir)
	if err != nil {
		return Result{}, err
	}
	var res Result
	index := map[string]int{}
	var uniq []string
	for _, id := range ids {
		if _, ok := index[id]; ok {
			continue
		}
		index[id] = len(uniq)
		uniq = append(uniq, id)
		res.Customers = append(res.Customers, CustomerResult{Hash: HashID(id), AlreadySuppressed: before.Contains(id)})
	}
	if _, err := Add(dir, uniq); err != nil {
		return Result{}, err
	}
	err = removeRows(reg, uniq, index, &res)
	res.Duration = time.Since(start)
	if aerr := appendAudit(dir, auditRecords(&res, who, err)); aerr != nil {
		return res, errors.Join(err, aerr)
	}
	return res, err
}

// removeRows rewrites the bundles that hold rows (or manifest examples) of
// ids: the active one first, as a new version, then the retained ones.
func removeRows(reg *registry.Registry, ids []string, index map[string]int, res *Result) error {
	drop, edit := customerFilter(ids, index, res, "forgotten customers")
	active, err := reg.Active()
	if err != nil && !errors.Is(err, registry.ErrNoActive) {
		return err
	}
	if active != 0 {
		need, err := holds(reg, active, ids)
		if err != nil {
			return err
		}
		if need {
			b, n, err := reg.CopyWithout(active, drop)
			if err != nil {
				return fmt.Errorf("forget: copy active bundle %d: %w", active, err)
			}
			b.EditManifest(edit)
			m, err := b.PublishReplacing(active)
			if m.Version != 0 {
				res.NewVersion, res.RowsRemoved = m.Version, res.RowsRemoved+n
			}
			if err != nil {
				return fmt.Errorf("forget: publish bundle %d without the customers: %w", active, err)
			}
			res.Replaced = active
		}
	}
	ms, err := reg.List()
	if err != nil {
		return err
	}
	now, _ := reg.Active()
	for _, m := range ms {
		v := m.Version
		if v == now {
			continue
		}
		need, err := holds(reg, v, ids)
		if err != nil {
			return err
		}
		if !need {
			continue
		}
		if err := rewrite(reg, v, drop, edit, res); err != nil {
			return err
		}
	}
	return nil
}

// customerFilter returns what drops the rows of ids from a bundle copy,
// counting them per customer in res (index maps an id to its entry), and
// what edits the copy's manifest: the reason, and the cleaning summary's
// example lines that mention an id scrubbed.
func customerFilter(ids []string, index map[string]int, res *Result, reason string) (drop func(table string, key []byte) bool, edit func(m *registry.Manifest)) {
	drop = func(table string, key []byte) bool {
		if !IsCustomerTable(table) {
			return false
		}
		i, ok := index[string(key)]
		if ok {
			res.Customers[i].Known = true
			res.Customers[i].RowsRemoved++
		}
		return ok
	}
	edit = func(m *registry.Manifest) {
		m.Derived.Reason = reason
		m.Ingest, _ = scrubIngest(m.Ingest, ids)
	}
	return drop, edit
}

// rewrite puts a copy of the inactive bundle v without the rows drop
// reports in v's place, and notes it in res.
func rewrite(reg *registry.Registry, v registry.Version, drop func(table string, key []byte) bool, edit func(m *registry.Manifest), res *Result) error {
	b, n, err := reg.CopyWithout(v, drop)
	if err != nil {
		return fmt.Errorf("forget: copy bundle %d: %w", v, err)
	}
	b.EditManifest(edit)
	if _, err := b.Replace(v); err != nil {
		return fmt.Errorf("forget: rewrite bundle %d without the customers: %w", v, err)
	}
	res.Rewritten = append(res.Rewritten, v)
	res.RowsRemoved += n
	return nil
}

// holds reports whether bundle v has a row of any of ids in a customer
// table, or an example line mentioning one in its manifest.
func holds(reg *registry.Registry, v registry.Version, ids []string) (bool, error) {
	b, err := reg.OpenBundle(v)
	if err != nil {
		return false, fmt.Errorf("forget: bundle %d cannot be read to remove the customers: %w (pass its --encryption-key-file, or delete it with `patron models delete %d`)", v, err, v)
	}
	defer b.Close()
	if _, changed := scrubIngest(b.Manifest().Ingest, ids); changed {
		return true, nil
	}
	for _, t := range CustomerTables {
		if !b.HasTable(t) {
			continue
		}
		for _, id := range ids {
			err := b.Get(t, []byte(id), func([]byte) error { return nil })
			if err == nil {
				return true, nil
			}
			if !errors.Is(err, registry.ErrNotFound) {
				return false, err
			}
		}
	}
	return false, nil
}

// scrubIngest removes from a cleaning summary (features.Summary as JSON)
// the example lines whose text or detail mentions one of ids; counts stay.
// It reports whether anything was removed.
func scrubIngest(raw json.RawMessage, ids []string) (json.RawMessage, bool) {
	if len(raw) == 0 {
		return raw, false
	}
	var sum map[string]any
	if json.Unmarshal(raw, &sum) != nil {
		return raw, false
	}
	reasons, _ := sum["reasons"].([]any)
	changed := false
	for _, r := range reasons {
		rm, _ := r.(map[string]any)
		exs, _ := rm["examples"].([]any)
		kept := exs[:0:0]
		for _, e := range exs {
			em, _ := e.(map[string]any)
			text, _ := em["text"].(string)
			detail, _ := em["detail"].(string)
			if mentions(text, ids) || mentions(detail, ids) {
				changed = true
				continue
			}
			kept = append(kept, e)
		}
		if rm != nil && len(kept) != len(exs) {
			rm["examples"] = kept
		}
	}
	if !changed {
		return raw, false
	}
	out, err := json.Marshal(sum)
	if err != nil {
		return raw, false
	}
	return out, true
}

// mentions reports whether one of ids is a field of s: a run of s between
// the separators of order lines and messages (, ; tab | space quotes = :),
// normalised as the reader normalises ids (so "17850.0" names 17850).
// Matching whole fields keeps a short id such as "1" from matching every line
// with a 1 in it; an id that itself holds a separator is looked for as a
// substring.
func mentions(s string, ids []string) bool {
	isSep := func(r rune) bool { return strings.ContainsRune(",;\t| \"'=:", r) }
	var fields []string
	for _, id := range ids {
		if strings.IndexFunc(id, isSep) >= 0 {
			if strings.Contains(s, id) {
				return true
			}
			continue
		}
		if fields == nil {
			fields = strings.FieldsFunc(s, isSep)
			for i, f := range fields {
				fields[i] = features.NormaliseID(f)
			}
		}
		if slices.Contains(fields, id) {
			return true
		}
	}
	return false
}

// auditRecords are the audit lines of a forget, one per customer.
func auditRecords(res *Result, who string, err error) []AuditRecord {
	now := time.Now().UTC()
	var vs []int64
	if res.NewVersion != 0 {
		vs = append(vs, int64(res.Replaced))
	}
	for _, v := range res.Rewritten {
		vs = append(vs, int64(v))
	}
	if vs == nil {
		vs = []int64{}
	}
	out := make([]AuditRecord, len(res.Customers))
	for i, c := range res.Customers {
		out[i] = AuditRecord{Time: now, Action: "forget_customer", CustomerIDSHA256: c.Hash.String(), Who: who,
			AlreadySuppressed: c.AlreadySuppressed, Known: c.Known, RowsRemoved: c.RowsRemoved,
			BundlesRewritten: vs, NewVersion: int64(res.NewVersion)}
		if err != nil {
			out[i].Error = err.Error()
		}
	}
	return out
}

// lockForget takes dataDir's forget.lock, so that two forgets (or a forget
// and a training run's publish) never rewrite the same bundles at once.
func lockForget(dataDir string) (func(), error) {
	unlock, err := filelock.Lock(filepath.Join(dataDir, "forget.lock"))
	if err != nil {
		return nil, fmt.Errorf("forget: %w", err)
	}
	return unlock, nil
}
