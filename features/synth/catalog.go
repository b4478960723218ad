package synth

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// catalog is the item catalog: categories, Zipf popularity and the
// precomputed CSV fields of every item.
type catalog struct {
	catNames []string
	itemCat  []int32
	weight   []float64 // popularity weight, sums to 1
	cents    []int64   // unit price in cents

	global  alias   // items by popularity
	cats    alias   // categories by total popularity
	catItem []alias // within each category, by popularity
	members [][]int32

	// CSV fields, in one arena: item_id, unit_price, and "item_name,category".
	arena             []byte
	idOff, priceOff   []int32 // start of item i's id / price in arena
	tailOff, tailOffE []int32 // start and end of "name,category"
}

// categoryWords name the first categories; each comes with a noun for item names.
var categoryWords = [][2]string{
	{"Kitchen", "Mug"}, {"Garden", "Planter"}, {"Toys", "Puzzle"}, {"Books", "Notebook"},
	{"Lighting", "Lamp"}, {"Bath", "Towel"}, {"Bedding", "Pillow"}, {"Stationery", "Pen Set"},
	{"Party", "Balloon Pack"}, {"Christmas", "Ornament"}, {"Candles", "Candle"}, {"Storage", "Box"},
	{"Jewellery", "Bracelet"}, {"Bags", "Tote Bag"}, {"Baking", "Cake Tin"}, {"Tableware", "Plate"},
	{"Home Decor", "Vase"}, {"Pets", "Collar"}, {"Outdoor", "Lantern"}, {"Crafts", "Craft Kit"},
	{"Clocks", "Clock"}, {"Textiles", "Cushion"}, {"Cards", "Greeting Card"}, {"Kids", "Backpack"},
	{"Beauty", "Soap"}, {"Wall Art", "Print"}, {"Drinkware", "Glass"}, {"Travel", "Pouch"},
	{"Office", "Folder"}, {"Tools", "Trowel"}, {"Picnic", "Basket"}, {"Games", "Card Game"},
	{"Sports", "Water Bottle"}, {"Electronics", "Charger"}, {"Fashion", "Scarf"}, {"Slippers", "Slipper"},
	{"Sweets", "Chocolate Box"}, {"Coffee", "Coffee Tin"}, {"Plants", "Seed Kit"}, {"Baby", "Blanket"},
}

var adjectives = []string{
	"Red", "Blue", "Green", "White", "Black", "Pink", "Vintage", "Retro",
	"Small", "Large", "Wooden", "Glass", "Ceramic", "Enamel", "Floral", "Striped",
}

// firstItemID is the id of item 0; ids are decimal numbers from here, so
// they never collide with the non-product codes (POST, M, D, ...).
const firstItemID = 100001

func newCatalog(cfg *Config) *catalog {
	r := stream(cfg.Seed, keyCatalog)
	n, k := cfg.Items, cfg.Categories
	c := &catalog{
		catNames: make([]string, k),
		itemCat:  make([]int32, n),
		weight:   make([]float64, n),
		cents:    make([]int64, n),
	}
	nouns := make([]string, k)
	for j := range k {
		if j < len(categoryWords) {
			c.catNames[j], nouns[j] = categoryWords[j][0], categoryWords[j][1]
		} else {
			c.catNames[j], nouns[j] = "Category "+strconv.Itoa(j+1), "Item"
		}
	}

	// Popularity: rank^-s over a random permutation of the items.
	rank := r.Perm(n)
	sum := 0.0
	for i := range n {
		c.weight[i] = math.Pow(float64(rank[i]+1), -cfg.ZipfExponent)
		sum += c.weight[i]
	}
	for i := range c.weight {
		c.weight[i] /= sum
	}

	// Categories of different sizes (weight j^-0.7); every category gets
	// at least one item.
	catSize := make([]float64, k)
	for j := range catSize {
		catSize[j] = math.Pow(float64(j+1), -0.7)
	}
	sizes := newAlias(catSize)
	order := r.Perm(n)
	for idx, i := range order {
		if idx < k {
			c.itemCat[i] = int32(idx)
		} else {
			c.itemCat[i] = int32(sizes.draw(r))
		}
	}
	c.members = make([][]int32, k)
	catWeight := make([]float64, k)
	for i := range n {
		j := c.itemCat[i]
		c.members[j] = append(c.members[j], int32(i))
		catWeight[j] += c.weight[i]
	}
	c.global = newAlias(c.weight)
	c.cats = newAlias(catWeight)
	c.catItem = make([]alias, k)
	w := make([]float64, 0, n)
	for j, m := range c.members {
		w = w[:0]
		for _, i := range m {
			w = append(w, c.weight[i])
		}
		c.catItem[j] = newAlias(w)
	}

	// Prices: log-normal around a category level (median 3-30).
	catMu := make([]float64, k)
	for j := range catMu {
		catMu[j] = math.Log(8) + 0.6*r.NormFloat64()
	}
	for i := range n {
		p := math.Exp(catMu[c.itemCat[i]] + 0.5*r.NormFloat64())
		c.cents[i] = max(19, int64(math.Round(p*100)))
	}

	// CSV fields.
	c.idOff = make([]int32, n)
	c.priceOff = make([]int32, n)
	c.tailOff = make([]int32, n)
	c.tailOffE = make([]int32, n)
	c.arena = make([]byte, 0, n*40)
	for i := range n {
		c.idOff[i] = int32(len(c.arena))
		c.arena = strconv.AppendInt(c.arena, int64(firstItemID+i), 10)
		c.priceOff[i] = int32(len(c.arena))
		c.arena = appendCents(c.arena, c.cents[i])
		c.tailOff[i] = int32(len(c.arena))
		j := c.itemCat[i]
		c.arena = append(c.arena, adjectives[r.IntN(len(adjectives))]...)
		c.arena = append(c.arena, ' ')
		c.arena = append(c.arena, nouns[j]...)
		c.arena = append(c.arena, ' ')
		c.arena = strconv.AppendInt(c.arena, int64(i+1), 10)
		c.arena = append(c.arena, ',')
		c.arena = append(c.arena, c.catNames[j]...)
		c.tailOffE[i] = int32(len(c.arena))
	}
	return c
}

func (c *catalog) id(i int32) []byte    { return c.arena[c.idOff[i]:c.priceOff[i]] }
func (c *catalog) price(i int32) []byte { return c.arena[c.priceOff[i]:c.tailOff[i]] }
func (c *catalog) tail(i int32) []byte  { return c.arena[c.tailOff[i]:c.tailOffE[i]] }

// drawIn draws an item of category j by popularity.
func (c *catalog) drawIn(r *rand.Rand, j int) int32 {
	return c.members[j][c.catItem[j].draw(r)]
}

// appendCents formats an amount in cents as "12.50".
func appendCents(b []byte, cents int64) []byte {
	b = strconv.AppendInt(b, cents/100, 10)
	f := cents % 100
	return append(b, '.', byte('0'+f/10), byte('0'+f%10))
}
