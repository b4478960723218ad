package serving

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/patron-crm/patron/models/value"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// withValues acquires the current bundle and checks it has a customer-value
// model (FAILED_PRECONDITION, with training's reason, when it has none).
func (c *customerService) withValues() (*loadedBundle, error) {
	l, err := c.s.acquire()
	if err != nil {
		return nil, err
	}
	if l.values == nil {
		c.s.release(l)
		return nil, status.Errorf(codes.FailedPrecondition, "model bundle v%d has no customer-value model: %s", l.manifest.Version, l.valuesMissing)
	}
	return l, nil
}

// valueError maps model errors to statuses.
func (c *customerService) valueError(id string, l *loadedBundle, err error) error {
	switch {
	case errors.Is(err, value.ErrBadRequest):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, value.ErrUnknownCustomer):
		return notFound("customer", id, l)
	}
	return c.s.readError("customer value", id, l, err)
}

// GetCustomerValue returns one customer's predicted value.
func (c *customerService) GetCustomerValue(ctx context.Context, req *patronv1.GetCustomerValueRequest) (*patronv1.CustomerValue, error) {
	id := req.GetCustomerId()
	if err := checkID("customer_id", id); err != nil {
		return nil, err
	}
	l, err := c.withValues()
	if err != nil {
		return nil, err
	}
	defer c.s.release(l)
	v, err := l.values.Get(id, int(req.GetHorizonDays()))
	if err != nil {
		return nil, c.valueError(id, l, err)
	}
	return valueProto(&v, l), nil
}

// BatchGetCustomerValues returns up to value.MaxBatch customers' values;
// unknown ids are reported, not an error.
func (c *customerService) BatchGetCustomerValues(ctx context.Context, req *patronv1.BatchGetCustomerValuesRequest) (*patronv1.BatchGetCustomerValuesResponse, error) {
	ids := req.GetCustomerIds()
	if len(ids) == 0 || len(ids) > value.MaxBatch {
		return nil, status.Errorf(codes.InvalidArgument, "customer_ids has %d ids; send 1 to %d per call", len(ids), value.MaxBatch)
	}
	if err := checkIDs("customer_ids", ids); err != nil {
		return nil, err
	}
	l, err := c.withValues()
	if err != nil {
		return nil, err
	}
	defer c.s.release(l)
	vals, missing, err := l.values.BatchGet(ids, int(req.GetHorizonDays()))
	if err != nil {
		return nil, c.valueError("", l, err)
	}
	out := &patronv1.BatchGetCustomerValuesResponse{NotFoundCustomerIds: missing, ModelVersion: int64(l.manifest.Version)}
	for i := range vals {
		out.Values = append(out.Values, valueProto(&vals[i], l))
	}
	return out, nil
}

// ListCustomers pages through customers by tier and segment.
func (c *customerService) ListCustomers(ctx context.Context, req *patronv1.ListCustomersRequest) (*patronv1.ListCustomersResponse, error) {
	l, err := c.withValues()
	if err != nil {
		return nil, err
	}
	defer c.s.release(l)
	lr := value.ListRequest{Tier: req.GetTier(), Segment: req.GetSegment(), RiskBand: req.GetRiskBand(), OrderBy: req.GetOrderBy(),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}
	if value.NeedsChurn(lr) && !l.values.HasChurn() {
		return nil, status.Errorf(codes.FailedPrecondition, "model bundle v%d has no churn scores, so risk_band and order_by %q are unavailable: %s",
			l.manifest.Version, lr.OrderBy, l.churnMissing)
	}
	pg, err := l.values.List(lr)
	if err != nil {
		return nil, c.valueError("", l, err)
	}
	out := &patronv1.ListCustomersResponse{NextPageToken: pg.NextPageToken, TotalSize: int64(pg.TotalSize), ModelVersion: int64(l.manifest.Version)}
	for i := range pg.Customers {
		out.Customers = append(out.Customers, valueProto(&pg.Customers[i], l))
	}
	return out, nil
}

func valueProto(v *value.Value, l *loadedBundle) *patronv1.CustomerValue {
	out := &patronv1.CustomerValue{
		CustomerId:         v.CustomerID,
		HorizonDays:        int32(v.HorizonDays),
		Clv:                money(v.CLV),
		ExpectedOrders:     v.ExpectedOrders,
		PAlive:             v.PAlive,
		POrderInHorizon:    v.POrderInHorizon,
		ExpectedOrderValue: money(v.ExpectedOrderValue),
		HistoricValue:      money(v.HistoricValue),
		OrderCount:         v.Orders,
		Tier:               v.Tier,
		Segment:            v.Segment,
		RecencyScore:       int32(v.RecencyScore),
		FrequencyScore:     int32(v.FrequencyScore),
		DaysSinceLastOrder: v.DaysSinceLastOrder,
		Notes:              v.Notes,
		ModelVersion:       int64(l.manifest.Version),
		AsOfTime:           timestamppb.New(l.manifest.AsOf),
		ChurnProbability:   v.ChurnProbability,
		RiskBand:           v.RiskBand,
		ValueAtRisk:        money(v.ValueAtRisk),
	}
	if !v.NextOrder.IsZero() {
		out.ExpectedNextOrderTime = timestamppb.New(v.NextOrder)
	}
	return out
}
