package parquet

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/internal/formatstest"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// TestParquet_FooterClaimsBoundMemory: a small file whose footer claims a huge column chunk
// must neither abort the process nor allocate what it claims. Before the readers streamed
// column chunks, the 1 TiB compressed-size claim killed the test binary with "fatal error:
// runtime: out of memory", which no recover catches. Every read either returns the file's
// rows or an error naming the file.
func TestParquet_FooterClaimsBoundMemory(t *testing.T) {
	texts := []*string{new("alpha"), new("beta"), nil, new(strings.Repeat("gamma ", 100))}
	src, err := os.ReadFile(formatstest.WriteParquet(t, texts, 16))
	if err != nil {
		t.Fatal(err)
	}
	const tib = int64(1) << 40
	for _, tc := range []struct {
		name  string
		which formatstest.ChunkClaim
		value int64
	}{
		{"compressed size 1 TiB", formatstest.ClaimCompressed, tib},
		{"compressed size 4 GB", formatstest.ClaimCompressed, 4e9},
		{"uncompressed size 1 TiB", formatstest.ClaimUncompressed, tib},
		{"num values 1 TiB", formatstest.ClaimNumValues, tib},
		{"num values 4 billion", formatstest.ClaimNumValues, 4e9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.parquet")
			if err := os.WriteFile(path, formatstest.WithChunkClaim(t, src, 1, tc.which, tc.value), 0o644); err != nil {
				t.Fatal(err)
			}
			var got []string
			var err error
			if n := testutil.HeapAllocated(func() { got, err = formatstest.ReadValues(Open(path, formats.Options{Field: "text"})) }); n > 64<<20 {
				t.Errorf("reading allocated %d MiB", n>>20)
			}
			if err != nil {
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error does not name the file: %v", err)
				}
				return
			}
			want := []string{"alpha", "beta", "<null>", *texts[3]}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("read %q, want %q", got, want)
			}
			rows, err := OpenRows(path, nil)
			if err != nil {
				t.Fatalf("OpenRows: %v", err)
			}
			defer rows.Close()
			for {
				if _, err := rows.Next(); err != nil {
					if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), path) {
						t.Errorf("OpenRows: error does not name the file: %v", err)
					}
					break
				}
			}
		})
	}
}
