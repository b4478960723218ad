package recommend

import "errors"

// Limits of a request.
const (
	DefaultLimit = 10
	MaxLimit     = 100
	// MaxBasketItems bounds the cart of a basket request; MaxExclude the
	// exclusion list of any request.
	MaxBasketItems = 100
	MaxExclude     = 1000
)

// Errors callers test with errors.Is.
var (
	// ErrUnknownItem: the item is not in the bundle's catalog (Similar).
	ErrUnknownItem = errors.New("unknown item")
	// ErrBadRequest: a limit out of range, an empty or too long list.
	ErrBadRequest = errors.New("bad request")
)

// ReasonKind says why an item is recommended, in words a shop can show.
type ReasonKind string

// Reasons.
const (
	ReasonBecauseYouBought ReasonKind = "because_you_bought" // personalized, from one of the customer's items
	ReasonBoughtTogether   ReasonKind = "bought_together"    // often in the same order as an item of the cart / the page
	ReasonSimilar          ReasonKind = "similar"            // bought by the same customers as the item of the page
	ReasonTimeToReorder    ReasonKind = "time_to_reorder"    // the customer buys it repeatedly and is due
	ReasonPopular          ReasonKind = "popular"            // popular or trending (cold start, fill)
)

// Reason explains one recommended item.
type Reason struct {
	Kind ReasonKind
	// ItemID is the related item ("because you bought X"), empty for popular.
	ItemID string
	// Text is a sentence for a shop page, e.g. "Bought together with JUMBO BAG RED RETROSPOT".
	Text string
}

// Item is one recommended item.
type Item struct {
	ItemID string
	Name   string
	Score  float64
	Reason Reason
}

// Result is a list of recommended items, best first. An item never appears
// twice and never when the request excluded it.
type Result struct {
	Items []Item
	// ColdStart is set when the customer was unknown and the list is popular items.
	ColdStart bool
}

// Request asks for personalized recommendations.
type Request struct {
	CustomerID string
	// Limit is 1..MaxLimit; 0 means DefaultLimit.
	Limit int
	// IncludePurchased mixes items the customer bought before, ranked by how
	// due they are, with new ones. By default bought items are left out.
	IncludePurchased bool
	// ExcludeItemIDs are never returned.
	ExcludeItemIDs []string
	// Category, when set, keeps only items of that category.
	Category string
}

// BasketRequest asks for items that go with a cart.
type BasketRequest struct {
	ItemIDs []string // 1..MaxBasketItems; unknown ids are ignored
	// CustomerID, when set and known, personalizes the list and leaves out
	// what the customer already bought.
	CustomerID     string
	Limit          int
	ExcludeItemIDs []string
	Category       string
}

// Filter narrows Similar and Popular lists.
type Filter struct {
	Limit          int
	ExcludeItemIDs []string
	Category       string
}
