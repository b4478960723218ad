package serving

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/patron-crm/patron/models/profiles"
	"github.com/patron-crm/patron/models/registry"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// Request limits.
const (
	// MaxIDBytes is the longest customer or item id accepted.
	MaxIDBytes = 256
	// DefaultRecentOrders is how many recent orders GetCustomer returns
	// when the request does not say; MaxRecentOrders is the most it returns.
	DefaultRecentOrders = 10
	MaxRecentOrders     = 100
)

// services are the gRPC service implementations; the same values serve REST
// through the gateway.
type services struct {
	models    *modelService
	customers *customerService
	items     *itemService
	recs      *recommendationService
}

func (s *Server) services() services {
	return services{&modelService{s: s}, &customerService{s: s}, &itemService{s: s}, &recommendationService{s: s}}
}

// acquire returns the current bundle with a reference held, or an
// UNAVAILABLE status saying how to get one. The caller releases it.
func (s *Server) acquire() (*loadedBundle, error) {
	if l := s.cur.acquire(); l != nil {
		return l, nil
	}
	return nil, s.unavailable()
}

// unavailable is the UNAVAILABLE status given while no bundle is loaded.
func (s *Server) unavailable() error {
	if why := s.refusal.Load(); why != nil {
		return status.Errorf(codes.Unavailable,
			"no model bundle is loaded: %s; activate a good one with `patron models activate VERSION --data-dir %s` or train a new one (details in the server log)",
			*why, s.reg.Dir())
	}
	return status.Errorf(codes.Unavailable,
		"no model bundle is active yet: run `patron train --orders FILE --data-dir %s`", s.reg.Dir())
}

// ValidateID checks an id (customer, item or category) against the API's
// rules: not empty, at most MaxIDBytes, valid UTF-8. The CLI applies the same
// rules to the ids it is given.
func ValidateID(id string) error {
	switch {
	case id == "":
		return errors.New("is empty")
	case len(id) > MaxIDBytes:
		return fmt.Errorf("is %d bytes long; ids are at most %d bytes", len(id), MaxIDBytes)
	case !utf8.ValidString(id):
		return errIDNotUTF8
	}
	return nil
}

var errIDNotUTF8 = errors.New("is not valid UTF-8")

// checkID validates a resource id from a request: INVALID_ARGUMENT naming
// the field. Only a REST path can carry an id that is not UTF-8 (gRPC
// refuses such strings itself), so that answer says how to encode one.
func checkID(field, id string) error {
	if id == "" {
		return status.Errorf(codes.InvalidArgument, "%s is required", field)
	}
	if err := ValidateID(id); errors.Is(err, errIDNotUTF8) {
		return status.Errorf(codes.InvalidArgument, "%s %v (percent-encode ids in URLs as UTF-8)", field, err)
	} else if err != nil {
		return status.Errorf(codes.InvalidArgument, "%s %v", field, err)
	}
	return nil
}

// readError maps a failed profile read to a status.
func (s *Server) readError(kind, id string, l *loadedBundle, err error) error {
	if errors.Is(err, registry.ErrNotFound) {
		return notFound(kind, id, l)
	}
	s.log.Error("read profile", "kind", kind, "id", id, "version", int64(l.manifest.Version), "err", err)
	return status.Errorf(codes.Internal, "read %s %q from model bundle v%d: %v", kind, id, l.manifest.Version, err)
}

// notFound is the NOT_FOUND status for an id the bundle does not know,
// naming the bundle version and its training date.
func notFound(kind, id string, l *loadedBundle) error {
	return status.Errorf(codes.NotFound, "%s %q not found in model bundle v%d (trained on orders before %s)",
		kind, id, l.manifest.Version, l.manifest.AsOf.Format(time.DateOnly))
}

// modelService implements patronv1.ModelServiceServer.
type modelService struct {
	patronv1.UnimplementedModelServiceServer
	s *Server
}

// GetActiveModel returns the bundle being served.
func (m *modelService) GetActiveModel(ctx context.Context, req *patronv1.GetActiveModelRequest) (*patronv1.Model, error) {
	l, err := m.s.acquire()
	if err != nil {
		return nil, err
	}
	defer m.s.release(l)
	return modelProto(l.manifest, l.manifestPB, true), nil
}

// ListModels returns the complete bundles of the data directory, oldest
// first. It answers even when no bundle is loaded, so an operator can see
// what there is to activate.
func (m *modelService) ListModels(ctx context.Context, req *patronv1.ListModelsRequest) (*patronv1.ListModelsResponse, error) {
	ms, err := m.s.reg.List()
	if err != nil {
		m.s.log.Error("list model bundles", "data_dir", m.s.reg.Dir(), "err", err)
		return nil, status.Errorf(codes.Internal, "list model bundles in %s: %v", m.s.reg.Dir(), err)
	}
	served := registry.Version(-1)
	if man, ok := m.s.Active(); ok {
		served = man.Version
	}
	resp := &patronv1.ListModelsResponse{Models: make([]*patronv1.Model, 0, len(ms))}
	for _, man := range ms {
		st, err := manifestStruct(man)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "%v", err)
		}
		resp.Models = append(resp.Models, modelProto(man, st, man.Version == served))
	}
	return resp, nil
}

