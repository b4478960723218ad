package synth

import (
	"github.com/patron-crm/patron/internal/hash"
	"math"
	"math/rand/v2"
)

// stream returns the random stream of one simulated unit (a customer, the
// catalog, the pilot): a PCG seeded from the run's seed and the unit's key,
// both mixed so that neighbouring keys give unrelated streams. Each customer
// having its own stream is what makes the output independent of how
// customers are spread over goroutines.
func stream(seed, key uint64) *rand.Rand {
	return rand.New(rand.NewPCG(hash.Mix64(seed^0x9E3779B97F4A7C15), hash.Mix64(key+0x632BE59BD9B4E019)))
}

// Stream keys outside the range of customer indices.
const (
	keyCatalog = 1 << 62
	keyPilot   = 1 << 61 // + pilot customer index
)

// gammaRand draws from Gamma(shape, rate 1) by Marsaglia and Tsang's method
// ("A simple method for generating gamma variables", ACM TOMS 26(3), 2000);
// a shape below 1 uses Gamma(shape) = Gamma(shape+1) * U^(1/shape).
func gammaRand(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := r.Float64()
		for u == 0 {
			u = r.Float64()
		}
		return gammaRand(r, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x {
			return d * v
		}
		if u > 0 && math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// betaRand draws from Beta(a, b) as X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b).
func betaRand(r *rand.Rand, a, b float64) float64 {
	x := gammaRand(r, a)
	y := gammaRand(r, b)
	if x+y == 0 {
		return a / (a + b) // both underflowed: only for tiny shapes
	}
	return x / (x + y)
}

// poisson draws from Poisson(mean) by multiplying uniforms (Knuth); the
// means used here are small. Large means fall back to a rounded normal.
func poisson(r *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*r.NormFloat64())))
	}
	limit := math.Exp(-mean)
	n, p := 0, r.Float64()
	for p > limit {
		n++
		p *= r.Float64()
	}
	return n
}

// alias samples an index in proportion to fixed weights in O(1) (Walker's
// alias method, with Vose's stable construction).
type alias struct {
	prob  []uint32 // acceptance threshold of slot i, scaled to 2^32
	alias []int32
}

func newAlias(w []float64) alias {
	n := len(w)
	a := alias{prob: make([]uint32, n), alias: make([]int32, n)}
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	scaled := make([]float64, n)
	small := make([]int32, 0, n)
	large := make([]int32, 0, n)
	for i, x := range w {
		scaled[i] = x * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s] = uint32(scaled[s] * (1 << 32))
		a.alias[s] = l
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		a.prob[i] = math.MaxUint32
		a.alias[i] = i
	}
	return a
}

// draw returns an index; one 64-bit draw gives both the slot (high bits)
// and the acceptance test (low bits).
func (a *alias) draw(r *rand.Rand) int {
	u := r.Uint64()
	i := int((u >> 32) * uint64(len(a.prob)) >> 32)
	if uint32(u) < a.prob[i] {
		return i
	}
	return int(a.alias[i])
}
