package ease

import (
	"errors"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// invertSPD replaces the upper triangle of the symmetric positive definite
// n x n matrix g (row-major, stride n) with the upper triangle of its
// inverse, as LAPACK's dpotrf followed by dpotri would:
//
//	G = U^T U          (Cholesky, lapack64.Potrf)
//	G^-1 = U^-1 U^-T   (triangular inverse, then its product with its transpose)
//
// gonum's dpotri does the last two steps with triangular matrix products
// (dtrmm) that run on one core row by row, which took more time than the
// factorisation. Here they are split recursively (Elmroth, Gustavson,
// Jonsson & Kagstrom 2004, "Recursive blocked algorithms and hybrid data
// structures for dense matrix library software") until most of the work is
// general matrix products (dgemm: cache-blocked and parallel), and only
// blocks of at most recursionLeaf rows go to the unblocked routines. The
// result is the same up to rounding.
func invertSPD(g []float64, n int) error {
	u, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: g})
	if !ok {
		return errNotPositiveDefinite
	}
	a := blas64.General{Rows: n, Cols: n, Stride: u.Stride, Data: u.Data}
	if !invertUpper(a) {
		return errSingular
	}
	upperTimesTranspose(a)
	return nil
}

var (
	errNotPositiveDefinite = errors.New("not positive definite")
	errSingular            = errors.New("singular")
)

// recursionLeaf is the size from which the recursive routines below hand a
// block to the unblocked ones (a block of 128 x 128 float64 is 128 KiB:
// it stays in the cache).
const recursionLeaf = 128

// block returns the r x c block of a whose top left element is (i, j),
// sharing a's storage.
func block(a blas64.General, i, j, r, c int) blas64.General {
	return blas64.General{Rows: r, Cols: c, Stride: a.Stride, Data: a.Data[i*a.Stride+j:]}
}

// upper views the upper triangle of the square matrix a as a triangular
// matrix.
func upper(a blas64.General) blas64.Triangular {
	return blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: a.Rows, Stride: a.Stride, Data: a.Data}
}

// split returns the sizes of the two halves of n rows.
func split(n int) (int, int) { return n / 2, n - n/2 }

// invertUpper replaces the upper triangular matrix U held in the upper
// triangle of a with U^-1 (LAPACK dtrtri). With U = [A B; 0 C],
//
//	U^-1 = [A^-1  -A^-1 B C^-1; 0  C^-1].
func invertUpper(a blas64.General) bool {
	n := a.Rows
	if n <= recursionLeaf {
		return lapack64.Trtri(upper(a))
	}
	n1, n2 := split(n)
	A, B, C := block(a, 0, 0, n1, n1), block(a, 0, n1, n1, n2), block(a, n1, n1, n2, n2)
	if !invertUpper(A) || !invertUpper(C) {
		return false
	}
	upperTimes(A, B)        // B = A^-1 B
	timesUpper(B, C, false) // B = A^-1 B C^-1
	for i := range n1 {
		row := B.Data[i*B.Stride : i*B.Stride+n2]
		for j := range row {
			row[j] = -row[j]
		}
	}
	return true
}

// upperTimes sets b = T b for the upper triangular T in the upper triangle
// of t (BLAS dtrmm, left side). With T = [T11 T12; 0 T22] and b = [b1; b2]:
// b1 = T11 b1 + T12 b2, then b2 = T22 b2.
func upperTimes(t, b blas64.General) {
	m := t.Rows
	if m <= recursionLeaf {
		blas64.Trmm(blas.Left, blas.NoTrans, 1, upper(t), b)
		return
	}
	m1, m2 := split(m)
	b1, b2 := block(b, 0, 0, m1, b.Cols), block(b, m1, 0, m2, b.Cols)
	upperTimes(block(t, 0, 0, m1, m1), b1)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, block(t, 0, m1, m1, m2), b2, 1, b1)
	upperTimes(block(t, m1, m1, m2, m2), b2)
}

// timesUpper sets b = b T, or b = b T^T when trans, for the upper
// triangular T in the upper triangle of t (BLAS dtrmm, right side). With
// T = [T11 T12; 0 T22] and b = [b1 b2]:
//
//	b T   = [b1 T11,  b1 T12 + b2 T22]      (b2 first: it reads the old b1)
//	b T^T = [b1 T11^T + b2 T12^T,  b2 T22^T] (b1 first: it reads the old b2)
func timesUpper(b, t blas64.General, trans bool) {
	m := t.Rows
	if m <= recursionLeaf {
		op := blas.NoTrans
		if trans {
			op = blas.Trans
		}
		blas64.Trmm(blas.Right, op, 1, upper(t), b)
		return
	}
	m1, m2 := split(m)
	t11, t12, t22 := block(t, 0, 0, m1, m1), block(t, 0, m1, m1, m2), block(t, m1, m1, m2, m2)
	b1, b2 := block(b, 0, 0, b.Rows, m1), block(b, 0, m1, b.Rows, m2)
	if trans {
		timesUpper(b1, t11, true)
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, b2, t12, 1, b1)
		timesUpper(b2, t22, true)
		return
	}
	timesUpper(b2, t22, false)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, b1, t12, 1, b2)
	timesUpper(b1, t11, false)
}

// upperTimesTranspose replaces the upper triangular matrix V in the upper
// triangle of a with the upper triangle of V V^T (LAPACK dlauum). With
// V = [A B; 0 C],
//
//	V V^T = [A A^T + B B^T  B C^T; C B^T  C C^T].
func upperTimesTranspose(a blas64.General) {
	n := a.Rows
	if n <= recursionLeaf {
		gonum.Implementation{}.Dlauum(blas.Upper, n, a.Data, a.Stride)
		return
	}
	n1, n2 := split(n)
	A, B, C := block(a, 0, 0, n1, n1), block(a, 0, n1, n1, n2), block(a, n1, n1, n2, n2)
	upperTimesTranspose(A)
	addOuter(A, B)
	timesUpper(B, C, true)
	upperTimesTranspose(C)
}

// addOuter adds b b^T to the upper triangle of the square matrix c (BLAS
// dsyrk). With c = [c11 c12; . c22] and b = [b1; b2]: c11 += b1 b1^T,
// c12 += b1 b2^T, c22 += b2 b2^T.
func addOuter(c, b blas64.General) {
	n := c.Rows
	if n <= recursionLeaf {
		blas64.Syrk(blas.NoTrans, 1, b, 1, blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: c.Stride, Data: c.Data})
		return
	}
	n1, n2 := split(n)
	b1, b2 := block(b, 0, 0, n1, b.Cols), block(b, n1, 0, n2, b.Cols)
	addOuter(block(c, 0, 0, n1, n1), b1)
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, b1, b2, 1, block(c, 0, n1, n1, n2))
	addOuter(block(c, n1, n1, n2, n2), b2)
}
