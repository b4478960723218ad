package serving

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/patron-crm/patron/models/recommend"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// Recommendation request limits; the model package owns them, the API
// documents them in patron.proto.
const (
	DefaultLimit   = recommend.DefaultLimit
	MaxLimit       = recommend.MaxLimit
	MaxExclude     = recommend.MaxExclude
	MaxBasketItems = recommend.MaxBasketItems
)

// recommendationService implements patronv1.RecommendationServiceServer on
// the recommender of the current bundle.
type recommendationService struct {
	patronv1.UnimplementedRecommendationServiceServer
	s *Server
}

// GetRecommendations recommends items for a customer; an unknown customer
// gets popular items with cold_start set.
func (r *recommendationService) GetRecommendations(ctx context.Context, req *patronv1.GetRecommendationsRequest) (*patronv1.RecommendationsResponse, error) {
	id := req.GetCustomerId()
	if err := checkID("customer_id", id); err != nil {
		return nil, err
	}
	return r.answer(req.Limit, req.GetExcludeItemIds(), req.GetCategory(), func(l *loadedBundle, limit int) (recommend.Result, error) {
		return l.recs.ForCustomer(recommend.Request{
			CustomerID:       id,
			Limit:            limit,
			IncludePurchased: req.GetIncludePurchased(),
			ExcludeItemIDs:   req.GetExcludeItemIds(),
			Category:         req.GetCategory(),
		})
	})
}

// GetSimilarItems returns items related to an item; an item not in the
// bundle's catalog is NOT_FOUND.
func (r *recommendationService) GetSimilarItems(ctx context.Context, req *patronv1.GetSimilarItemsRequest) (*patronv1.RecommendationsResponse, error) {
	id := req.GetItemId()
	if err := checkID("item_id", id); err != nil {
		return nil, err
	}
	return r.answer(req.Limit, req.GetExcludeItemIds(), req.GetCategory(), func(l *loadedBundle, limit int) (recommend.Result, error) {
		res, err := l.recs.Similar(id, recommend.Filter{Limit: limit, ExcludeItemIDs: req.GetExcludeItemIds(), Category: req.GetCategory()})
		if errors.Is(err, recommend.ErrUnknownItem) {
			return res, notFound("item", id, l)
		}
		return res, err
	})
}

// RecommendBasket returns items that go with a cart.
func (r *recommendationService) RecommendBasket(ctx context.Context, req *patronv1.RecommendBasketRequest) (*patronv1.RecommendationsResponse, error) {
	items := req.GetItemIds()
	switch {
	case len(items) == 0:
		return nil, status.Errorf(codes.InvalidArgument, "item_ids is empty: send the cart's item ids (1 to %d)", MaxBasketItems)
	case len(items) > MaxBasketItems:
		return nil, status.Errorf(codes.InvalidArgument, "item_ids has %d ids; a cart is at most %d items", len(items), MaxBasketItems)
	}
	if err := checkIDs("item_ids", items); err != nil {
		return nil, err
	}
	if c := req.GetCustomerId(); c != "" {
		if err := checkID("customer_id", c); err != nil {
			return nil, err
		}
	}
	return r.answer(req.Limit, req.GetExcludeItemIds(), req.GetCategory(), func(l *loadedBundle, limit int) (recommend.Result, error) {
		return l.recs.Basket(recommend.BasketRequest{
			ItemIDs:        items,
			CustomerID:     req.GetCustomerId(),
			Limit:          limit,
			ExcludeItemIDs: req.GetExcludeItemIds(),
			Category:       req.GetCategory(),
		})
	})
}

// ListPopularItems returns trending items, then best sellers.
func (r *recommendationService) ListPopularItems(ctx context.Context, req *patronv1.ListPopularItemsRequest) (*patronv1.RecommendationsResponse, error) {
	return r.answer(req.Limit, nil, req.GetCategory(), func(l *loadedBundle, limit int) (recommend.Result, error) {
		return l.recs.Popular(recommend.Filter{Limit: limit, Category: req.GetCategory()})
	})
}

// answer checks the fields every recommendation request shares, then runs
// ask on the current bundle with the limit to use and maps its result.
func (r *recommendationService) answer(limit *int32, exclude []string, category string, ask func(l *loadedBundle, limit int) (recommend.Result, error)) (*patronv1.RecommendationsResponse, error) {
	n, err := checkLimit(limit)
	if err != nil {
		return nil, err
	}
	if err := checkFilter(exclude, category); err != nil {
		return nil, err
	}
	l, err := r.s.acquire()
	if err != nil {
		return nil, err
	}
	defer r.s.release(l)
	res, err := ask(l, n)
	if err != nil {
		return nil, r.s.recommendError(l, err)
	}
	return recommendationsProto(res, l), nil
}

// checkLimit validates an optional limit: absent or 0 is the default,
// otherwise 1..MaxLimit.
func checkLimit(limit *int32) (int, error) {
	if limit == nil || *limit == 0 {
		return DefaultLimit, nil
	}
	if n := *limit; n < 1 || n > MaxLimit {
		return 0, status.Errorf(codes.InvalidArgument, "limit is %d; use 1..%d (0 or absent: %d)", n, MaxLimit, DefaultLimit)
	}
	return int(*limit), nil
}

// checkFilter validates the exclusion list and category of a request.
func checkFilter(exclude []string, category string) error {
	if len(exclude) > MaxExclude {
		return status.Errorf(codes.InvalidArgument, "exclude_item_ids has %d ids; at most %d are accepted", len(exclude), MaxExclude)
	}
	if err := checkIDs("exclude_item_ids", exclude); err != nil {
		return err
	}
	if category != "" {
		return checkID("category", category)
	}
	return nil
}

// checkIDs validates each id of a list, naming the first bad one by index.
func checkIDs(field string, ids []string) error {
	for i, id := range ids {
		if id == "" {
			return status.Errorf(codes.InvalidArgument, "%s[%d] is empty; remove it or give an id", field, i)
		}
		if err := checkID(fmt.Sprintf("%s[%d]", field, i), id); err != nil {
			return err
		}
	}
	return nil
}

// recommendError maps an error of the recommender to a status: a status
// already made passes through, a request the model rejects is
// INVALID_ARGUMENT, anything else INTERNAL (logged).
func (s *Server) recommendError(l *loadedBundle, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	if errors.Is(err, recommend.ErrBadRequest) {
		return status.Errorf(codes.InvalidArgument, "%v", err)
	}
	s.log.Error("recommend", "version", int64(l.manifest.Version), "err", err)
	return status.Errorf(codes.Internal, "model bundle v%d: %v", l.manifest.Version, err)
}

// recommendationsProto maps a result to the API. The items and their
// reasons are allocated in two blocks rather than two per item.
func recommendationsProto(res recommend.Result, l *loadedBundle) *patronv1.RecommendationsResponse {
	n := len(res.Items)
	items := make([]patronv1.RecommendedItem, n)
	reasons := make([]patronv1.Reason, n)
	out := &patronv1.RecommendationsResponse{
		Items:        make([]*patronv1.RecommendedItem, n),
		ModelVersion: int64(l.manifest.Version),
		ColdStart:    res.ColdStart,
	}
	for k := range res.Items {
		it := &res.Items[k]
		rs := &reasons[k]
		rs.Kind, rs.ItemId, rs.Text = string(it.Reason.Kind), it.Reason.ItemID, it.Reason.Text
		p := &items[k]
		p.ItemId, p.Name, p.Score, p.Reason = it.ItemID, it.Name, it.Score, rs
		out.Items[k] = p
	}
	return out
}
