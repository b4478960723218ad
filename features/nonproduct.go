package features

import (
	"fmt"
	"strings"
)

// NonProductRules decide which item ids are not merchandise: postage, fees,
// discounts, manual adjustments, gift vouchers. Their lines are dropped (and
// counted) so they never become items to recommend or purchases to model.
// Codes match case-insensitively; a code ending in '*' matches a prefix.
type NonProductRules struct {
	exact    map[string]bool // upper-cased codes
	prefixes []string        // upper-cased prefixes
	codes    []string        // as given, for reports
}

// DefaultNonProductCodes are the non-product item ids of the UCI Online
// Retail export: postage (POST, DOT, C2), manual and adjustment lines (M, B,
// PADS, S, D), fees (BANK CHARGES, AMAZONFEE), charity (CRUK) and gift
// vouchers (gift_0001_*).
var defaultNonProductCodes = []string{
	"POST", "DOT", "C2", "M", "B", "D", "S", "PADS", "CRUK", "BANK CHARGES", "AMAZONFEE", "ADJUST", "GIFT_*",
}

// DefaultNonProduct returns the default rules.
func DefaultNonProduct() *NonProductRules {
	r, _ := NewNonProductRules(defaultNonProductCodes)
	return r
}

// DefaultNonProductCodes returns the default codes, for help texts.
func DefaultNonProductCodes() []string { return append([]string(nil), defaultNonProductCodes...) }

// NewNonProductRules builds rules from codes such as "POST" or "GIFT_*".
func NewNonProductRules(codes []string) (*NonProductRules, error) {
	r := &NonProductRules{exact: map[string]bool{}}
	for _, c := range codes {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if c == "*" {
			return nil, fmt.Errorf("non-product code %q would match every item", c)
		}
		up := strings.ToUpper(c)
		if strings.HasSuffix(up, "*") {
			r.prefixes = append(r.prefixes, strings.TrimSuffix(up, "*"))
		} else {
			r.exact[up] = true
		}
		r.codes = append(r.codes, c)
	}
	return r, nil
}

// With returns rules with more codes added.
func (r *NonProductRules) With(codes []string) (*NonProductRules, error) {
	return NewNonProductRules(append(append([]string(nil), r.codes...), codes...))
}

// Codes returns the rule's codes as given.
func (r *NonProductRules) Codes() []string { return append([]string(nil), r.codes...) }

// Match reports whether item id is not a product.
func (r *NonProductRules) Match(id []byte) bool {
	if len(r.exact) == 0 && len(r.prefixes) == 0 {
		return false
	}
	var buf [64]byte
	if len(id) > len(buf) {
		return r.matchString(strings.ToUpper(string(id)))
	}
	up := buf[:len(id)]
	for i, c := range id {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	if r.exact[string(up)] {
		return true
	}
	for _, p := range r.prefixes {
		if len(up) >= len(p) && string(up[:len(p)]) == p {
			return true
		}
	}
	return false
}

func (r *NonProductRules) matchString(up string) bool {
	if r.exact[up] {
		return true
	}
	for _, p := range r.prefixes {
		if strings.HasPrefix(up, p) {
			return true
		}
	}
	return false
}
