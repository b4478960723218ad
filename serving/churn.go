package serving

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/patron-crm/patron/models/churn"
	"github.com/patron-crm/patron/models/registry"
	"github.com/patron-crm/patron/models/value"
	patronv1 "github.com/patron-crm/patron/proto/patron/v1"
)

// withChurn acquires the current bundle and checks it has churn scores
// (FAILED_PRECONDITION, with training's reason, when it has none).
func (c *customerService) withChurn() (*loadedBundle, error) {
	l, err := c.s.acquire()
	if err != nil {
		return nil, err
	}
	if l.churn == nil {
		c.s.release(l)
		return nil, status.Errorf(codes.FailedPrecondition, "model bundle v%d has no churn model: %s", l.manifest.Version, l.churnMissing)
	}
	return l, nil
}

func isNotFound(err error) bool { return errors.Is(err, registry.ErrNotFound) }

// GetCustomerChurn returns one customer's churn risk.
func (c *customerService) GetCustomerChurn(ctx context.Context, req *patronv1.GetCustomerChurnRequest) (*patronv1.CustomerChurn, error) {
	id := req.GetCustomerId()
	if err := checkID("customer_id", id); err != nil {
		return nil, err
	}
	l, err := c.withChurn()
	if err != nil {
		return nil, err
	}
	defer c.s.release(l)
	sc, found, err := l.churn.Get(id, isNotFound)
	if err != nil {
		return nil, c.s.readError("churn score", id, l, err)
	}
	if !found {
		return nil, notFound("customer", id, l)
	}
	return churnProto(id, &sc, l), nil
}

// BatchGetCustomerChurn returns up to value.MaxBatch customers' churn risks.
func (c *customerService) BatchGetCustomerChurn(ctx context.Context, req *patronv1.BatchGetCustomerChurnRequest) (*patronv1.BatchGetCustomerChurnResponse, error) {
	ids := req.GetCustomerIds()
	if len(ids) == 0 || len(ids) > value.MaxBatch {
		return nil, status.Errorf(codes.InvalidArgument, "customer_ids has %d ids; send 1 to %d per call", len(ids), value.MaxBatch)
	}
	if err := checkIDs("customer_ids", ids); err != nil {
		return nil, err
	}
	l, err := c.withChurn()
	if err != nil {
		return nil, err
	}
	defer c.s.release(l)
	out := &patronv1.BatchGetCustomerChurnResponse{ModelVersion: int64(l.manifest.Version)}
	for _, id := range ids {
		sc, found, err := l.churn.Get(id, isNotFound)
		if err != nil {
			return nil, c.s.readError("churn score", id, l, err)
		}
		if !found {
			out.NotFoundCustomerIds = append(out.NotFoundCustomerIds, id)
			continue
		}
		out.Scores = append(out.Scores, churnProto(id, &sc, l))
	}
	return out, nil
}

func churnProto(id string, sc *churn.Score, l *loadedBundle) *patronv1.CustomerChurn {
	m := l.churn.Meta
	return &patronv1.CustomerChurn{
		CustomerId:   id,
		Probability:  sc.Probability,
		RiskBand:     sc.Band,
		Reasons:      sc.Reasons,
		HorizonDays:  int32(m.HorizonDays),
		ValueAtRisk:  money(sc.ValueAtRisk),
		Model:        m.Model,
		ModelVersion: int64(l.manifest.Version),
		AsOfTime:     timestamppb.New(m.AsOf),
	}
}
