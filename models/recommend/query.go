package recommend

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/patron-crm/patron/internal/topk"
	"github.com/patron-crm/patron/models/itemsim"
	"github.com/patron-crm/patron/models/popular"
)

// scratch is one request's working memory, sized to the catalog and reused
// through a pool, so a request allocates only its result.
type scratch struct {
	acc     []float32 // score per item
	from    []int32   // the item that contributed most, -1 none
	best    []float32 // that contribution
	rebuy   []float32 // buy-again part of acc
	in      []bool    // item is in touched
	blocked []bool    // excluded, bought (when excluded) or in the cart
	touched []int32
	hist    History
	cands   []cand
	// blockedIDs keeps the backing array of request.blocked between
	// requests.
	blockedIDs []int32
}

type cand struct {
	item  int32
	score float32
}

type scratchPool struct {
	n    int
	pool sync.Pool
}

func (p *scratchPool) get() *scratch {
	if s, ok := p.pool.Get().(*scratch); ok {
		return s
	}
	return &scratch{
		acc: make([]float32, p.n), from: make([]int32, p.n), best: make([]float32, p.n),
		rebuy: make([]float32, p.n), in: make([]bool, p.n), blocked: make([]bool, p.n),
	}
}

// put clears what the request touched and returns s to the pool.
func (p *scratchPool) put(s *scratch, blocked []int32) {
	for _, i := range s.touched {
		s.acc[i], s.from[i], s.best[i], s.rebuy[i], s.in[i] = 0, 0, 0, 0, false
	}
	for _, i := range blocked {
		s.blocked[i] = false
	}
	s.blockedIDs = blocked[:0]
	s.touched = s.touched[:0]
	p.pool.Put(s)
}

// add adds v to item j's score, noting src when it is j's largest contribution.
func (s *scratch) add(j int32, v float32, src int32) {
	s.touch(j)
	s.acc[j] += v
	if v > s.best[j] {
		s.best[j], s.from[j] = v, src
	}
}

// touch notes that item j has a score.
func (s *scratch) touch(j int32) {
	if !s.in[j] {
		s.in[j] = true
		s.touched = append(s.touched, j)
		s.from[j] = -1
	}
}

// request is a validated request in dense ids.
type request struct {
	limit    int
	category string
	blocked  []int32 // every blocked item, to clear afterwards
}

func (m *Recommender) newRequest(s *scratch, limit int, exclude []string, category string) (request, error) {
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return request{}, fmt.Errorf("%w: limit %d: want 1 to %d (default %d)", ErrBadRequest, limit, MaxLimit, DefaultLimit)
	}
	if len(exclude) > MaxExclude {
		return request{}, fmt.Errorf("%w: %d excluded items: at most %d", ErrBadRequest, len(exclude), MaxExclude)
	}
	r := request{limit: limit, category: category, blocked: s.blockedIDs[:0]}
	for _, id := range exclude {
		if i, ok := m.cat.lookup(id); ok {
			r.block(s, i)
		}
	}
	return r, nil
}

func (r *request) block(s *scratch, i int32) {
	if !s.blocked[i] {
		s.blocked[i] = true
		r.blocked = append(r.blocked, i)
	}
}

// allowed reports whether item i may be returned.
func (m *Recommender) allowed(s *scratch, r *request, i int32) bool {
	return !s.blocked[i] && (r.category == "" || m.cat.cats[i] == r.category)
}

// ForCustomer recommends items for a customer; an unknown customer gets
// popular items (Result.ColdStart), not an error.
func (m *Recommender) ForCustomer(req Request) (Result, error) {
	s := m.scratch.get()
	r, err := m.newRequest(s, req.Limit, req.ExcludeItemIDs, req.Category)
	defer func() { m.scratch.put(s, r.blocked) }()
	if err != nil {
		return Result{}, err
	}
	hist, found, err := m.hist.history(req.CustomerID, &s.hist)
	if err != nil {
		return Result{}, fmt.Errorf("recommend: customer %q: %w", req.CustomerID, err)
	}
	if !found {
		res := Result{ColdStart: true}
		res.Items = m.fill(s, &r, nil, m.trending())
		return res, nil
	}
	h := hist.Items
	if !req.IncludePurchased {
		for _, it := range h {
			r.block(s, it.Item)
		}
	}
	if !req.IncludePurchased || m.Params.RebuyWeight <= 0 {
		// Because you bought: the precomputed votes of the customer's items
		// through the personal model (History.CF), normalised and stored
		// best first, so the answer is the first allowed ones.
		return Result{Items: m.fill(s, &r, m.topSorted(s, &r, hist.CF), m.trending())}, nil
	}
	// With buy-again scores mixed in, the votes and the due items are
	// scored together, then ranked.
	for _, c := range hist.CF {
		s.touch(c.Item)
		s.acc[c.Item], s.best[c.Item], s.from[c.Item] = c.Score, c.Score, c.From
	}
	top := float32(0)
	for _, it := range h {
		top = max(top, it.Rebuy)
	}
	if top > 0 {
		wgt := float32(m.Params.RebuyWeight) / top
		for _, it := range h {
			if it.Rebuy <= 0 {
				continue
			}
			v := wgt * it.Rebuy
			s.touch(it.Item)
			s.acc[it.Item] += v
			s.rebuy[it.Item] = v
		}
	}
	items := m.top(s, &r, func(j int32) Reason {
		if s.rebuy[j] > 0 && s.rebuy[j] >= s.acc[j]-s.rebuy[j] {
			return m.reorderReason(j, h)
		}
		return m.becauseReason(s.from[j])
	})
	return Result{Items: m.fill(s, &r, items, m.trending())}, nil
}

