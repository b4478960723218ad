// Package recommend is what storefronts ask: personalized recommendations,
// similar items, items that go with a cart, and popular items, each with a
// reason a shop can show. It combines the models trained into a bundle with
// blend weights chosen on a validation split at training time:
//
//   - "because you bought": a customer's items, weighted by recency
//     (w_i = 2^(-age_i / HistoryHalfLife)), vote through an item-item model
//     (EASE, RP3beta or cosine kNN; see models/ease and models/itemsim):
//     cf(j) = sum_i w_i s_ij over the customer's HistoryMax heaviest items,
//     computed once per customer when the bundle is written (History.CF), so
//     a request reads one record and filters at most a few hundred items;
//   - "time to reorder": with IncludePurchased, the buy-again score of
//     models/buyagain is added: score(j) = cf(j)/max cf + RebuyWeight rebuy(j)/max rebuy;
//   - "bought together": co-occurrence in orders, guest orders included;
//   - "similar": co-occurrence across customers (cosine);
//   - "popular": trending items (decayed popularity) for cold start and to
//     fill short lists.
//
// A Model is built in memory by Fit (training and evaluation use it as it
// is) and written to a bundle; Open reads it back for serving. Both answer
// through the same code, so what is evaluated is what is served.
package recommend

import (
	"fmt"
	"sync"
	"time"

	"github.com/patron-crm/patron/features"
	"github.com/patron-crm/patron/models/buyagain"
	"github.com/patron-crm/patron/models/ease"
	"github.com/patron-crm/patron/models/itemsim"
	"github.com/patron-crm/patron/models/popular"
)

// Store reads bundle tables; *registry.Bundle is one.
type Store interface {
	Get(table string, key []byte, fn func(val []byte) error) error
	Scan(table string, fn func(key, val []byte) error) error
}

// Writer stores table rows; *registry.Builder is one.
type Writer interface {
	Put(table string, key, val []byte) error
}

// Personal models.
const (
	ModelEASE    = "ease"
	ModelRP3Beta = "rp3beta"
	ModelCosine  = "cosine"
	// ModelPopular recommends trending items only: the popularity baseline.
	ModelPopular = "popular"
)

// Params configure Fit. Training chooses them by validation.
type Params struct {
	// Personal is the "because you bought" model: ease, rp3beta or cosine.
	Personal string `json:"personal"`
	// EASE is used when Personal is ease; DecayDays weights each
	// customer x item entry by 2^(-age/DecayDays) (0: binary).
	EASE          ease.Params `json:"ease"`
	EASEDecayDays float64     `json:"ease_decay_days"`
	// RP3Beta and Cosine configure the sparse models.
	RP3Beta itemsim.Params `json:"rp3beta"`
	Cosine  itemsim.Params `json:"cosine"`
	// Together configures "bought together" (order baskets).
	Together itemsim.Params `json:"together"`
	// HistoryHalfLife (days) weights a customer's items by recency; 0: equal.
	HistoryHalfLife float64 `json:"history_half_life_days"`
	// HistoryMax bounds the items that vote, so a request is bounded work.
	HistoryMax int `json:"history_max"`
	// RebuyWeight blends buy-again scores in when purchased items are included.
	RebuyWeight float64         `json:"rebuy_weight"`
	BuyAgain    buyagain.Params `json:"buy_again"`
	// TrendingHalfLife (days) decays popularity for the trending list.
	TrendingHalfLife float64 `json:"trending_half_life_days"`
}

// DefaultParams are the starting point of the validation search.
func DefaultParams() Params {
	return Params{
		Personal:         ModelEASE,
		EASE:             ease.Params{Lambda: 300, K: 100, MinCustomers: 20, MaxItems: 5000},
		EASEDecayDays:    30,
		RP3Beta:          itemsim.Params{Kind: itemsim.RP3Beta, K: 100, Alpha: 0.5, Beta: 0.5},
		Cosine:           itemsim.Params{Kind: itemsim.Cosine, K: 100, Shrink: 10},
		Together:         itemsim.Params{Kind: itemsim.Cosine, K: 50, Shrink: 5, MinSupport: 2},
		HistoryHalfLife:  60,
		HistoryMax:       200,
		RebuyWeight:      1,
		BuyAgain:         buyagain.Params{HalfLifeGaps: 8, RepeatPower: 0.5, TrendPower: 0.2, BuyersPower: 0.2},
		TrendingHalfLife: 30,
	}
}

