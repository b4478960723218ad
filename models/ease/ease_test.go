package ease

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/patron-crm/patron/features"
)

// TestClosedForm checks B against the formula computed directly with a
// general inverse on a small matrix.
func TestClosedForm(t *testing.T) {
	// 5 customers x 4 items.
	rows := [][]int32{{0, 1}, {0, 1, 2}, {1, 2}, {2, 3}, {0, 3}}
	x := &features.CSR{Rows: len(rows), Cols: 4, Ptr: []int{0}}
	for _, r := range rows {
		x.Idx = append(x.Idx, r...)
		x.Val = append(x.Val, make([]float64, len(r))...)
		x.Ptr = append(x.Ptr, len(x.Idx))
	}
	const lambda = 0.5
	nb, err := FitMatrix(x, nil, Params{Lambda: lambda, K: 10, MinCustomers: 1})
	if err != nil {
		t.Fatal(err)
	}
	g := mat.NewDense(4, 4, nil)
	for _, r := range rows {
		for _, i := range r {
			for _, j := range r {
				g.Set(int(i), int(j), g.At(int(i), int(j))+1)
			}
		}
	}
	for i := 0; i < 4; i++ {
		g.Set(i, i, g.At(i, i)+lambda)
	}
	var p mat.Dense
	if err := p.Inverse(g); err != nil {
		t.Fatal(err)
	}
	for i := int32(0); i < 4; i++ {
		items, scores, _ := nb.Of(i)
		got := map[int32]float64{}
		for k, j := range items {
			got[j] = float64(scores[k])
		}
		for j := 0; j < 4; j++ {
			if j == int(i) {
				continue
			}
			want := -p.At(int(i), j) / p.At(j, j)
			if want <= 0 {
				if _, ok := got[int32(j)]; ok {
					t.Fatalf("B[%d][%d] = %v is not positive but kept", i, j, want)
				}
				continue
			}
			if math.Abs(got[int32(j)]-want) > 1e-5 {
				t.Fatalf("B[%d][%d] = %v, want %v", i, j, got[int32(j)], want)
			}
		}
	}
	if _, err := FitMatrix(x, nil, Params{MaxItems: 2, MinCustomers: 1}); err == nil {
		t.Fatal("a catalog above MaxItems was accepted")
	}
}
