package ease

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// randomGram returns the upper triangle of X^T X + lambda I for a random
// sparse 0/1 matrix X with 3n rows, row-major n x n (the shape EASE sees).
func randomGram(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	g := make([]float64, n*n)
	for range 3 * n {
		basket := make([]int, 1+r.IntN(12))
		for k := range basket {
			basket[k] = r.IntN(n)
		}
		for _, a := range basket {
			for _, b := range basket {
				if a <= b {
					g[a*n+b]++
				}
			}
		}
	}
	for d := range n {
		g[d*n+d] += 2
	}
	return g
}

// TestInvertSPD checks the recursive inverse against LAPACK's dpotrf and
// dpotri (gonum) on sizes around and far above the recursion leaf, odd
// splits included, and that G P = I.
func TestInvertSPD(t *testing.T) {
	for _, n := range []int{1, 2, 7, recursionLeaf, recursionLeaf + 1, 2*recursionLeaf + 3, 517} {
		g := randomGram(n, uint64(n))
		orig := append([]float64(nil), g...)
		want := append([]float64(nil), g...)
		u, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: want})
		if !ok {
			t.Fatalf("n=%d: reference Cholesky failed", n)
		}
		if _, ok := lapack64.Potri(u); !ok {
			t.Fatalf("n=%d: reference inverse failed", n)
		}
		if err := invertSPD(g, n); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		sym := func(m []float64, i, j int) float64 {
			if i > j {
				i, j = j, i
			}
			return m[i*n+j]
		}
		var worst float64
		for i := range n {
			for j := i; j < n; j++ {
				worst = max(worst, math.Abs(g[i*n+j]-want[i*n+j])/max(math.Abs(want[i*n+j]), 1e-3))
			}
		}
		if worst > 1e-9 {
			t.Errorf("n=%d: largest relative difference from dpotri %g", n, worst)
		}
		// G P = I, reading both from their upper triangles.
		var off float64
		for i := range n {
			for j := range n {
				var s float64
				for k := range n {
					s += sym(orig, i, k) * sym(g, k, j)
				}
				if i == j {
					s--
				}
				off = max(off, math.Abs(s))
			}
		}
		if off > 1e-9 {
			t.Errorf("n=%d: |G P - I| up to %g", n, off)
		}
	}
}

func TestInvertSPDRefusesIndefinite(t *testing.T) {
	// [1 2; 2 1] has eigenvalues 3 and -1.
	if err := invertSPD([]float64{1, 2, 0, 1}, 2); !errors.Is(err, errNotPositiveDefinite) {
		t.Errorf("got %v, want errNotPositiveDefinite", err)
	}
}

// BenchmarkInvertSPD times the inverse at the size of the EASE model on
// Online Retail (about 2,400 items bought by 20 customers or more) beside
// gonum's dpotrf + dpotri.
func BenchmarkInvertSPD(b *testing.B) {
	const n = 2400
	g := randomGram(n, 1)
	work := make([]float64, len(g))
	b.Run("recursive", func(b *testing.B) {
		for b.Loop() {
			copy(work, g)
			if err := invertSPD(work, n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gonum-potri", func(b *testing.B) {
		for b.Loop() {
			copy(work, g)
			u, _ := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: work})
			lapack64.Potri(u)
		}
	})
}