func (m *Recommender) reorderReason(j int32, h []HistItem) Reason {
	for _, it := range h {
		if it.Item != j {
			continue
		}
		text := "You buy this regularly: time to reorder"
		if it.IntervalDays >= 1 {
			text = fmt.Sprintf("Time to reorder: you buy this about every %d days", int(math.Round(float64(it.IntervalDays))))
		} else if it.Orders == 1 {
			text = "Buy it again"
		}
		return Reason{Kind: ReasonTimeToReorder, ItemID: m.cat.ids[j], Text: text}
	}
	return Reason{Kind: ReasonTimeToReorder, ItemID: m.cat.ids[j], Text: "Buy it again"}
}

var popularReason = Reason{Kind: ReasonPopular, Text: "Popular right now"}

// becauseReason is the reason for an item whose score came mostly from
// history item f ("because you bought f"), or popular when f < 0.
func (m *Recommender) becauseReason(f int32) Reason {
	if f < 0 {
		return popularReason
	}
	return Reason{Kind: ReasonBecauseYouBought, ItemID: m.cat.ids[f], Text: m.cat.because[f]}
}

// display names an item for a reason: its name, else its id.
func (m *Recommender) display(i int32) string { return m.cat.display(i) }

// top returns the best allowed scored items, at most r.limit, best first
// (ties: lower item id), and blocks them so fill does not repeat them.
func (m *Recommender) top(s *scratch, r *request, reason func(j int32) Reason) []Item {
	s.cands = s.cands[:0]
	for _, j := range s.touched {
		if s.acc[j] > 0 && m.allowed(s, r, j) {
			s.cands = append(s.cands, cand{j, s.acc[j]})
		}
	}
	s.cands = topk.Select(s.cands, r.limit, func(a, b cand) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.item, b.item)
	})
	out := make([]Item, 0, r.limit)
	for _, c := range s.cands {
		if len(out) == r.limit {
			break
		}
		out = append(out, Item{ItemID: m.cat.ids[c.item], Name: m.cat.names[c.item], Score: float64(c.score), Reason: reason(c.item)})
		r.block(s, c.item)
	}
	return out
}

// topSorted is top for candidates already in top's order (score
// descending, then item id), as History.CF is stored: the first allowed
// ones with a score, without scoring them into s.
func (m *Recommender) topSorted(s *scratch, r *request, cands []Cand) []Item {
	out := make([]Item, 0, r.limit)
	for _, c := range cands {
		if len(out) == r.limit {
			break
		}
		if !(c.Score > 0) || !m.allowed(s, r, c.Item) { // as top, which keeps scores > 0 (no NaN)
			continue
		}
		out = append(out, Item{ItemID: m.cat.ids[c.Item], Name: m.cat.names[c.Item], Score: float64(c.Score), Reason: m.becauseReason(c.From)})
		r.block(s, c.Item)
	}
	return out
}

// fill tops items up to r.limit from a popularity ranking.
func (m *Recommender) fill(s *scratch, r *request, items []Item, rank *popular.Model) []Item {
	if items == nil {
		items = make([]Item, 0, r.limit)
	}
	ids, scores := rank.Items, rank.Scores
	top := 1.0
	if len(scores) > 0 && scores[0] > 0 {
		top = scores[0]
	}
	for k, i := range ids {
		if len(items) >= r.limit {
			break
		}
		if !m.allowed(s, r, i) {
			continue
		}
		// Fill scores stay below any model score (which are at most 1 + RebuyWeight).
		items = append(items, Item{ItemID: m.cat.ids[i], Name: m.cat.names[i], Score: scores[k] / top * 1e-3, Reason: popularReason})
		r.block(s, i)
	}
	return items
}

