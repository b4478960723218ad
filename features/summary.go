package features

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Summary reports what ingest read and what every cleaning rule did. Every
// data line is counted exactly once in Rejected, Dropped or Kept, so nothing
// disappears without a count:
//
//	Lines = Rejected + Dropped + Kept
//	Kept  = PurchaseLines + GuestPurchaseLines + ReturnLines + GuestReturnLines
type Summary struct {
	Source string `json:"source"`
	Format string `json:"format"` // "csv" or "jsonl"
	Gzip   bool   `json:"gzip"`
	// SHA256 and Bytes describe the input exactly as read (compressed, if gzip).
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	// Columns maps each canonical column to the input's field name.
	Columns        map[string]string `json:"columns"`
	IgnoredColumns []string          `json:"ignored_columns,omitempty"`

	// Lines counts data records (the header and blank lines excluded).
	Lines      int64 `json:"lines"`
	BlankLines int64 `json:"blank_lines"`
	// Rejected lines are malformed; they count against --max-error-rate.
	Rejected int64 `json:"rejected"`
	// Dropped lines are well formed but removed by a cleaning rule.
	Dropped int64 `json:"dropped"`
	// Kept lines enter the Dataset.
	Kept               int64 `json:"kept"`
	PurchaseLines      int64 `json:"purchase_lines"`
	GuestPurchaseLines int64 `json:"guest_purchase_lines"`
	ReturnLines        int64 `json:"return_lines"`
	GuestReturnLines   int64 `json:"guest_return_lines"`

	// Reasons lists every reject and drop reason with its count and the
	// first few lines it applied to.
	Reasons []ReasonStat `json:"reasons"`

	// Properties of the well-formed lines, counted before cleaning rules.
	WithoutCustomer  int64 `json:"without_customer"`  // empty customer id: guest lines
	Cancellations    int64 `json:"cancellations"`     // order id prefixed "C"
	NegativeQuantity int64 `json:"negative_quantity"` // quantity < 0
	NormalisedIDs    int64 `json:"normalised_ids"`    // ids such as "17850.0" read as "17850"
	// Distinct ids on well-formed lines, dropped ones included.
	CustomerIDs int `json:"customer_ids"`
	ItemIDs     int `json:"item_ids"`
	OrderIDs    int `json:"order_ids"`

	// What the Dataset holds.
	Customers    int       `json:"customers"`
	Items        int       `json:"items"`
	Orders       int       `json:"orders"`       // purchase orders, guest orders included
	GuestOrders  int       `json:"guest_orders"` // purchase orders without a customer
	ReturnOrders int       `json:"return_orders"`
	Countries    int       `json:"countries"`
	First        time.Time `json:"first"` // earliest kept line
	Last         time.Time `json:"last"`  // latest kept line

	// ErrorRate = Rejected / Lines; MaxErrorRate is the limit applied.
	ErrorRate    float64 `json:"error_rate"`
	MaxErrorRate float64 `json:"max_error_rate"`
	// Before is the --as-of cut: lines at or after it were dropped.
	Before time.Time `json:"before,omitzero"`
}

// ReasonStat counts the lines one rule rejected or dropped.
type ReasonStat struct {
	Reason   string    `json:"reason"`
	Kind     string    `json:"kind"` // "rejected" or "dropped"
	Count    int64     `json:"count"`
	Examples []Example `json:"examples"`
}

// Example is one line a rule applied to.
type Example struct {
	Line   int64  `json:"line"`
	Field  string `json:"field,omitempty"`
	Detail string `json:"detail"`
	Text   string `json:"text"`
}

// Reason codes. Rejected lines are malformed; dropped lines are removed by a
// cleaning rule.
const (
	ReasonColumnCount   = "column_count"
	ReasonBadQuoting    = "bad_quoting"
	ReasonLineTooLong   = "line_too_long"
	ReasonInvalidUTF8   = "invalid_utf8"
	ReasonBadJSON       = "bad_json"
	ReasonMissingField  = "missing_field"
	ReasonEmptyOrderID  = "empty_order_id"
	ReasonEmptyItemID   = "empty_item_id"
	ReasonBadID         = "bad_id"
	ReasonBadQuantity   = "bad_quantity"
	ReasonBadUnitPrice  = "bad_unit_price"
	ReasonBadOrderedAt  = "bad_ordered_at"
	ReasonOrderConflict = "order_customer_conflict"

	ReasonAfterAsOf        = "after_as_of"
	ReasonNonProduct       = "non_product"
	ReasonZeroQuantity     = "zero_quantity"
	ReasonNonPositivePrice = "non_positive_price"
	ReasonDuplicate        = "duplicate"
	// ReasonSuppressed drops the lines of a customer on the data
	// directory's suppression list (forgotten on request); its examples
	// carry line numbers only, never the text.
	ReasonSuppressed = "suppressed_customer"
)

