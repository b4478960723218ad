package btyd

import (
	"math"
	"testing"
)

// TestOrdersAtLeast checks the count distribution against the closed forms
// it must agree with: P(X >= 1) is ProbAny, and the tail sums to the
// expected count, E[X] = sum over k >= 1 of P(X >= k), which ExpectedOrders
// computes independently through 2F1.
func TestOrdersAtLeast(t *testing.T) {
	params := [][4]float64{
		{0.243, 4.414, 0.793, 2.426}, // CDNOW (weeks)
		{0.72, 65.9, 0.5, 3},
		{2, 10, 3, 8},
	}
	obs := []Obs{{X: 0, Tx: 0, T: 30}, {X: 2, Tx: 30.43, T: 38.86}, {X: 7, Tx: 35, T: 39}, {X: 1, Tx: 2, T: 50}}
	for _, p := range params {
		for _, kind := range []PurchaseKind{BGNBDKind, MBGNBDKind} {
			m := NewPurchaseModel(kind, p[0], p[1], p[2], p[3])
			for _, o := range obs {
				for _, horizon := range []float64{5, 39, 100} {
					if got, want := m.OrdersAtLeast(horizon, o, 1), m.ProbAny(horizon, o); math.Abs(got-want) > 1e-12 {
						t.Errorf("%s %v %+v t=%v: P(X>=1) %v, ProbAny %v", kind, p, o, horizon, got, want)
					}
					sum := 0.0
					for k := 1; k < 5000; k++ {
						p := m.OrdersAtLeast(horizon, o, k)
						if sum += p; p < 1e-13 {
							break
						}
					}
					if want := m.ExpectedOrders(horizon, o); math.Abs(sum-want) > 1e-6*max(1, want) {
						t.Errorf("%s %v %+v t=%v: sum of tails %v, E[X] %v", kind, p, o, horizon, sum, want)
					}
					med := m.MedianOrders(horizon, o)
					k := int(med)
					if (k > 0 && m.OrdersAtLeast(horizon, o, k) < 0.5) || m.OrdersAtLeast(horizon, o, k+1) >= 0.5 {
						t.Errorf("%s %v %+v t=%v: median %v, P(X>=%d) %v, P(X>=%d) %v", kind, p, o, horizon, med,
							k, m.OrdersAtLeast(horizon, o, k), k+1, m.OrdersAtLeast(horizon, o, k+1))
					}
				}
				if m.OrdersAtLeast(0, o, 1) != 0 || m.MedianOrders(0, o) != 0 || m.OrdersAtLeast(10, o, 0) != 1 {
					t.Errorf("%s: empty horizon or k = 0 wrong", kind)
				}
			}
		}
	}
}

func TestPoissonMedian(t *testing.T) {
	for _, c := range []struct{ mean, want float64 }{
		{0, 0}, {-1, 0}, {0.5, 0}, {0.69, 0}, {0.7, 1}, {1, 1}, {2, 2}, {3.5, 3}, {10, 10}, {100, 100},
	} {
		if got := PoissonMedian(c.mean); got != c.want {
			t.Errorf("PoissonMedian(%v) = %v, want %v", c.mean, got, c.want)
		}
	}
}
