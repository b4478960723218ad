// Package btyd holds Patron's "buy till you die" customer-value models:
// how many orders each customer will place, whether they are still a
// customer at all, what their orders will be worth, and so their lifetime
// value (CLV) over a horizon.
//
//   - Summarize turns a features.Dataset into per-customer sufficient
//     statistics as of a calibration day: repeat transactions x, recency
//     t_x, age T (same-day orders merged, calendar days, an explicit Unit),
//     spend, repeat spend and returns.
//   - BGNBD (Fader, Hardie & Lee 2005, Marketing Science 24(2)) models the
//     transactions: FitBGNBD estimates it by maximum likelihood; PAlive,
//     ExpectedOrders, ProbAny, OrdersAtLeast, MedianOrders and MedianWait
//     predict one customer.
//   - MBGNBD (Batislam, Denizel & Filiztekin 2007, IJRM 24(3); Wagner &
//     Hoppe 2008, IJRM 25(3)) is the same model with dropout possible
//     right after the first purchase too, so one-time buyers can be gone:
//     FitMBGNBD estimates it; both implement PurchaseModel, and Fit fits
//     either (FitOptions.Purchases). SelectByHoldout chooses between them
//     by per-customer MAE of the median forecast on a validation window
//     (Holdout; a Forecast has a mean and a median).
//   - GammaGamma (Fader, Hardie & Lee 2005, JMR 42(4)) models the value of
//     transactions: FitGammaGamma estimates it, ExpectedValue predicts.
//   - Model ties both together: Fit on a Summary, then Score or ScoreAll
//     give P(alive), expected orders, probability of ordering, the median
//     next-order date, expected transaction value, discounted CLV and the
//     historic value net of returns.
//
// # Fitting
//
// Likelihoods are evaluated in log space on rows folded by (x, t_x, T), with
// the terms that depend on x alone computed once per distinct x, so a fit on
// a million customers costs a few passes over a few hundred thousand rows;
// the passes are split across cores in fixed chunks whose partial sums are
// added in order, so results do not depend on the number of cores.
// Parameters are optimised on a log scale (gonum optimize, BFGS with
// analytic gradients, Nelder-Mead as fallback).
//
// # Boundary fits
//
// Some histories push a parameter to the edge of its space; on the Online
// Retail data the BG/NBD dropout parameter a runs to ~0, which means
// "nobody ever drops out" and makes P(alive) ≈ 1 for everyone. FitBGNBD
// does not hide this: BGNBDFit.Boundary names each such parameter in words a
// training report can print. The predictions stay those of the limit model
// (expected orders remain useful), and Score also carries QuietProb, the
// probability that an active customer would have stayed silent this long,
// which ranks churn risk independently of the dropout process.
//
// Verified against the published CDNOW figures (data/cdnow): the summary
// reproduces cdnow_customers_summary.csv exactly and the fits reproduce
// r, α, a, b, the log-likelihood and p, q, γ, and the MBG/NBD fit
// reproduces r = 0.525, α = 6.183, a = 0.891, b = 1.614 (BTYDplus, as
// checked by lifetimes' tests); see the tests.
//
// On Online Retail (calibration through 2011-09-08) the MBG/NBD runs to the
// same no-dropout limit as the BG/NBD (a → 0, b → ∞, identical r, α and
// log-likelihood): there the data do not support early dropout.
package btyd
