package privacy

import (
	"errors"
	"fmt"
	"iter"

	"github.com/patron-crm/patron/models/registry"
)

// PublishTrained publishes b, a bundle a training run built from the
// customers it read, so that a customer forgotten while the run trained
// does not come back with it.
//
// Training reads the list when it starts and drops its customers' lines;
// a forget during a long run adds the customer to the list and cleans the
// bundles that exist, but the run's own bundle still holds their rows. So
// PublishTrained takes forget.lock (no forget runs between its check and
// the publish; one that starts later finds the new bundle and cleans it as
// usual), loads the list again and looks for customers on it among
// customers (the ids the run read). With none, b is published as it is.
// Otherwise b is published inactive, rewritten in place without those
// customers' rows by a copy (as Forget rewrites a retained bundle; a copy
// leaves no trace of the rows in the database's files, where deleting them
// from b would leave the old values until a compaction), audited (one
// record per customer, who "train") and then activated when activate is
// set. If the rewrite fails, the bundle is deleted rather than left with
// their rows; if the process dies between the publish and the rewrite, the
// inactive bundle keeps them until the customers are forgotten again
// (`patron customers forget` cleans every bundle). The run's aggregates
// (item statistics, neighbour lists) still hold their share until the next
// training.
func PublishTrained(reg *registry.Registry, b *registry.Builder, activate bool, customers iter.Seq[string]) (registry.Manifest, error) {
	dir := reg.Dir()
	unlock, err := lockForget(dir)
	if err != nil {
		b.Abort()
		return registry.Manifest{}, err
	}
	defer unlock()
	now, err := Load(dir)
	if err != nil {
		b.Abort()
		return registry.Manifest{}, fmt.Errorf("publish: %w (the list of forgotten customers; restore it and train again)", err)
	}
	ids := onList(now, customers)
	if len(ids) == 0 {
		return b.Publish(activate)
	}
	m, err := b.Publish(false)
	if err != nil {
		return m, err
	}
	var res Result
	index := map[string]int{}
	for i, id := range ids {
		index[id] = i
		res.Customers = append(res.Customers, CustomerResult{Hash: HashID(id), AlreadySuppressed: true})
	}
	drop, edit := customerFilter(ids, index, &res, "customers forgotten while it trained")
	if err := rewrite(reg, m.Version, drop, edit, &res); err != nil {
		if derr := reg.Delete(m.Version); derr != nil {
			err = errors.Join(err, fmt.Errorf("deleting it failed too: %w (delete it with `patron models delete %d`)", derr, m.Version))
		}
		aerr := appendAudit(dir, auditRecords(&res, "train", err))
		return registry.Manifest{}, errors.Join(fmt.Errorf("publish: %d customers were forgotten while this run trained, and removing their rows from its bundle %d failed, so it was deleted: %w (train again)", len(ids), m.Version, err), aerr)
	}
	// The rows are gone: record it before anything else can fail.
	if err := appendAudit(dir, auditRecords(&res, "train", nil)); err != nil {
		return m, fmt.Errorf("publish: bundle %d was published without %d customers forgotten while it trained, but the audit log could not record it: %w", m.Version, len(ids), err)
	}
	if activate {
		if err := reg.Activate(m.Version); err != nil {
			return m, fmt.Errorf("publish: bundle %d was published without %d customers forgotten while it trained, but activating it failed: %w (activate it with `patron models activate %d`)", m.Version, len(ids), err, m.Version)
		}
	}
	return reg.Manifest(m.Version)
}

// onList returns the ids among customers that are on list, in the order
// customers yields them.
func onList(list *List, customers iter.Seq[string]) []string {
	if list.Len() == 0 {
		return nil
	}
	var ids []string
	for id := range customers {
		if list.Contains(id) {
			ids = append(ids, id)
		}
	}
	return ids
}
