package btyd_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/patron-crm/patron/models/btyd"
)

// Fit BG/NBD on the CDNOW calibration summary (weeks) and predict the
// paper's example customer: 2 repeat purchases, the last at week 30.43,
// observed for 38.86 weeks. With a features.Dataset, use Summarize, Fit and
// Model.ScoreAll instead.
func ExampleFitBGNBD() {
	raw, err := os.ReadFile("../../data/cdnow/cdnow_customers_summary.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	var obs []btyd.Obs
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n")[1:] {
		f := strings.Split(strings.TrimSpace(line), ",")
		x, _ := strconv.ParseFloat(f[1], 64)
		tx, _ := strconv.ParseFloat(f[2], 64)
		T, _ := strconv.ParseFloat(f[3], 64)
		obs = append(obs, btyd.Obs{X: x, Tx: tx, T: T, W: 1})
	}
	fit, err := btyd.FitBGNBD(obs, btyd.FitOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := fit.Model
	fmt.Printf("r=%.3f alpha=%.3f a=%.3f b=%.3f LL=%.1f boundary=%v\n", m.R, m.Alpha, m.A, m.B, fit.LogLik, fit.AtBoundary())
	c := btyd.Obs{X: 2, Tx: 30.43, T: 38.86}
	fmt.Printf("P(alive)=%.3f E[X(39)]=%.3f P(any in 39)=%.3f median wait=%.1f weeks\n",
		m.PAlive(c), m.ExpectedOrders(39, c), m.ProbAny(39, c), m.MedianWait(c))
	// Output:
	// r=0.243 alpha=4.414 a=0.793 b=2.426 LL=-9582.4 boundary=false
	// P(alive)=0.727 E[X(39)]=1.226 P(any in 39)=0.555 median wait=15.7 weeks
}

// Fit the MBG/NBD on the same CDNOW summary: unlike the BG/NBD, a customer
// who never came back (x = 0) is not certain to be alive.
func ExampleFitMBGNBD() {
	raw, err := os.ReadFile("../../data/cdnow/cdnow_customers_summary.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	var obs []btyd.Obs
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n")[1:] {
		f := strings.Split(strings.TrimSpace(line), ",")
		x, _ := strconv.ParseFloat(f[1], 64)
		tx, _ := strconv.ParseFloat(f[2], 64)
		T, _ := strconv.ParseFloat(f[3], 64)
		obs = append(obs, btyd.Obs{X: x, Tx: tx, T: T, W: 1})
	}
	fit, err := btyd.FitMBGNBD(obs, btyd.FitOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := fit.Model
	fmt.Printf("r=%.3f alpha=%.3f a=%.3f b=%.3f LL=%.1f\n", m.R, m.Alpha, m.A, m.B, fit.LogLik)
	oneOff := btyd.Obs{X: 0, Tx: 0, T: 38.86}
	fmt.Printf("one-time buyer: P(alive)=%.3f E[X(39)]=%.3f\n", m.PAlive(oneOff), m.ExpectedOrders(39, oneOff))
	// Output:
	// r=0.525 alpha=6.183 a=0.891 b=1.614 LL=-9582.1
	// one-time buyer: P(alive)=0.390 E[X(39)]=0.154
}

// The distribution of a customer's next-year transactions under the
// published CDNOW BG/NBD parameters (weeks): the mean is what totals add
// up, the median the forecast with the smallest absolute error.
func ExampleBGNBD_MedianOrders() {
	m := btyd.BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	for _, c := range []btyd.Obs{{X: 0, Tx: 0, T: 38}, {X: 2, Tx: 30.43, T: 38.86}, {X: 7, Tx: 37, T: 38}} {
		fmt.Printf("x=%v: mean %.2f, median %v, P(>=1) %.2f, P(>=3) %.2f\n", c.X,
			m.ExpectedOrders(52, c), m.MedianOrders(52, c), m.OrdersAtLeast(52, c, 1), m.OrdersAtLeast(52, c, 3))
	}
	// Output:
	// x=0: mean 0.26, median 0, P(>=1) 0.18, P(>=3) 0.02
	// x=2: mean 1.56, median 1, P(>=1) 0.60, P(>=3) 0.23
	// x=7: mean 5.98, median 5, P(>=1) 0.90, P(>=3) 0.74
}
