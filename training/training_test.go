package training_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/patron-crm/patron/models/privacy"
	"github.com/patron-crm/patron/models/profiles"
	"github.com/patron-crm/patron/models/registry"
	"github.com/patron-crm/patron/training"
)

// orders is a small history: customer 1 buys twice and returns one line,
// customer 2 buys once, a guest buys item A, and customer 3 only buys after
// the back-testing date used below.
const orders = `order_id,customer_id,item_id,quantity,unit_price,ordered_at,item_name,category,country
o1,1,A1,2,1.50,2021-01-05 10:00:00,Apple,fruit,UK
o1,1,B1,1,4.00,2021-01-05 10:00:00,Bread,bakery,UK
o2,2,A1,1,1.50,2021-01-10 09:00:00,Apple,fruit,France
g1,,A1,3,1.50,2021-01-11 12:00:00,Apple,fruit,UK
o3,1.0,C1,5,2.00,2021-02-01 08:30:00,Cheese,dairy,UK
Co3,1,C1,-2,2.00,2021-02-03 08:30:00,Cheese,dairy,UK
o4,3,B1,1,4.00,2021-03-01 08:00:00,Bread,bakery,Spain
`

func train(t *testing.T, dir string, asOf time.Time, seed int64) training.Result {
	t.Helper()
	path, reg := setup(t, dir)
	res, err := training.Train(context.Background(), reg, training.Config{Orders: path, AsOf: asOf, Seed: seed, CodeVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// setup writes orders to a file and opens the registry in dir.
func setup(t *testing.T, dir string) (string, *registry.Registry) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "orders.csv")
	if err := os.WriteFile(path, []byte(orders), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(dir, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return path, reg
}

func openActive(t *testing.T, dir string) *registry.Bundle {
	t.Helper()
	reg, _ := registry.Open(dir, registry.Options{})
	v, err := reg.Active()
	if err != nil {
		t.Fatal(err)
	}
	b, err := reg.OpenBundle(v)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestTrainProfiles(t *testing.T) {
	dir := t.TempDir()
	res := train(t, dir, time.Time{}, 1)
	m := res.Manifest
	if m.Version != 1 || !m.AsOf.Equal(time.Date(2021, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("version %d as of %v, want 1 and the day after the last order", m.Version, m.AsOf)
	}
	if m.Counts["customers"] != 3 || m.Counts["items"] != 3 || m.Counts["orders"] != 5 || m.Counts["guest_orders"] != 1 {
		t.Fatalf("counts %v", m.Counts)
	}
	if len(m.Ingest) == 0 || m.Input.SHA256 == "" {
		t.Fatal("manifest lacks the ingest summary or input checksum")
	}
	st := profiles.Open(openActive(t, dir))

	c, err := st.Customer("1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Orders) != 2 || c.Orders[0].ID != "o1" || c.Orders[1].ID != "o3" || c.Country != "UK" {
		t.Fatalf("customer 1: %+v", c)
	}
	if got := c.Spend(); math.Abs(got-17) > 1e-9 { // 2*1.5+4 + 5*2
		t.Fatalf("spend %v, want 17", got)
	}
	if len(c.Returns) != 1 || math.Abs(c.ReturnedValue()-4) > 1e-9 || c.Returns[0].Quantity != 2 {
		t.Fatalf("returns %+v", c.Returns)
	}
	if c.DistinctItems != 3 || c.Orders[0].Lines != 2 || !c.Orders[0].Time.Equal(time.Date(2021, 1, 5, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("customer 1 details: %+v", c)
	}

	a, err := st.Item("A1")
	if err != nil {
		t.Fatal(err)
	}
	// The guest order counts for item statistics but not as a customer.
	if a.Orders != 3 || a.Customers != 2 || a.Quantity != 6 || math.Abs(a.Revenue-9) > 1e-9 || a.Name != "Apple" || a.Category != "fruit" {
		t.Fatalf("item A: %+v", a)
	}
	if cz, _ := st.Item("C1"); cz.ReturnedQuantity != 2 {
		t.Fatalf("item C returned %v, want 2", cz.ReturnedQuantity)
	}
	if _, err := st.Customer("nobody"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("unknown customer: %v", err)
	}
	if _, err := st.Item("Z"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("unknown item: %v", err)
	}
}

// TestTrainAsOf trains as of a past date: later orders must not be seen.
func TestTrainAsOf(t *testing.T) {
	dir := t.TempDir()
	res := train(t, dir, time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC), 1)
	if res.Manifest.Counts["customers"] != 2 || res.Manifest.Counts["orders"] != 3 {
		t.Fatalf("counts as of 2021-02-01: %v", res.Manifest.Counts)
	}
	st := profiles.Open(openActive(t, dir))
	c, err := st.Customer("1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Orders) != 1 || len(c.Returns) != 0 {
		t.Fatalf("customer 1 as of 2021-02-01 sees the future: %+v", c)
	}
	if _, err := st.Customer("3"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("customer 3 (first order after the as-of date): %v", err)
	}
}

// TestTrainForgetDuringRun: a customer forgotten while a run trains (here
// just before it publishes) is not in the bundle it publishes.
func TestTrainForgetDuringRun(t *testing.T) {
	dir := t.TempDir()
	path, reg := setup(t, dir)
	forgot := false
	progress := func(stage string) {
		if stage == "publishing bundle" {
			if _, err := privacy.Forget(reg, []string{"1"}, "cli:tester"); err != nil {
				t.Error(err)
			}
			forgot = true
		}
	}
	res, err := training.Train(context.Background(), reg, training.Config{Orders: path, Seed: 1, CodeVersion: "test", Progress: progress})
	if err != nil || !forgot {
		t.Fatalf("train: %v (forgot %v)", err, forgot)
	}
	if res.Manifest.Derived == nil || res.Manifest.Derived.RowsRemoved == 0 {
		t.Errorf("manifest derived %+v: want the forgotten customer's rows removed", res.Manifest.Derived)
	}
	st := profiles.Open(openActive(t, dir))
	if _, err := st.Customer("1"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("forgotten customer 1: %v", err)
	}
	if _, err := st.Customer("2"); err != nil {
		t.Errorf("customer 2: %v", err)
	}
}

// TestTrainDeterministic: the same input and seed give the same tables.
func TestTrainDeterministic(t *testing.T) {
	dump := func() []byte {
		dir := t.TempDir()
		train(t, dir, time.Time{}, 7)
		return training.BundleTables(t, openActive(t, dir))
	}
	a, b := dump(), dump()
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("two runs differ (%d vs %d bytes)", len(a), len(b))
	}
}

func TestTrainErrors(t *testing.T) {
	dir := t.TempDir()
	reg, _ := registry.Open(dir, registry.Options{})
	empty := filepath.Join(t.TempDir(), "empty.csv")
	os.WriteFile(empty, []byte("order_id,customer_id,item_id,quantity,unit_price,ordered_at\n"), 0o644)
	_, err := training.Train(context.Background(), reg, training.Config{Orders: empty})
	if err == nil {
		t.Fatal("training on a file without orders succeeded")
	}
	_, err = training.Train(context.Background(), reg, training.Config{Orders: filepath.Join(dir, "missing.csv")})
	if err == nil {
		t.Fatal("training on a missing file succeeded")
	}
	if _, err := reg.Active(); !errors.Is(err, registry.ErrNoActive) {
		t.Fatalf("a failed run left an active bundle: %v", err)
	}
}