// Similar returns items bought by the same customers as itemID, then
// items bought together with it, then popular ones; an unknown item is
// ErrUnknownItem.
func (m *Recommender) Similar(itemID string, f Filter) (Result, error) {
	i, ok := m.cat.lookup(itemID)
	if !ok {
		return Result{}, fmt.Errorf("%w %q", ErrUnknownItem, itemID)
	}
	s := m.scratch.get()
	r, err := m.newRequest(s, f.Limit, f.ExcludeItemIDs, f.Category)
	defer func() { m.scratch.put(s, r.blocked) }()
	if err != nil {
		return Result{}, err
	}
	r.block(s, i)
	name := m.display(i)
	items := m.neighbours(s, &r, nil, m.similar, i, Reason{Kind: ReasonSimilar, ItemID: itemID, Text: "Customers who bought " + name + " also bought this"})
	items = m.neighbours(s, &r, items, m.together, i, Reason{Kind: ReasonBoughtTogether, ItemID: itemID, Text: "Often bought together with " + name})
	return Result{Items: m.fill(s, &r, items, m.trending())}, nil
}

// neighbours appends item i's allowed neighbours in nb, up to the limit.
func (m *Recommender) neighbours(s *scratch, r *request, items []Item, nb *itemsim.Neighbours, i int32, why Reason) []Item {
	if items == nil {
		items = make([]Item, 0, r.limit)
	}
	js, sc, _ := nb.Of(i)
	for k, j := range js {
		if len(items) >= r.limit {
			break
		}
		if m.allowed(s, r, j) {
			items = append(items, Item{ItemID: m.cat.ids[j], Name: m.cat.names[j], Score: float64(sc[k]), Reason: why})
			r.block(s, j)
		}
	}
	return items
}

// Basket returns items that go with a cart: bought together with its items
// (order co-occurrence), plus "because you bought" votes of the cart items
// at half weight, personalized by the customer's history when known.
func (m *Recommender) Basket(req BasketRequest) (Result, error) {
	if len(req.ItemIDs) == 0 || len(req.ItemIDs) > MaxBasketItems {
		return Result{}, fmt.Errorf("%w: %d cart items: want 1 to %d", ErrBadRequest, len(req.ItemIDs), MaxBasketItems)
	}
	s := m.scratch.get()
	r, err := m.newRequest(s, req.Limit, req.ExcludeItemIDs, req.Category)
	defer func() { m.scratch.put(s, r.blocked) }()
	if err != nil {
		return Result{}, err
	}
	var cart []int32
	for _, id := range req.ItemIDs {
		if i, ok := m.cat.lookup(id); ok && !slices.Contains(cart, i) {
			cart = append(cart, i)
			r.block(s, i)
		}
	}
	for _, i := range cart {
		nb, sc, _ := m.together.Of(i)
		for k, j := range nb {
			s.add(j, sc[k], i)
		}
		nb, sc, _ = m.personal.Of(i)
		for k, j := range nb {
			s.add(j, 0.5*sc[k], i)
		}
	}
	if req.CustomerID != "" {
		hist, found, err := m.hist.history(req.CustomerID, &s.hist)
		if err != nil {
			return Result{}, fmt.Errorf("recommend: customer %q: %w", req.CustomerID, err)
		}
		if found {
			for _, it := range hist.Items {
				r.block(s, it.Item) // a known customer gets what they have not bought
			}
			for _, c := range hist.CF {
				s.add(c.Item, 0.25*c.Score, c.From)
			}
		}
	}
	items := m.top(s, &r, func(j int32) Reason {
		f := s.from[j]
		if f < 0 {
			return popularReason
		}
		if slices.Contains(cart, f) {
			return Reason{Kind: ReasonBoughtTogether, ItemID: m.cat.ids[f], Text: "Goes with " + m.display(f) + " in your basket"}
		}
		return Reason{Kind: ReasonBecauseYouBought, ItemID: m.cat.ids[f], Text: m.cat.because[f]}
	})
	return Result{Items: m.fill(s, &r, items, m.trending())}, nil
}

// Popular returns trending items, then best sellers.
func (m *Recommender) Popular(f Filter) (Result, error) {
	s := m.scratch.get()
	r, err := m.newRequest(s, f.Limit, f.ExcludeItemIDs, f.Category)
	defer func() { m.scratch.put(s, r.blocked) }()
	if err != nil {
		return Result{}, err
	}
	items := m.fill(s, &r, nil, m.trending())
	return Result{Items: m.fill(s, &r, items, m.popular)}, nil
}