// Recommender is a trained recommender. Its methods are safe for concurrent use.
type Recommender struct {
	AsOf   time.Time `json:"as_of"`
	Params Params    `json:"params"`
	// FellBack names the model used when the chosen personal model could
	// not be fitted (e.g. EASE on a catalog above its size limit), with why.
	FellBack string `json:"fell_back,omitempty"`

	cat                         catalog
	personal, similar, together *itemsim.Neighbours
	// popular ranks by orders, decayed by orders decayed over
	// TrendingHalfLife (see trending).
	popular, decayed *popular.Model
	rr               reranking
	hist             historySource
	scratch          scratchPool
}

// trending is the ranking that fills lists and answers cold starts: the
// decayed one, or plain popularity for the popularity baseline.
func (m *Recommender) trending() *popular.Model {
	if m.Params.Personal == ModelPopular {
		return m.popular
	}
	return m.decayed
}

// catalog holds the items in the bundle's dense order.
type catalog struct {
	ids, names, cats []string
	index            map[string]int32
	// because[i] is "Because you bought <item i>", built once so that the
	// reason of every request does not concatenate it again.
	because []string
}

// buildReasons fills c.because.
func (c *catalog) buildReasons() {
	c.because = make([]string, len(c.ids))
	for i := range c.ids {
		c.because[i] = "Because you bought " + c.display(int32(i))
	}
}

// display names an item for a reason: its name, else its id.
func (c *catalog) display(i int32) string {
	if n := c.names[i]; n != "" {
		return n
	}
	return c.ids[i]
}

func (c *catalog) lookup(id string) (int32, bool) {
	i, ok := c.index[id]
	return i, ok
}

// Fit trains every recommendation model on ds as of asOf (only orders
// before asOf are used).
func Fit(ds *features.Dataset, asOf time.Time, p Params) (*Recommender, error) {
	return fit(ds, asOf, p, true)
}

// FitForRanking is Fit without the item lists of Similar and Basket (they
// stay empty): enough for ForCustomer, which is all that ranking
// evaluations ask, at a fraction of the cost.
func FitForRanking(ds *features.Dataset, asOf time.Time, p Params) (*Recommender, error) {
	return fit(ds, asOf, p, false)
}

func fit(ds *features.Dataset, asOf time.Time, p Params, itemLists bool) (*Recommender, error) {
	if asOf.Before(ds.Summary.Last) || asOf.Equal(ds.Summary.Last) {
		ds = ds.Before(asOf)
	}
	m := &Recommender{AsOf: asOf, Params: p}
	m.cat = catalog{ids: ds.Items.Names(), names: ds.ItemName, cats: ds.ItemCategory, index: make(map[string]int32, ds.Items.Len())}
	m.cat.buildReasons()
	for i, id := range m.cat.ids {
		m.cat.index[id] = int32(i)
	}
	// The personal model (EASE leaves a core idle much of the time) is
	// fitted beside the item lists.
	var wg sync.WaitGroup
	var personalErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.personal, personalErr = fitPersonal(ds, asOf, &m.Params, &m.FellBack)
	}()
	empty := &itemsim.Neighbours{Ptr: make([]int, ds.Items.Len()+1)}
	m.similar, m.together = empty, empty
	var err error
	if itemLists {
		if m.similar, err = itemsim.Fit(itemsim.CustomerBaskets(ds), p.Cosine); err != nil {
			err = fmt.Errorf("recommend: similar items: %w", err)
		} else if m.together, err = itemsim.Fit(itemsim.OrderBaskets(ds), p.Together); err != nil {
			err = fmt.Errorf("recommend: bought together: %w", err)
		}
	}
	wg.Wait()
	if personalErr != nil {
		return nil, personalErr
	}
	if err != nil {
		return nil, err
	}
	m.popular = popular.Fit(ds, asOf, 0)
	m.decayed = popular.Fit(ds, asOf, time.Duration(p.TrendingHalfLife*24*float64(time.Hour)))
	m.rr = reranking{items: newItemStats(ds, asOf), trending: m.trending().Items}
	dh := newDatasetHistories(ds, asOf, m.Params, m.personal, m.rr, nil)
	if !itemLists {
		// Ranking evaluations ask for the same customers again.
		dh.cache = newRecordCache(evaluationCacheBytes)
	}
	m.hist = dh
	m.scratch.n = len(m.cat.ids)
	return m, nil
}

