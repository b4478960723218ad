package recommend

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/patron-crm/patron/internal/parallel"
	"github.com/patron-crm/patron/models/buyagain"
	"github.com/patron-crm/patron/models/itemsim"
	"github.com/patron-crm/patron/models/popular"
	"github.com/patron-crm/patron/models/registry"
)

// Bundle tables written by Write and read by Open.
const (
	MetaTable      = "recommend/meta"      // "params": JSON; "catalog": item ids, names, categories
	PersonalTable  = "recommend/personal"  // "because you bought" neighbours
	SimilarTable   = "recommend/similar"   // customer co-occurrence (cosine)
	TogetherTable  = "recommend/together"  // order co-occurrence
	CustomersTable = "recommend/customers" // one History per customer id
)

// Tables are the tables Open needs; a bundle without them is not servable.
func Tables() []string {
	return []string{MetaTable, PersonalTable, SimilarTable, TogetherTable, CustomersTable, popular.Table}
}

// meta is the JSON record of parameters.
type meta struct {
	AsOf     int64  `json:"as_of_unix"`
	Params   Params `json:"params"`
	FellBack string `json:"fell_back,omitempty"`
	Items    int    `json:"items"`
}

// Write stores the recommender in a bundle: its models, the catalog and
// every customer's history (computed here, once, so a request reads one record).
func (m *Recommender) Write(w Writer) error {
	dh, ok := m.hist.(*datasetHistories)
	if !ok {
		return errors.New("recommend: Write needs a recommender built by Fit")
	}
	mj, err := json.Marshal(meta{AsOf: m.AsOf.Unix(), Params: m.Params, FellBack: m.FellBack, Items: len(m.cat.ids)})
	if err != nil {
		return fmt.Errorf("recommend: encode params: %w", err)
	}
	if err := w.Put(MetaTable, []byte("params"), mj); err != nil {
		return err
	}
	if err := w.Put(MetaTable, []byte("catalog"), appendCatalog(nil, &m.cat)); err != nil {
		return err
	}
	for _, t := range []struct {
		table string
		nb    *itemsim.Neighbours
	}{{PersonalTable, m.personal}, {SimilarTable, m.similar}, {TogetherTable, m.together}} {
		if err := t.nb.Write(w, t.table); err != nil {
			return err
		}
	}
	if err := m.popular.Write(w, "all"); err != nil {
		return err
	}
	if err := m.trending().Write(w, "trending"); err != nil {
		return err
	}
	// Customer histories: encoded on every core, written in id order.
	ds := dh.ds
	type scratch struct {
		sc    *buyagain.Scratch
		cands []buyagain.Item
		h     History
	}
	work := make([]scratch, parallel.Workers())
	for i := range work {
		work[i].sc = dh.scorer.NewScratch()
	}
	return parallel.OrderedPut(ds.Customers.Len(), func(wk, c int, key, val []byte) ([]byte, []byte, bool) {
		if len(ds.CustomerOrders.Of(c)) == 0 {
			return key, val, false
		}
		x := &work[wk]
		x.cands = dh.build(int32(c), x.sc, x.cands, &x.h, voteServe)
		return append(key, ds.Customers.Name(int32(c))...), appendHistory(val, &x.h), true
	}, func(key, val []byte) error {
		return w.Put(CustomersTable, key, val)
	})
}

// storeHistories reads histories from a bundle, through a cache of the
// recently read ones (nil: none).
type storeHistories struct {
	st     Store
	nItems int
	cache  *recordCache
}

func (s *storeHistories) history(customerID string, buf *History) (History, bool, error) {
	if h, ok := s.cache.get(customerID); ok {
		return h, true, nil
	}
	err := s.st.Get(CustomersTable, []byte(customerID), func(val []byte) error {
		return decodeHistory(val, s.nItems, buf)
	})
	if errors.Is(err, registry.ErrNotFound) {
		return History{}, false, nil
	}
	if err != nil {
		return History{}, false, err
	}
	s.cache.put(customerID, buf)
	return *buf, true, nil
}

