package job

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse_Constraints(t *testing.T) {
	tests := []struct {
		name string
		val  string
		want []Constraint
		err  string // substring of the error; "" means valid
	}{
		{"equal, not equal, has", `["gpu=h100", "zone!=b", ssd]`,
			[]Constraint{{"gpu", OpEq, "h100"}, {"zone", OpNotEq, "b"}, {"ssd", OpHas, ""}}, ""},
		{"empty list", `[]`, []Constraint{}, ""},
		{"spaces trimmed", `[" gpu = h100 "]`, []Constraint{{"gpu", OpEq, "h100"}}, ""},
		{"empty value", `["zone="]`, []Constraint{{"zone", OpEq, ""}}, ""},
		{"empty key", `["=x"]`, nil, `constraints[0]: "=x": want key=value`},
		{"bad key", `[ok, "a b"]`, nil, `constraints[1]: "a b": want key=value`},
		{"value with =", `["a=b=c"]`, nil, `constraints[0]: "a=b=c": a value cannot contain`},
		{"scalar", `gpu=h100`, nil, "constraints: expected a list"},
		{"mapping item", `[{gpu: h100}]`, nil, "constraints[0]: expected a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(specWith(map[string]string{"constraints": tt.val})))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse error = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(s.Constraints, tt.want) {
				t.Fatalf("constraints = %#v, want %#v", s.Constraints, tt.want)
			}
		})
	}
}

func TestParse_ConstraintsLine(t *testing.T) {
	_, err := Parse([]byte(specWith(map[string]string{"constraints": "\n  - ok\n  - 'a b'"})))
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Line == 0 || ke.Key != "constraints[1]" {
		t.Fatalf("Parse error = %#v, want a KeyError on constraints[1] with a line", err)
	}
}

func TestConstraints_EveryKindTakesThem(t *testing.T) {
	for _, k := range kinds {
		found := false
		for _, key := range KindKeys(k) {
			found = found || key == "constraints"
		}
		if !found {
			t.Errorf("KindKeys(%s) lacks constraints", k)
		}
	}
}

func TestConstraint_Matches(t *testing.T) {
	tags := map[string]string{"gpu": "h100", "zone": "a"}
	tests := []struct {
		c    string
		want bool
	}{
		{"gpu=h100", true}, {"gpu=a100", false}, {"cpu=x", false},
		{"zone!=b", true}, {"zone!=a", false}, {"rack!=1", true},
		{"gpu", true}, {"ssd", false},
	}
	for _, tt := range tests {
		c, err := ParseConstraint(tt.c)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Matches(tags); got != tt.want {
			t.Errorf("%s.Matches(%v) = %v, want %v", tt.c, tags, got, tt.want)
		}
		if c.String() != tt.c {
			t.Errorf("String() = %q, want %q", c.String(), tt.c)
		}
	}
}
