// Package gbt is gradient-boosted regression trees for binary outcomes
// (Friedman 2001, 2002) on histogram bins, small and deterministic for a
// seed: churn risk (models/churn) and the re-ranking of recommendation
// candidates (models/recommend) learn with it.
package gbt

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/patron-crm/patron/internal/learn"
	"github.com/patron-crm/patron/internal/parallel"
)

// Params configures Fit. A zero field takes the default in brackets.
type Params struct {
	// Trees is the maximum number of boosting rounds M [200].
	Trees int `json:"trees"`
	// Depth is the depth of each regression tree, 1 to 8 [3]; a depth-D
	// tree models interactions of up to D features.
	Depth int `json:"depth"`
	// LearningRate is the shrinkage ν in (0, 1] [0.1].
	LearningRate float64 `json:"learningRate"`
	// MinLeaf is the least number of (sampled) rows in a leaf [20].
	MinLeaf int `json:"minLeaf"`
	// Subsample is the share of rows drawn without replacement for each
	// tree, in (0, 1] [1: all rows] (Friedman 2002, stochastic boosting).
	Subsample float64 `json:"subsample"`
	// Seed seeds the PCG generator used for subsampling.
	Seed uint64 `json:"seed"`
	// Bins is the number of quantile bins per feature, 2 to 256 [32].
	Bins int `json:"bins"`
	// Lambda ≥ 0 is an L2 penalty on leaf values, added to the leaf's
	// Hessian sum [0]. A floor of 1e-6 keeps leaves finite on pure nodes.
	Lambda float64 `json:"lambda"`
	// EarlyStopping stops after this many rounds without a lower
	// validation log loss, when a validation set is given [20].
	EarlyStopping int `json:"earlyStopping"`
}

// withDefaults fills zero fields and checks ranges.
func (p Params) withDefaults() (Params, error) {
	if p.Trees == 0 {
		p.Trees = 200
	}
	if p.Depth == 0 {
		p.Depth = 3
	}
	if p.LearningRate == 0 {
		p.LearningRate = 0.1
	}
	if p.MinLeaf == 0 {
		p.MinLeaf = 20
	}
	if p.Subsample == 0 {
		p.Subsample = 1
	}
	if p.Bins == 0 {
		p.Bins = 32
	}
	if p.EarlyStopping == 0 {
		p.EarlyStopping = 20
	}
	switch {
	case p.Trees < 1:
		return p, fmt.Errorf("trees is %d, want at least 1", p.Trees)
	case p.Depth < 1 || p.Depth > 8:
		return p, fmt.Errorf("depth is %d, want 1 to 8", p.Depth)
	case !(p.LearningRate > 0 && p.LearningRate <= 1):
		return p, fmt.Errorf("learning rate is %v, want a value in (0, 1]", p.LearningRate)
	case p.MinLeaf < 1:
		return p, fmt.Errorf("min leaf is %d, want at least 1", p.MinLeaf)
	case !(p.Subsample > 0 && p.Subsample <= 1):
		return p, fmt.Errorf("subsample is %v, want a value in (0, 1]", p.Subsample)
	case p.Bins < 2 || p.Bins > 256:
		return p, fmt.Errorf("bins is %d, want 2 to 256", p.Bins)
	case !(p.Lambda >= 0) || math.IsInf(p.Lambda, 0):
		return p, fmt.Errorf("lambda is %v, want a finite value >= 0", p.Lambda)
	case p.EarlyStopping < 1:
		return p, fmt.Errorf("early stopping is %d, want at least 1", p.EarlyStopping)
	}
	return p, nil
}