// dropReasons are the cleaning rules; every other reason is a reject.
var dropReasons = map[string]bool{
	ReasonAfterAsOf: true, ReasonNonProduct: true, ReasonZeroQuantity: true,
	ReasonNonPositivePrice: true, ReasonDuplicate: true, ReasonSuppressed: true,
}

// maxExamples is how many example lines each reason keeps.
const maxExamples = 5

// Reason returns the statistics of one reason (zero Count when it never applied).
func (s *Summary) Reason(reason string) ReasonStat {
	for _, r := range s.Reasons {
		if r.Reason == reason {
			return r
		}
	}
	return ReasonStat{Reason: reason}
}

// exampleText shortens a line for a summary and makes it valid UTF-8.
func exampleText(raw []byte) string {
	const max = 200
	s := raw
	cut := false
	if len(s) > max {
		s, cut = s[:max], true
	}
	t := strings.ToValidUTF8(string(s), "\uFFFD")
	if cut {
		t += "..."
	}
	return t
}

// WriteText prints the summary for people.
func (s *Summary) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	p := ew.printf
	p("orders file   %s (%s%s, %s, sha256 %.12s)\n", s.Source, s.Format, map[bool]string{true: ", gzip"}[s.Gzip], humanBytes(s.Bytes), s.SHA256)
	p("lines read    %s\n", comma(s.Lines))
	p("  kept        %s  (purchases %s, guest purchases %s, returns %s, guest returns %s)\n",
		comma(s.Kept), comma(s.PurchaseLines), comma(s.GuestPurchaseLines), comma(s.ReturnLines), comma(s.GuestReturnLines))
	p("  dropped     %s  (cleaning rules)\n", comma(s.Dropped))
	p("  rejected    %s  (malformed; error rate %.3f%%, limit %.3f%%)\n", comma(s.Rejected), 100*s.ErrorRate, 100*s.MaxErrorRate)
	if s.BlankLines > 0 {
		p("  blank lines %s skipped\n", comma(s.BlankLines))
	}
	p("lines without customer id %s (guest lines), cancellations (order id C...) %s, negative quantity %s, ids normalised %s\n",
		comma(s.WithoutCustomer), comma(s.Cancellations), comma(s.NegativeQuantity), comma(s.NormalisedIDs))
	for _, kind := range []string{"dropped", "rejected"} {
		for _, r := range s.Reasons {
			if r.Kind != kind {
				continue
			}
			p("%-9s %-24s %s\n", kind, r.Reason, comma(r.Count))
			for _, e := range r.Examples {
				field := ""
				if e.Field != "" {
					field = " " + e.Field + ":"
				}
				if e.Text == "" {
					p("    line %d:%s %s\n", e.Line, field, e.Detail)
					continue
				}
				p("    line %d:%s %s | %s\n", e.Line, field, e.Detail, e.Text)
			}
		}
	}
	p("distinct ids in the file: customers %s, items %s, orders %s\n", comma(int64(s.CustomerIDs)), comma(int64(s.ItemIDs)), comma(int64(s.OrderIDs)))
	p("dataset: customers %s, items %s, orders %s (guest %s), return orders %s, countries %d\n",
		comma(int64(s.Customers)), comma(int64(s.Items)), comma(int64(s.Orders)), comma(int64(s.GuestOrders)), comma(int64(s.ReturnOrders)), s.Countries)
	if !s.First.IsZero() {
		p("date range %s to %s\n", s.First.Format("2006-01-02 15:04:05"), s.Last.Format("2006-01-02 15:04:05"))
	}
	if !s.Before.IsZero() {
		p("as of %s: later lines dropped\n", s.Before.Format(time.RFC3339))
	}
	if len(s.IgnoredColumns) > 0 {
		p("ignored columns: %s\n", strings.Join(s.IgnoredColumns, ", "))
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// comma formats 1234567 as "1,234,567".
func comma(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// sortReasons orders reasons by kind, then count (largest first), then name.
func sortReasons(rs []ReasonStat) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Kind != rs[j].Kind {
			return rs[i].Kind < rs[j].Kind
		}
		if rs[i].Count != rs[j].Count {
			return rs[i].Count > rs[j].Count
		}
		return rs[i].Reason < rs[j].Reason
	})
}
