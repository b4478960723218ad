package privacy

import (
	"fmt"
	"iter"

	"github.com/patron-crm/patron/models/registry"
)

// PublishTrained publishes b, a bundle a training run built from order
// lines read while the suppression list read was in force, so that a
// customer forgotten while the run trained does not come back with it.
//
// Training reads the list when it starts; a forget during a long run adds
// the customer to the list and cleans the bundles that exist, but the
// run's own bundle still holds their rows. So PublishTrained takes
// forget.lock (no forget runs between its check and the publish; one
// that starts later finds the new bundle and cleans it as usual), loads
// the list again and looks for customers on it but not on read among
// customers (the ids the run read). With none, b is published as it is.
// Otherwise b is published without being activated, rewritten in place
// without those customers' rows as Forget rewrites a retained bundle, and
// then activated (when activate is set); one audit record per such
// customer names "train" as who removed them.
func PublishTrained(reg *registry.Registry, b *registry.Builder, activate bool, read *List, customers iter.Seq[string]) (registry.Manifest, error) {
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
	ids := forgottenSince(read, now, customers)
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
	err = removeRows(reg, ids, index, &res)
	if aerr := appendAudit(dir, auditRecords(&res, "train", err)); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return m, fmt.Errorf("publish: bundle %d holds customers forgotten while it trained, and removing them failed: %w (it is not active; delete it with `patron models delete %d` and train again)", m.Version, err, m.Version)
	}
	if activate {
		if err := reg.Activate(m.Version); err != nil {
			return m, err
		}
	}
	return reg.Manifest(m.Version)
}

// forgottenSince returns the ids among customers that are on now but not
// on read, in the order customers yields them.
func forgottenSince(read, now *List, customers iter.Seq[string]) []string {
	fresh := 0
	for h := range now.Hashes() {
		if !read.ContainsHash(h) {
			fresh++
		}
	}
	if fresh == 0 {
		return nil
	}
	var ids []string
	for id := range customers {
		if h := HashID(id); now.ContainsHash(h) && !read.ContainsHash(h) {
			ids = append(ids, id)
		}
	}
	return ids
}