// fitPersonal fits the "because you bought" model, falling back from EASE
// to RP3beta when the catalog is too large for a dense model.
// On a fallback it sets p.Personal to the model actually fitted.
func fitPersonal(ds *features.Dataset, asOf time.Time, p *Params, fellBack *string) (*itemsim.Neighbours, error) {
	switch p.Personal {
	case ModelEASE:
		x := &ds.CustomerItems
		var w []float64
		if p.EASEDecayDays > 0 {
			w = decayedWeights(ds, asOf, p.EASEDecayDays)
		}
		nb, err := ease.FitMatrix(x, w, p.EASE)
		if err == nil {
			return nb, nil
		}
		*fellBack = fmt.Sprintf("rp3beta instead of ease: %v", err)
		p.Personal = ModelRP3Beta
		return itemsim.Fit(itemsim.CustomerBaskets(ds), p.RP3Beta)
	case ModelRP3Beta:
		return itemsim.Fit(itemsim.CustomerBaskets(ds), p.RP3Beta)
	case ModelCosine:
		return itemsim.Fit(itemsim.CustomerBaskets(ds), p.Cosine)
	case ModelPopular:
		return &itemsim.Neighbours{Ptr: make([]int, ds.Items.Len()+1)}, nil
	}
	return nil, fmt.Errorf("recommend: unknown personal model %q (want ease, rp3beta, cosine or popular)", p.Personal)
}

// WithPersonal returns a copy of m with another personal model, refitting
// only that model (the similar, together and popularity models are shared),
// without re-ranking (a re-ranker is fitted to one personal model's votes).
// m must come from Fit.
func (m *Recommender) WithPersonal(p Params) (*Recommender, error) {
	dh := m.hist.(*datasetHistories)
	c := &Recommender{AsOf: m.AsOf, Params: p, cat: m.cat, similar: m.similar, together: m.together,
		popular: m.popular, decayed: m.decayed, rr: m.rr}
	c.rr.model = nil
	var err error
	if c.personal, err = fitPersonal(dh.ds, m.AsOf, &c.Params, &c.FellBack); err != nil {
		return nil, err
	}
	if c.Params.Personal == ModelPopular {
		c.rr.trending = c.trending().Items
	}
	ch := newDatasetHistories(dh.ds, m.AsOf, c.Params, c.personal, c.rr, dh.scorer.Signals().Rates)
	if dh.cache != nil {
		ch.cache = newRecordCache(evaluationCacheBytes)
	}
	c.hist = ch
	c.scratch.n = m.scratch.n
	return c, nil
}

// WithBlend returns a copy of m that weights customer histories with a new
// half-life and blends buy-again with a new weight, without refitting the
// models: validation tries several blends on one fit. m must come from Fit.
func (m *Recommender) WithBlend(historyHalfLife, rebuyWeight float64) *Recommender {
	p := m.Params
	p.HistoryHalfLife, p.RebuyWeight = historyHalfLife, rebuyWeight
	return m.WithParams(p)
}

// WithParams returns a copy of m with other blend parameters (history
// weighting, buy-again), without refitting models (the re-ranker is kept).
// m must come from Fit.
func (m *Recommender) WithParams(p Params) *Recommender {
	q := m.Params
	q.HistoryHalfLife, q.RebuyWeight, q.BuyAgain, q.HistoryMax = p.HistoryHalfLife, p.RebuyWeight, p.BuyAgain, p.HistoryMax
	return m.derive(q, m.rr)
}

// derive returns a copy of m, sharing its fitted models, with parameters p
// and re-ranking rr. m must come from Fit.
func (m *Recommender) derive(p Params, rr reranking) *Recommender {
	c := &Recommender{AsOf: m.AsOf, Params: p, FellBack: m.FellBack, cat: m.cat,
		personal: m.personal, similar: m.similar, together: m.together, popular: m.popular, decayed: m.decayed, rr: rr}
	dm := m.hist.(*datasetHistories)
	dc := newDatasetHistories(dm.ds, m.AsOf, p, c.personal, rr, dm.scorer.Signals().Rates)
	if dm.cache != nil {
		// A copy for ranking evaluations shares the cache when its
		// histories are the same (e.g. only the buy-again weight changed).
		dc.cache = newRecordCache(evaluationCacheBytes)
		if dc.sameHistories(dm) {
			dc.cache = dm.cache
		}
	}
	c.hist = dc
	c.scratch.n = m.scratch.n
	return c
}