// Model is a gradient-boosted tree ensemble for the binary log loss: Friedman's
// two-class LK_TreeBoost (Friedman 2001, "Greedy function approximation: a
// gradient boosting machine", Ann. Statist. 29(5), algorithm 5, with y in
// {0, 1} instead of {−1, 1}):
//
//	F_0(x) = log(ȳ / (1 − ȳ))
//	for m = 1..M:
//	  p_i = σ(F_{m−1}(x_i)),  r_i = y_i − p_i         (negative gradient)
//	  fit a depth-D regression tree to r by least squares
//	  each leaf ℓ gets one Newton step  γ_ℓ = Σ_ℓ r_i / (Σ_ℓ p_i(1 − p_i) + λ)
//	  F_m(x) = F_{m−1}(x) + ν γ_{ℓ(x)}
//	P(y = 1 | x) = σ(F_M(x))
//
// Splits maximise the least-squares gain on the residuals,
// (Σ_L r)²/n_L + (Σ_R r)²/n_R − (Σ r)²/n, over thresholds taken from
// per-feature quantile bins (histograms, as in LightGBM), with at least
// MinLeaf rows on each side. Each tree sees a random subsample of the rows
// when Subsample < 1 (Friedman 2002, "Stochastic gradient boosting"), drawn
// by a PCG generator seeded with Seed. With a validation set, boosting stops
// once EarlyStopping rounds pass without a lower validation log loss, and the
// ensemble keeps the best round.
//
// Nodes store ν times their Newton value, so the log-odds of a row is Bias
// plus the values of the leaves it reaches. Contributions splits the
// log-odds per feature along each path (Saabas 2014, "Interpreting random
// forests").
type Model struct {
	Params Params `json:"params"`
	// D is the number of features.
	D int `json:"d"`
	// Bias is F_0, the prior log-odds.
	Bias  float64 `json:"bias"`
	Trees []Tree  `json:"trees"`
	// ValLoss[m] is the validation log loss after m+1 trees (empty without
	// a validation set).
	ValLoss []float64 `json:"valLoss,omitempty"`
	// TrainLoss is the training log loss of the ensemble kept.
	TrainLoss float64 `json:"trainLoss"`
}

// Tree is one regression tree; Nodes[0] is the root.
type Tree struct {
	Nodes []Node `json:"nodes"`
}

// Node is a split (Feature ≥ 0) or a leaf (Feature = −1). A row goes Left
// when row[Feature] <= Threshold, else Right (NaN goes right).
type Node struct {
	Feature   int     `json:"f"`
	Threshold float64 `json:"t"`
	Left      int     `json:"l"`
	Right     int     `json:"r"`
	// Value is ν·γ for this node's rows: the leaf output for a leaf; for a
	// split, the value used to attribute the step to its feature.
	Value float64 `json:"v"`
}

// Fit fits gradient-boosted trees to the n×d row-major matrix x with 0/1
// labels y. valX (valN×d) and valY form an optional validation set for early
// stopping; pass nil, 0, nil to train all p.Trees rounds.
func Fit(x []float64, n, d int, y []float64, p Params, valX []float64, valN int, valY []float64) (*Model, error) {
	return fit(x, n, d, y, p, valX, valN, valY, nil)
}

// fit is Fit; when stop is set, boosting also ends before a round once
// stop(trees so far) is true.
func fit(x []float64, n, d int, y []float64, p Params, valX []float64, valN int, valY []float64, stop func(trees int) bool) (*Model, error) {
	if err := learn.CheckMatrix(x, n, d); err != nil {
		return nil, fmt.Errorf("fit gbt: %w", err)
	}
	if err := learn.CheckBinary(y, n); err != nil {
		return nil, fmt.Errorf("fit gbt: %w", err)
	}
	if d == 0 {
		return nil, errors.New("fit gbt: no features")
	}
	p, err := p.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("fit gbt: %w", err)
	}
	if valN > 0 {
		if err := learn.CheckMatrix(valX, valN, d); err != nil {
			return nil, fmt.Errorf("fit gbt: validation set: %w", err)
		}
		if err := learn.CheckBinary(valY, valN); err != nil {
			return nil, fmt.Errorf("fit gbt: validation set: %w", err)
		}
	}
	var pos float64
	for _, v := range y {
		pos += v
	}
	if pos == 0 || pos == float64(n) {
		return nil, errors.New("fit gbt: the training labels hold one class only")
	}

	b := newBinned(x, n, d, p.Bins)
	m := &Model{Params: p, D: d, Bias: math.Log(pos / (float64(n) - pos))}
	f := make([]float64, n) // F(x_i) on the training rows
	for i := range f {
		f[i] = m.Bias
	}
	valF := make([]float64, valN)
	for i := range valF {
		valF[i] = m.Bias
	}
	r := make([]float64, n)
	h := make([]float64, n)
	rng := rand.New(rand.NewPCG(p.Seed, 0x9e3779b97f4a7c15))
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	sampleN := max(1, int(math.Round(p.Subsample*float64(n))))
	var sample []int
	g := &grower{b: b, p: p, r: r, h: h}
	best, bestLoss := 0, math.Inf(1)

	// Residuals and Hessians of the first round; later rounds get theirs
	// from the pass that updates F.
	for i := range n {
		pi := learn.Sigmoid(f[i])
		r[i], h[i] = y[i]-pi, pi*(1-pi)
	}
	trainParts := make([]float64, parallel.Chunks(n))
	valParts := make([]float64, parallel.Chunks(valN))
	for t := 0; t < p.Trees; t++ {
		if stop != nil && stop(t) {
			break
		}
		rows := all
		if sampleN < n {
			// Selection sampling (Knuth, TAOCP vol. 2, 3.4.2, algorithm S):
			// row i is taken with probability (still needed)/(rows left), a
			// uniform sample of exactly sampleN rows, already in order for
			// cache-friendly scans, in one pass.
			sample = sample[:0]
			for i := 0; i < n && len(sample) < sampleN; i++ {
				if rng.Float64()*float64(n-i) < float64(sampleN-len(sample)) {
					sample = append(sample, i)
				}
			}
			rows = sample
		}
		tree, splitBins := g.grow(rows)
		m.Trees = append(m.Trees, tree)

		// Update F on every training row (in-bag or not) through the bins,
		// with the next round's residuals.
		parallel.For(len(trainParts), func(c int) {
			for i := c * parallel.ChunkRows; i < min((c+1)*parallel.ChunkRows, n); i++ {
				k := 0
				for tree.Nodes[k].Feature >= 0 {
					nd := &tree.Nodes[k]
					if b.bin(nd.Feature, i) <= splitBins[k] {
						k = nd.Left
					} else {
						k = nd.Right
					}
				}
				f[i] += tree.Nodes[k].Value
				pi := learn.Sigmoid(f[i])
				r[i], h[i] = y[i]-pi, pi*(1-pi)
			}
		})

		if valN > 0 {
			parallel.For(len(valParts), func(c int) {
				var loss float64
				for i := c * parallel.ChunkRows; i < min((c+1)*parallel.ChunkRows, valN); i++ {
					valF[i] += tree.leaf(valX[i*d : (i+1)*d])
					_, sp := logistic(valF[i])
					loss += sp - valY[i]*valF[i]
				}
				valParts[c] = loss
			})
			loss := sumInOrder(valParts) / float64(valN)
			m.ValLoss = append(m.ValLoss, loss)
			if loss < bestLoss {
				best, bestLoss = t, loss
			} else if t-best >= p.EarlyStopping {
				break
			}
		}
	}
	if valN > 0 && best+1 < len(m.Trees) {
		// Back to the best round: F on the training rows without the
		// trees after it.
		for _, tree := range m.Trees[best+1:] {
			for i := range n {
				f[i] -= tree.leaf(x[i*d : (i+1)*d])
			}
		}
		m.Trees = m.Trees[:best+1]
	}
	m.TrainLoss = logLoss(f, y)
	return m, nil
}

