// Package synth generates synthetic order histories with known ground truth,
// so churn, lifetime-value and recommendation models can be checked against
// the parameters that produced the data, and the pipeline can be measured at
// any size.
//
// # Purchasing and dropout: BG/NBD
//
// Customers follow the beta-geometric/negative-binomial model of Fader,
// Hardie and Lee, "Counting your customers the easy way: An alternative to
// the Pareto/NBD model", Marketing Science 24(2), 275-284, 2005:
//
//   - While alive, customer i buys as a Poisson process with rate λ_i per
//     day: the gaps between orders are Exponential(λ_i).
//   - λ_i ~ Gamma(shape r, rate α), so E[λ] = r/α per day.
//   - After each repeat purchase the customer drops out (becomes inactive for
//     good) with probability p_i; p_i ~ Beta(a, b), so E[p] = a/(a+b). As in
//     the paper, the first purchase cannot be followed by dropout: the
//     likelihood's x = 0 term is e^(-λT).
//
// The first order of each customer is at a time uniform over
// [Start, AcquireUntil). The truth files record λ_i, p_i, the first order,
// and the time of the order after which the customer dropped out (empty when
// alive at End).
//
// # Seasonality
//
// Orders follow a yearly cycle by thinning (Lewis and Shedler 1979):
// candidate events come at rate λ_i(1+A) and are kept with probability
//
//	(1 + A cos(2π(d - peak)/365.2425)) / (1 + A)
//
// where d is the day of the year (fractional) and A ∈ [0,1) is the
// amplitude, so the rate at time t is λ_i(1 + A cos(...)). Rejected
// candidates are not purchases and do not trigger the dropout coin. A = 0
// gives BG/NBD exactly. The first order is thinned the same way.
//
// # Baskets
//
// Items belong to one of K categories. Item popularity is Zipf-like: the
// item of popularity rank k has weight k^-s (s ≈ 1.05, a long tail), with
// ranks shuffled over item ids and categories. Each customer prefers 1-5
// categories, drawn in proportion to category popularity, with weights from
// a flat Dirichlet. An order has 1 + Poisson(LinesPerOrder-1) lines; each
// line re-buys an item from the customer's history with probability
// RebuyProb (buy again), else comes from the global popularity with
// probability Explore, else from a preferred category in proportion to
// popularity within it. An item drawn twice in one order is one line with
// the quantities added. Quantities are 1 + Geometric(0.6), at most 100.
//
// # Returns, guests and malformed lines
//
// Each line is returned with probability ReturnRate: a line with order id
// "C"+order id, the negative quantity, the same item and price, 1-14 days
// after the order (returns that would fall after End are not written).
// Guests are anonymous shoppers: guest orders (empty customer_id) are added
// so that they are about GuestShare of all orders; they are one-off orders
// with 1-2 preferred categories of their own and no buy-again (a line follows
// global popularity with probability RebuyProb+Explore). Each customer's
// stream adds Poisson(g/(1-g) · m) guest orders, m being the mean orders per
// customer measured by a pilot run (see Resolve). A share MalformedShare of the
// lines is replaced by malformed ones, of the kinds the reader rejects
// (features.ReasonColumnCount, ReasonBadQuantity, ...), counted by kind in
// Stats so a test can check that the reader rejects exactly these.
//
// # Determinism
//
// Each customer draws from its own PCG stream keyed by (seed, customer
// index), customers are simulated in parallel in chunks, and the lines are
// then sorted by (time, customer, order, item): the output is byte-identical
// for a seed whatever the number of workers.
package synth
