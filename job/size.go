package job

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes. In a spec it is written as plain bytes (67108864) or as a
// number with a unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024),
// unit case-insensitive, optional space and decimal fraction ("64MiB", "1GB", "1.5 GiB"). A
// fractional result is rounded down to whole bytes. Units without "B" ("64M") are refused as
// ambiguous.
type ByteSize int64

var sizeUnits = map[string]float64{
	"":    1,
	"b":   1,
	"kb":  1e3,
	"mb":  1e6,
	"gb":  1e9,
	"tb":  1e12,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
	"tib": 1 << 40,
}

// ParseByteSize parses a size as described on ByteSize.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty size")
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.' || t[i] == '-' || t[i] == '+') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("invalid size %q: unknown unit %q (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, t[i:])
	}
	if num == "" {
		return 0, fmt.Errorf("invalid size %q: no number", s)
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid size %q: %v", s, numErr(err))
		}
		if n < 0 {
			return 0, fmt.Errorf("invalid size %q: negative", s)
		}
		m := int64(mult)
		if n > math.MaxInt64/m {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
		return ByteSize(n * m), nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %v", s, numErr(err))
	}
	v := math.Floor(f * mult)
	switch {
	case f < 0:
		return 0, fmt.Errorf("invalid size %q: negative", s)
	case v >= math.MaxInt64:
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return ByteSize(v), nil
}

func numErr(err error) string {
	if ne, ok := err.(*strconv.NumError); ok {
		return ne.Err.Error()
	}
	return err.Error()
}

// String formats the size with the largest binary unit that divides it exactly ("64MiB"), or as
// plain bytes ("1000"). ParseByteSize(s.String()) == s.
func (s ByteSize) String() string {
	units := []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if s != 0 && int64(s)%u.size == 0 {
			return strconv.FormatInt(int64(s)/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// MarshalJSON writes the size as a plain number of bytes, the unambiguous canonical form.
func (s ByteSize) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(s), 10), nil
}

// UnmarshalJSON accepts a number of bytes or a string with a unit.
func (s *ByteSize) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		v, err := ParseByteSize(str)
		if err != nil {
			return err
		}
		*s = v
		return nil
	}
	v, err := ParseByteSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
