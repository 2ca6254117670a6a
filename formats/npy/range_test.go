package npy

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
)

// A value outside the dtype is refused with the row and the file named, for every dtype, and
// the values that fit are accepted (the bounds themselves included).
func TestNpyWriterRange(t *testing.T) {
	for _, c := range []struct {
		dt      formats.DType
		ok, bad int64
	}{
		{formats.Uint16, 65535, 65536},
		{formats.Uint32, 1<<32 - 1, 1 << 32},
		{formats.Uint32, 0, -1},
		{formats.Int32, -1 << 31, 1 << 31},
	} {
		path := filepath.Join(t.TempDir(), "x.npy")
		w, err := Create(path, c.dt, 2)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteRow64([]int64{c.ok, 0}); err != nil {
			t.Errorf("%s: %d: %v", c.dt, c.ok, err)
		}
		err = w.WriteRow64([]int64{1, c.bad})
		if err == nil || !strings.Contains(err.Error(), "does not fit in "+c.dt.String()) || !strings.Contains(err.Error(), "row 1 of") {
			t.Errorf("%s: %d: err = %v", c.dt, c.bad, err)
		}
		w.Abort()
	}
}