func modelProto(m registry.Manifest, st *structpb.Struct, active bool) *patronv1.Model {
	return &patronv1.Model{
		Version:     int64(m.Version),
		Active:      active,
		CreateTime:  timestamp(m.CreatedAt),
		AsOfTime:    timestamp(m.AsOf),
		CodeVersion: m.CodeVersion,
		Manifest:    st,
	}
}

// customerService implements patronv1.CustomerServiceServer.
type customerService struct {
	patronv1.UnimplementedCustomerServiceServer
	s *Server
}

// GetCustomer returns a customer's history summary from the active bundle.
func (c *customerService) GetCustomer(ctx context.Context, req *patronv1.GetCustomerRequest) (*patronv1.Customer, error) {
	id := req.GetCustomerId()
	if err := checkID("customer_id", id); err != nil {
		return nil, err
	}
	recent := DefaultRecentOrders
	if req.RecentOrders != nil {
		n := req.GetRecentOrders()
		if n < 0 || n > MaxRecentOrders {
			return nil, status.Errorf(codes.InvalidArgument, "recent_orders is %d; use 0..%d (default %d)", n, MaxRecentOrders, DefaultRecentOrders)
		}
		recent = int(n)
	}
	l, err := c.s.acquire()
	if err != nil {
		return nil, err
	}
	defer c.s.release(l)
	cust, err := l.profiles.Customer(id)
	if err != nil {
		return nil, c.s.readError("customer", id, l, err)
	}
	return customerProto(&cust, l.manifest, recent), nil
}

// customerProto summarises a profile; recent is how many of the latest
// orders to include, newest first.
func customerProto(c *profiles.Customer, m registry.Manifest, recent int) *patronv1.Customer {
	spend, returned := c.Spend(), c.ReturnedValue()
	out := &patronv1.Customer{
		CustomerId:    c.ID,
		Country:       c.Country,
		OrderCount:    int64(len(c.Orders)),
		Spend:         money(spend),
		ReturnedValue: money(returned),
		NetValue:      money(spend - returned),
		ReturnCount:   int64(len(c.Returns)),
		DistinctItems: int64(c.DistinctItems),
		ModelVersion:  int64(m.Version),
		AsOfTime:      timestamp(m.AsOf),
	}
	if n := len(c.Orders); n > 0 {
		first, last := c.Orders[0].Time, c.Orders[n-1].Time
		out.FirstOrderTime = timestamp(first)
		out.LastOrderTime = timestamp(last)
		out.MeanOrderValue = money(spend / float64(n))
		if !m.AsOf.IsZero() {
			out.DaysSinceLastOrder = m.AsOf.Sub(last).Hours() / 24
		}
		recent = min(recent, n)
		out.RecentOrders = make([]*patronv1.OrderSummary, 0, recent)
		for i := n - 1; i >= n-recent; i-- {
			o := &c.Orders[i]
			out.RecentOrders = append(out.RecentOrders, &patronv1.OrderSummary{
				OrderId:   o.ID,
				OrderTime: timestamp(o.Time),
				Value:     money(o.Value),
				LineCount: int64(o.Lines),
				Quantity:  o.Quantity,
			})
		}
	}
	return out
}

// itemService implements patronv1.ItemServiceServer.
type itemService struct {
	patronv1.UnimplementedItemServiceServer
	s *Server
}

// GetItem returns an item's sales statistics from the active bundle.
func (i *itemService) GetItem(ctx context.Context, req *patronv1.GetItemRequest) (*patronv1.Item, error) {
	id := req.GetItemId()
	if err := checkID("item_id", id); err != nil {
		return nil, err
	}
	l, err := i.s.acquire()
	if err != nil {
		return nil, err
	}
	defer i.s.release(l)
	it, err := l.profiles.Item(id)
	if err != nil {
		return nil, i.s.readError("item", id, l, err)
	}
	return &patronv1.Item{
		ItemId:           it.ID,
		Name:             it.Name,
		Category:         it.Category,
		OrderCount:       it.Orders,
		CustomerCount:    it.Customers,
		Quantity:         it.Quantity,
		Revenue:          money(it.Revenue),
		ReturnedQuantity: it.ReturnedQuantity,
		FirstSoldTime:    timestamp(it.FirstSold),
		LastSoldTime:     timestamp(it.LastSold),
		ModelVersion:     int64(l.manifest.Version),
	}, nil
}

// timestamp converts t, leaving the zero time unset.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// money rounds an amount to cents: sums of prices carry float noise
// (31650.780000000002) that callers should not have to clean.
func money(x float64) float64 { return math.Round(x*100) / 100 }
