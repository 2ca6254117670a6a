package job

import (
	"fmt"
	"strings"
)

// Constraint is one placement constraint of a job (the constraints key): a cluster runs the
// job's tasks only on workers whose tags satisfy every constraint. `tokenmill run` ignores
// them.
type Constraint struct {
	Key   string
	Op    ConstraintOp
	Value string // empty for OpHas
}

// ConstraintOp is how a constraint compares a worker's tag.
type ConstraintOp string

// Constraint operators.
const (
	OpEq    ConstraintOp = "="  // key=value: the worker has the tag with this value
	OpNotEq ConstraintOp = "!=" // key!=value: the worker lacks the tag or has another value
	OpHas   ConstraintOp = ""   // key: the worker has the tag, with any value
)

// ParseConstraint parses "key=value", "key!=value" or "key". A key is letters, digits,
// '.', '_', '-' or '/'; a value cannot hold '=' or '!' ("key=" means the empty value).
func ParseConstraint(s string) (Constraint, error) {
	var c Constraint
	switch {
	case strings.Contains(s, "!="):
		k, v, _ := strings.Cut(s, "!=")
		c = Constraint{Key: k, Op: OpNotEq, Value: v}
	case strings.Contains(s, "="):
		k, v, _ := strings.Cut(s, "=")
		c = Constraint{Key: k, Op: OpEq, Value: v}
	default:
		c = Constraint{Key: s, Op: OpHas}
	}
	c.Key, c.Value = strings.TrimSpace(c.Key), strings.TrimSpace(c.Value)
	if !validTagKey(c.Key) {
		return Constraint{}, fmt.Errorf("%q: want key=value, key!=value or key, with a key of letters, digits, '.', '_', '-' or '/'", s)
	}
	if strings.ContainsAny(c.Value, "=!") {
		return Constraint{}, fmt.Errorf("%q: a value cannot contain '=' or '!'", s)
	}
	return c, nil
}

// validTagKey says k is a non-empty tag key of letters, digits, '.', '_', '-' or '/'.
func validTagKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/", r)
		if !ok {
			return false
		}
	}
	return true
}

// Matches says a worker with these tags satisfies the constraint.
func (c Constraint) Matches(tags map[string]string) bool {
	v, ok := tags[c.Key]
	switch c.Op {
	case OpEq:
		return ok && v == c.Value
	case OpNotEq:
		return !ok || v != c.Value
	}
	return ok
}

// String returns the constraint as written: "gpu=h100", "zone!=b", "ssd".
func (c Constraint) String() string { return c.Key + string(c.Op) + c.Value }

// MatchesAll says a worker with these tags satisfies every constraint of cs.
func MatchesAll(cs []Constraint, tags map[string]string) bool {
	for _, c := range cs {
		if !c.Matches(tags) {
			return false
		}
	}
	return true
}
