package validate

import (
	"math"
	"testing"
)

// Expected values are Python 3's json.dumps(json.loads(raw)).
func TestPyDumps_MatchesPython(t *testing.T) {
	cases := []struct{ raw, want string }{
		{`{"cmd":"cargo test"}`, `{"cmd": "cargo test"}`},
		{`{"b":1,"a":{"d":[1,2,{}],"c":[]}}`, `{"b": 1, "a": {"d": [1, 2, {}], "c": []}}`},
		{`{"a":1,"b":2,"a":3}`, `{"a": 3, "b": 2}`},
		{`[1.0, 1.5, 1e16, 1e15, 1e-5, 0.0001, -0.0, 2.5e-300, 1e400, -1e400, 123.456e2]`,
			`[1.0, 1.5, 1e+16, 1000000000000000.0, 1e-05, 0.0001, -0.0, 2.5e-300, Infinity, -Infinity, 12345.6]`},
		{`[-0, 12345678901234567890123, true, false, null]`, `[0, 12345678901234567890123, true, false, null]`},
		{`"naïve \"q\" \\ / \n\r\t\b\f \u0001 \u007f 😀 \u2028"`,
			`"na\u00efve \"q\" \\ / \n\r\t\b\f \u0001 \u007f \ud83d\ude00 \u2028"`},
	}
	for _, c := range cases {
		got, err := pyDumps([]byte(c.raw))
		if err != nil {
			t.Errorf("%s: %v", c.raw, err)
			continue
		}
		if got != c.want {
			t.Errorf("pyDumps(%s)\n got %s\nwant %s", c.raw, got, c.want)
		}
	}
	for _, bad := range []string{`{"a":`, `{"a":1} x`, `[1,]`, ``} {
		if _, err := pyDumps([]byte(bad)); err == nil {
			t.Errorf("pyDumps(%q): no error", bad)
		}
	}
}

func TestPyFloat_Repr(t *testing.T) {
	cases := map[float64]string{
		0: "0.0", 1: "1.0", 0.1: "0.1", 1e22: "1e+22", 1.7976931348623157e308: "1.7976931348623157e+308",
		5e-324: "5e-324", 123456789012345680: "1.2345678901234568e+17", 9999999999999998: "9999999999999998.0",
		math.Inf(1): "Infinity",
	}
	for f, want := range cases {
		if got := pyFloat(f); got != want {
			t.Errorf("pyFloat(%v) = %s, want %s", f, got, want)
		}
	}
}
