package gbt

import (
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/patron-crm/patron/internal/learntest"
)

func TestFitGBTLearnsXOR(t *testing.T) {
	x, y := learntest.XOR(2000, 0.05, 1)
	tx, ty := learntest.XOR(1000, 0.05, 2)
	m, err := Fit(x, 2000, 2, y, Params{Trees: 60, Depth: 2, LearningRate: 0.3, MinLeaf: 10, Seed: 1}, nil, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	scores := make([]float64, 1000)
	for i := range scores {
		scores[i] = m.Predict(tx[2*i : 2*i+2])
	}
	if a := learntest.AUC(scores, ty); a < 0.9 {
		t.Errorf("Model test AUC on XOR = %.3f, want >= 0.9", a)
	}
	// Balanced labels: a constant model's log loss is about log 2.
	if m.NumTrees() != 60 || !(m.TrainLoss < 0.5) {
		t.Errorf("%d trees, training loss %v: want 60 and well below log 2", m.NumTrees(), m.TrainLoss)
	}
}

func TestFitGBTDeterministic(t *testing.T) {
	x, y := learntest.XOR(3000, 0.1, 5)
	vx, vy := learntest.XOR(500, 0.1, 6)
	p := Params{Trees: 30, Depth: 3, Subsample: 0.7, Seed: 42, MinLeaf: 5}
	fit := func(procs int, p Params) *Model {
		prev := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(prev)
		m, err := Fit(x, 3000, 2, y, p, vx, 500, vy)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := fit(1, p), fit(4, p)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different GOMAXPROCS: models differ")
	}
	p.Seed = 43
	if c := fit(2, p); reflect.DeepEqual(a.Trees, c.Trees) {
		t.Error("different seeds gave identical trees with subsampling")
	}
}

func TestFitGBTProbabilitiesInOpenInterval(t *testing.T) {
	// Perfectly separable on one feature, many strong rounds: outputs must
	// stay strictly inside (0, 1) and finite.
	n := 200
	x := make([]float64, n)
	y := make([]float64, n)
	for i := range n {
		x[i] = float64(i)
		if i >= n/2 {
			y[i] = 1
		}
	}
	m, err := Fit(x, n, 1, y, Params{Trees: 300, Depth: 2, LearningRate: 1, MinLeaf: 1}, nil, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{-1e9, 0, 99, 100, 199, 1e9} {
		p := m.Predict([]float64{v})
		if !(p > 0 && p < 1) || math.IsNaN(p) {
			t.Errorf("Predict(%v) = %v, want in (0, 1)", v, p)
		}
	}
	if m.Predict([]float64{0}) > 0.01 || m.Predict([]float64{199}) < 0.99 {
		t.Errorf("separable data not separated: %v %v", m.Predict([]float64{0}), m.Predict([]float64{199}))
	}
}

func TestFitGBTEarlyStopping(t *testing.T) {
	// Labels are pure noise: validation loss soon stops improving.
	x, _ := learntest.XOR(1000, 0, 8)
	_, y := learntest.XOR(1000, 0.5, 9)
	vx, _ := learntest.XOR(500, 0, 10)
	_, vy := learntest.XOR(500, 0.5, 11)
	m, err := Fit(x, 1000, 2, y, Params{Trees: 300, Depth: 3, LearningRate: 0.3, MinLeaf: 5, EarlyStopping: 5}, vx, 500, vy)
	if err != nil {
		t.Fatal(err)
	}
	if m.NumTrees() >= 300 || len(m.ValLoss) >= 300 {
		t.Fatalf("no early stop: %d trees, %d validation rounds", m.NumTrees(), len(m.ValLoss))
	}
	best := m.ValLoss[m.NumTrees()-1]
	for i, l := range m.ValLoss {
		if l < best {
			t.Errorf("round %d has validation loss %v below the kept round's %v", i, l, best)
		}
	}
	if len(m.ValLoss)-m.NumTrees() != 5 {
		t.Errorf("stopped %d rounds after the best, want 5", len(m.ValLoss)-m.NumTrees())
	}
}

func TestGBTContributionsSumToLogOdds(t *testing.T) {
	x, y := learntest.XOR(1000, 0.05, 12)
	m, err := Fit(x, 1000, 2, y, Params{Trees: 20, Depth: 2, MinLeaf: 10}, nil, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]float64{{0.5, 0.5}, {-0.5, 0.5}, {0.9, -0.1}} {
		c, bias := m.Contributions(nil, row)
		sum := bias
		for _, v := range c {
			sum += v
		}
		if math.Abs(sum-m.LogOdds(row)) > 1e-9 {
			t.Errorf("row %v: bias + contributions = %v, log-odds %v", row, sum, m.LogOdds(row))
		}
	}
}

func TestBinnedCuts(t *testing.T) {
	tests := []struct {
		name string
		col  []float64
		bins int
		cuts []float64
		idx  []uint8
	}{
		{"few distinct values use them all", []float64{3, 1, 2, 2, 1}, 32, []float64{1, 2}, []uint8{2, 0, 1, 1, 0}},
		{"constant column has no cut", []float64{4, 4, 4}, 32, nil, []uint8{0, 0, 0}},
		{"quartiles", []float64{1, 2, 3, 4, 5, 6, 7, 8}, 4, []float64{3, 5, 7}, []uint8{0, 0, 0, 1, 1, 2, 2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBinned(tc.col, len(tc.col), 1, tc.bins)
			if len(b.cuts[0]) != len(tc.cuts) || (len(tc.cuts) > 0 && !reflect.DeepEqual(b.cuts[0], tc.cuts)) {
				t.Errorf("cuts = %v, want %v", b.cuts[0], tc.cuts)
			}
			if !reflect.DeepEqual(b.cols, tc.idx) {
				t.Errorf("bins = %v, want %v", b.cols, tc.idx)
			}
		})
	}
}

func TestFitGBTErrors(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	tests := []struct {
		name string
		y    []float64
		p    Params
		want string
	}{
		{"one class", []float64{1, 1, 1, 1}, Params{}, "one class"},
		{"depth", []float64{0, 1, 0, 1}, Params{Depth: 9}, "depth is 9"},
		{"subsample", []float64{0, 1, 0, 1}, Params{Subsample: 1.5}, "subsample is 1.5"},
		{"bins", []float64{0, 1, 0, 1}, Params{Bins: 300}, "bins is 300"},
		{"label", []float64{0, 1, 0, 0.5}, Params{}, "label 3 is 0.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Fit(x, 4, 1, tc.y, tc.p, nil, 0, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestSubtractionGrowsSameTrees grows trees with the histogram subtraction
// and with every histogram built from its rows: the trees must be the same,
// node by node (a child given the wrong histogram, or a wrong difference of
// sums or counts, splits elsewhere).
func TestSubtractionGrowsSameTrees(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n, d = 4000, 5
	x := make([]float64, n*d)
	for i := range x {
		x[i] = math.Floor(r.NormFloat64() * 8)
	}
	p, err := Params{Depth: 5, MinLeaf: 10, Bins: 32}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	b := newBinned(x, n, d, p.Bins)
	for tree := range 20 {
		res, hess := make([]float64, n), make([]float64, n)
		var rows []int
		for i := range n {
			// Residuals that depend on the features, so splits go deep.
			res[i] = math.Tanh(x[i*d+tree%d]/8) + 0.3*r.NormFloat64()
			hess[i] = 0.25
			if r.Float64() < 0.7 {
				rows = append(rows, i)
			}
		}
		sub, subBins := (&grower{b: b, p: p, r: res, h: hess}).grow(rows)
		dir, dirBins := (&grower{b: b, p: p, r: res, h: hess, direct: true}).grow(rows)
		if len(sub.Nodes) < 15 {
			t.Fatalf("tree %d: only %d nodes, the test needs deep trees", tree, len(sub.Nodes))
		}
		if !slices.Equal(sub.Nodes, dir.Nodes) || !slices.Equal(subBins, dirBins) {
			t.Fatalf("tree %d: subtraction %+v\ndirect %+v", tree, sub.Nodes, dir.Nodes)
		}
	}
}