// logLoss is the mean log loss of log-odds f for 0/1 labels y, from
// partial sums per fixed chunk added in order, so that the result does not
// depend on the number of workers.
func logLoss(f, y []float64) float64 {
	parts := make([]float64, parallel.Chunks(len(f)))
	parallel.For(len(parts), func(c int) {
		var loss float64
		for i := c * parallel.ChunkRows; i < min((c+1)*parallel.ChunkRows, len(f)); i++ {
			_, sp := logistic(f[i])
			loss += sp - y[i]*f[i]
		}
		parts[c] = loss
	})
	return sumInOrder(parts) / float64(len(f))
}

// logistic returns σ(z) and log(1+e^z) with one exponential, without
// overflow: the probability and the log loss of a row share it.
func logistic(z float64) (p, softplus float64) {
	e := math.Exp(-math.Abs(z))
	if z >= 0 {
		return 1 / (1 + e), z + math.Log1p(e)
	}
	return e / (1 + e), math.Log1p(e)
}

// sumInOrder adds v front to back.
func sumInOrder(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

// leaf returns the value of the leaf that row reaches.
func (t *Tree) leaf(row []float64) float64 {
	k := 0
	for t.Nodes[k].Feature >= 0 {
		nd := &t.Nodes[k]
		if row[nd.Feature] <= nd.Threshold {
			k = nd.Left
		} else {
			k = nd.Right
		}
	}
	return t.Nodes[k].Value
}

// NumTrees is the number of trees kept.
func (m *Model) NumTrees() int { return len(m.Trees) }

// LogOdds returns F(row) = Bias + Σ_trees leaf value.
func (m *Model) LogOdds(row []float64) float64 {
	if len(row) != m.D {
		panic(fmt.Sprintf("gbt: row of %d values, want %d", len(row), m.D))
	}
	z := m.Bias
	for k := range m.Trees {
		z += m.Trees[k].leaf(row)
	}
	return z
}

// Predict returns the probability σ(F(row)), in (0, 1).
func (m *Model) Predict(row []float64) float64 { return learn.Sigmoid(m.LogOdds(row)) }

// Contributions attributes the log-odds of row to features (Saabas): along
// each tree's path, the change of node value from a split to the child taken
// is credited to the split's feature. It writes the per-feature log-odds
// contributions into dst (allocated when nil or short) and returns them with
// the bias (F_0 plus every root's value); bias + Σ dst = LogOdds(row).
func (m *Model) Contributions(dst, row []float64) (contrib []float64, bias float64) {
	if len(row) != m.D {
		panic(fmt.Sprintf("gbt: row of %d values, want %d", len(row), m.D))
	}
	if cap(dst) < m.D {
		dst = make([]float64, m.D)
	}
	dst = dst[:m.D]
	clear(dst)
	bias = m.Bias
	for t := range m.Trees {
		nodes := m.Trees[t].Nodes
		bias += nodes[0].Value
		k := 0
		for nodes[k].Feature >= 0 {
			nd := &nodes[k]
			next := nd.Right
			if row[nd.Feature] <= nd.Threshold {
				next = nd.Left
			}
			dst[nd.Feature] += nodes[next].Value - nd.Value
			k = next
		}
	}
	return dst, bias
}

// binned holds the training matrix as bin indices, column-major, with the
// cut points: value v of feature j falls in the first bin k with
// v <= cuts[j][k], or in bin len(cuts[j]) when v exceeds every cut.
type binned struct {
	n, d int
	cols []uint8 // cols[j*n+i]
	cuts [][]float64
}

func (b *binned) bin(j, i int) uint8 { return b.cols[j*b.n+i] }

// newBinned cuts each feature at up to bins−1 quantiles of its training
// values (each cut a data value, so "v <= cut" splits the data exactly) and
// bins the matrix. Features are processed in parallel; each is independent.
func newBinned(x []float64, n, d, bins int) *binned {
	b := &binned{n: n, d: d, cols: make([]uint8, n*d), cuts: make([][]float64, d)}
	parallel.For(d, func(j int) {
		vals := make([]float64, n)
		for i := range n {
			vals[i] = x[i*d+j]
		}
		slices.Sort(vals)
		var cuts []float64
		for q := 1; q < bins; q++ {
			c := vals[(q*n)/bins]
			if c < vals[n-1] && (len(cuts) == 0 || c > cuts[len(cuts)-1]) {
				cuts = append(cuts, c)
			}
		}
		// With few distinct values, quantiles can miss some: use them all.
		if distinct := countDistinct(vals); distinct <= bins && len(cuts) < distinct-1 {
			cuts = cuts[:0]
			for i, v := range vals {
				if v < vals[n-1] && (i == 0 || v != vals[i-1]) {
					cuts = append(cuts, v)
				}
			}
		}
		b.cuts[j] = cuts
		col := b.cols[j*n : (j+1)*n]
		for i := range n {
			k, _ := slices.BinarySearch(cuts, x[i*d+j])
			col[i] = uint8(k)
		}
	})
	return b
}

func countDistinct(sorted []float64) int {
	c := 0
	for i, v := range sorted {
		if i == 0 || v != sorted[i-1] {
			c++
		}
	}
	return c
}

// grower builds one tree on the current residuals r and Hessians h.
type grower struct {
	b    *binned
	p    Params
	r, h []float64
	// nodes and splitBins of the tree being grown.
	nodes     []Node
	splitBins []uint8
	// free holds histograms to reuse.
	free []*histogram
	// direct builds every node's histogram from its rows, without the
	// subtraction (a test compares the trees of both ways).
	direct bool
}

// histogram holds, for the rows of a node, the residual sum and the row
// count of every bin of every feature (feature j's bin k at j*bins+k).
type histogram struct {
	sumR []float64
	cnt  []int32
}

// grow builds a tree on rows (sorted ascending) and returns it with each
// node's split bin (for routing training rows through the bins).
func (g *grower) grow(rows []int) (Tree, []uint8) {
	g.nodes = nil
	g.splitBins = nil
	var h *histogram
	if g.splits(0, len(rows)) {
		h = g.histogram(rows)
	}
	g.node(rows, 0, h)
	return Tree{Nodes: g.nodes}, g.splitBins
}

// splits reports whether a node of n rows at depth may be split.
func (g *grower) splits(depth, n int) bool {
	return depth < g.p.Depth && n >= 2*g.p.MinLeaf
}

// node appends the node for rows at depth and returns its index; h is the
// histogram of rows when the node may be split (else nil), and is reused.
//
// Only the smaller child's histogram is built from its rows: the larger
// child's is the parent's minus it (the subtraction trick of LightGBM, Ke
// et al. 2017), which saves scanning at least half of the rows at every
// level below the root.
func (g *grower) node(rows []int, depth int, h *histogram) int {
	var sr, sh float64
	for _, i := range rows {
		sr += g.r[i]
		sh += g.h[i]
	}
	k := len(g.nodes)
	g.nodes = append(g.nodes, Node{Feature: -1, Value: g.p.LearningRate * sr / max(sh+g.p.Lambda, 1e-6)})
	g.splitBins = append(g.splitBins, 0)
	if h == nil {
		return k
	}
	feat, bin, ok := g.bestSplit(h, len(rows), sr)
	if !ok {
		g.release(h)
		return k
	}
	var left, right []int
	for _, i := range rows {
		if g.b.bin(feat, i) <= bin {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	g.nodes[k].Feature = feat
	g.nodes[k].Threshold = g.b.cuts[feat][bin]
	g.splitBins[k] = bin
	var hl, hr *histogram
	splitL, splitR := g.splits(depth+1, len(left)), g.splits(depth+1, len(right))
	switch {
	case g.direct:
		g.release(h)
		if splitL {
			hl = g.histogram(left)
		}
		if splitR {
			hr = g.histogram(right)
		}
	case splitL && splitR && len(left) <= len(right):
		hl = g.histogram(left)
		hr = h.minus(hl)
	case splitL && splitR:
		hr = g.histogram(right)
		hl = h.minus(hr)
	case splitL:
		g.release(h)
		hl = g.histogram(left)
	case splitR:
		g.release(h)
		hr = g.histogram(right)
	default:
		g.release(h)
	}
	l := g.node(left, depth+1, hl)
	r := g.node(right, depth+1, hr)
	g.nodes[k].Left, g.nodes[k].Right = l, r
	return k
}

// histogram returns the histogram of rows (features in parallel when the
// node is large).
func (g *grower) histogram(rows []int) *histogram {
	bins, d := g.p.Bins, g.b.d
	var h *histogram
	if n := len(g.free); n > 0 {
		h, g.free = g.free[n-1], g.free[:n-1]
		clear(h.sumR)
		clear(h.cnt)
	} else {
		h = &histogram{sumR: make([]float64, d*bins), cnt: make([]int32, d*bins)}
	}
	scan := func(j int) {
		sumR, cnt := h.sumR[j*bins:(j+1)*bins], h.cnt[j*bins:(j+1)*bins]
		col := g.b.cols[j*g.b.n : (j+1)*g.b.n]
		for _, i := range rows {
			k := col[i]
			sumR[k] += g.r[i]
			cnt[k]++
		}
	}
	if len(rows)*d >= 1<<15 {
		parallel.For(d, scan)
	} else {
		for j := range d {
			scan(j)
		}
	}
	return h
}

// minus turns h (a parent's histogram) into h - c (c a child's): the
// other child's histogram. It returns h. An empty bin's sum is set to 0,
// not left at the rounding error of the subtraction.
func (h *histogram) minus(c *histogram) *histogram {
	for k := range h.sumR {
		h.sumR[k] -= c.sumR[k]
		h.cnt[k] -= c.cnt[k]
		if h.cnt[k] == 0 {
			h.sumR[k] = 0
		}
	}
	return h
}

// release keeps h for reuse.
func (g *grower) release(h *histogram) { g.free = append(g.free, h) }

// split is the best split found for one feature.
type split struct {
	gain float64
	bin  uint8
	ok   bool
}

// bestSplit scans every feature's histogram in h (of n rows whose
// residuals add up to total) and returns the split with the highest
// least-squares gain; ties go to the lowest feature, then bin.
func (g *grower) bestSplit(h *histogram, n int, total float64) (feat int, bin uint8, ok bool) {
	d, bins := g.b.d, g.p.Bins
	found := make([]split, d)
	parent := total * total / float64(n)
	for j := range d {
		nb := len(g.b.cuts[j]) + 1
		if nb < 2 {
			continue
		}
		sumR, cnt := h.sumR[j*bins:(j+1)*bins], h.cnt[j*bins:(j+1)*bins]
		var lr float64
		var ln int
		best := split{}
		for k := 0; k < nb-1; k++ {
			lr += sumR[k]
			ln += int(cnt[k])
			rn := n - ln
			if ln < g.p.MinLeaf {
				continue
			}
			if rn < g.p.MinLeaf {
				break
			}
			rr := total - lr
			gain := lr*lr/float64(ln) + rr*rr/float64(rn) - parent
			if gain > best.gain {
				best = split{gain: gain, bin: uint8(k), ok: true}
			}
		}
		found[j] = best
	}
	var bestGain float64
	for j, s := range found {
		if s.ok && s.gain > bestGain && s.gain > 1e-12 {
			feat, bin, ok, bestGain = j, s.bin, true, s.gain
		}
	}
	return feat, bin, ok
}