// OpenOptions tune Open.
type OpenOptions struct {
	// HistoryCacheBytes bounds the memory of the cache of recently read
	// customer histories (0: DefaultHistoryCacheBytes; negative: no cache).
	HistoryCacheBytes int64
}

// Open loads a bundle's recommendation tables: the catalog, neighbour lists
// and rankings into memory; customer histories stay in the bundle, the
// recently read ones cached (see OpenOptions).
func Open(st Store) (*Recommender, error) {
	return OpenWith(st, OpenOptions{})
}

// OpenWith is Open with options.
func OpenWith(st Store, opts OpenOptions) (*Recommender, error) {
	var mt meta
	err := st.Get(MetaTable, []byte("params"), func(val []byte) error { return json.Unmarshal(val, &mt) })
	if err != nil {
		return nil, fmt.Errorf("recommend: read params: %w", err)
	}
	m := &Recommender{Params: mt.Params, FellBack: mt.FellBack}
	m.AsOf = unixTime(mt.AsOf)
	err = st.Get(MetaTable, []byte("catalog"), func(val []byte) error { return decodeCatalog(val, &m.cat) })
	if err != nil {
		return nil, fmt.Errorf("recommend: read catalog: %w", err)
	}
	m.cat.buildReasons()
	n := len(m.cat.ids)
	if m.personal, err = loadNeighbours(st, PersonalTable, n); err != nil {
		return nil, err
	}
	if m.similar, err = loadNeighbours(st, SimilarTable, n); err != nil {
		return nil, err
	}
	if m.together, err = loadNeighbours(st, TogetherTable, n); err != nil {
		return nil, err
	}
	if m.popular, err = popular.Load(st, "all", n); err != nil {
		return nil, err
	}
	if m.decayed, err = popular.Load(st, "trending", n); err != nil {
		return nil, err
	}
	cacheBytes := opts.HistoryCacheBytes
	if cacheBytes == 0 {
		cacheBytes = DefaultHistoryCacheBytes
	}
	m.hist = &storeHistories{st: st, nItems: n, cache: newRecordCache(cacheBytes)}
	m.scratch.n = n
	return m, nil
}

func loadNeighbours(st Store, table string, nItems int) (*itemsim.Neighbours, error) {
	nb, err := itemsim.Load(st, table)
	if err != nil {
		return nil, fmt.Errorf("recommend: %w", err)
	}
	if nb.Len() != nItems {
		return nil, fmt.Errorf("recommend: %s has %d items, the catalog %d", table, nb.Len(), nItems)
	}
	return nb, nil
}

// Catalog record: the item count, then per item its id, name and category
// as length-prefixed strings.
func appendCatalog(b []byte, c *catalog) []byte {
	b = binary.AppendUvarint(b, uint64(len(c.ids)))
	for i, id := range c.ids {
		for _, s := range []string{id, c.names[i], c.cats[i]} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return b
}

var errCorruptCatalog = errors.New("corrupt catalog record")

func decodeCatalog(b []byte, c *catalog) error {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return errCorruptCatalog
	}
	b = b[k:]
	c.ids, c.names, c.cats = make([]string, n), make([]string, n), make([]string, n)
	c.index = make(map[string]int32, n)
	for i := range c.ids {
		for _, dst := range []*string{&c.ids[i], &c.names[i], &c.cats[i]} {
			l, k := binary.Uvarint(b)
			if k <= 0 || uint64(len(b)-k) < l {
				return errCorruptCatalog
			}
			*dst = string(b[k : k+int(l)])
			b = b[k+int(l):]
		}
		c.index[c.ids[i]] = int32(i)
	}
	if len(b) != 0 {
		return errCorruptCatalog
	}
	return nil
}

func unixTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
