package value

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Orderings of customer lists, each descending, ties by customer id.
const (
	OrderByCLV           = "clv"
	OrderByHistoric      = "historic_value"
	OrderByPAlive        = "p_alive"
	OrderByExpected      = "expected_orders"
	OrderByDaysSinceLast = "days_since_last_order"
	OrderByValueAtRisk   = "value_at_risk"
	OrderByChurn         = "churn_probability"
)

// OrderBys lists the accepted orderings; the first is the default.
var OrderBys = []string{OrderByCLV, OrderByHistoric, OrderByPAlive, OrderByExpected, OrderByDaysSinceLast, OrderByValueAtRisk, OrderByChurn}

// Paging limits.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// ErrBadRequest marks an invalid list request (filter, order, size or token).
var ErrBadRequest = errors.New("bad request")

// riskSlots counts customers by risk band: one per RiskBands entry, the
// last for customers without a churn score.
const riskSlots = 4

// row is what lists need of one customer, kept in memory.
type row struct {
	id                                     string
	tier, segment, risk                    uint8
	clv, historic, pAlive, expected, since float64
	churn, atRisk                          float64
}

func (r *row) key(orderBy string) float64 {
	switch orderBy {
	case OrderByHistoric:
		return r.historic
	case OrderByPAlive:
		return r.pAlive
	case OrderByExpected:
		return r.expected
	case OrderByDaysSinceLast:
		return r.since
	case OrderByValueAtRisk:
		return r.atRisk
	case OrderByChurn:
		return r.churn
	}
	return r.clv
}

// index answers list requests over all customers: one sorted permutation
// per ordering, built on first use, and counts per tier and segment.
type index struct {
	rows    []row
	tiers   []string // names by code
	segs    []string
	counts  [][][riskSlots]int // [tier][segment][risk band, last: none]
	mu      sync.Mutex
	orders  map[string][]int32
	version int64
}

func (ix *index) sorted(orderBy string) []int32 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if p, ok := ix.orders[orderBy]; ok {
		return p
	}
	p := make([]int32, len(ix.rows))
	for i := range p {
		p[i] = int32(i)
	}
	slices.SortFunc(p, func(a, b int32) int {
		ra, rb := &ix.rows[a], &ix.rows[b]
		if c := cmp.Compare(rb.key(orderBy), ra.key(orderBy)); c != 0 {
			return c
		}
		return cmp.Compare(ra.id, rb.id)
	})
	ix.orders[orderBy] = p
	return p
}

// ListRequest selects customers.
type ListRequest struct {
	Tier, Segment string
	// RiskBand keeps one churn risk band (low, medium, high).
	RiskBand  string
	OrderBy   string
	PageSize  int
	PageToken string
}

// page is one page of a listing: row positions and the next token.
type page struct {
	rows  []int32
	next  string
	total int
}

func (ix *index) code(names []string, v, what string) (int, error) {
	if v == "" {
		return -1, nil
	}
	for i, n := range names {
		if strings.EqualFold(n, v) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown %s %q (one of: %s)", ErrBadRequest, what, v, strings.Join(names, ", "))
}

func (ix *index) list(req ListRequest) (page, error) {
	tier, err := ix.code(ix.tiers, req.Tier, "tier")
	if err != nil {
		return page{}, err
	}
	seg, err := ix.code(ix.segs, req.Segment, "segment")
	if err != nil {
		return page{}, err
	}
	risk, err := ix.code(RiskBands, req.RiskBand, "risk_band")
	if err != nil {
		return page{}, err
	}
	orderBy := req.OrderBy
	if orderBy == "" {
		orderBy = OrderBys[0]
	}
	if !slices.Contains(OrderBys, orderBy) {
		return page{}, fmt.Errorf("%w: order_by %q: one of %s", ErrBadRequest, orderBy, strings.Join(OrderBys, ", "))
	}
	size := req.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	if size < 1 || size > MaxPageSize {
		return page{}, fmt.Errorf("%w: page_size %d: want 1 to %d (default %d)", ErrBadRequest, size, MaxPageSize, DefaultPageSize)
	}
	filter := fmt.Sprintf("%d|%s|%d|%d|%d", ix.version, orderBy, tier, seg, risk)
	match := func(r *row) bool {
		return (tier < 0 || int(r.tier) == tier) && (seg < 0 || int(r.segment) == seg) && (risk < 0 || int(r.risk) == risk)
	}
	start := 0
	if req.PageToken != "" {
		if start, err = parseToken(req.PageToken, filter); err != nil {
			return page{}, err
		}
	}
	pg := page{}
	for t := range ix.counts {
		for s := range ix.counts[t] {
			for r, n := range ix.counts[t][s] {
				if (tier < 0 || t == tier) && (seg < 0 || s == seg) && (risk < 0 || r == risk) {
					pg.total += n
				}
			}
		}
	}
	perm := ix.sorted(orderBy)
	pos := start
	for ; pos < len(perm) && len(pg.rows) < size; pos++ {
		if match(&ix.rows[perm[pos]]) {
			pg.rows = append(pg.rows, perm[pos])
		}
	}
	// A next page only when another matching customer exists, so the last
	// page is never empty.
	for ; len(pg.rows) == size && pos < len(perm); pos++ {
		if match(&ix.rows[perm[pos]]) {
			pg.next = makeToken(filter, pos)
			break
		}
	}
	return pg, nil
}

// Page tokens are opaque to callers: the position to resume from and the
// request they belong to (model version, order, filters), base64url.
func makeToken(filter string, pos int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(filter + "|" + strconv.Itoa(pos)))
}

func parseToken(tok, filter string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, fmt.Errorf("%w: page_token is not one this server issued", ErrBadRequest)
	}
	s := string(b)
	i := strings.LastIndexByte(s, '|')
	if i < 0 || s[:i] != filter {
		return 0, fmt.Errorf("%w: page_token belongs to another listing (other filters, order or model version): start again without it", ErrBadRequest)
	}
	pos, err := strconv.Atoi(s[i+1:])
	if err != nil || pos < 0 {
		return 0, fmt.Errorf("%w: page_token is not one this server issued", ErrBadRequest)
	}
	return pos, nil
}
