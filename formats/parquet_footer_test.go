package formats

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// chunkClaim names one of the column chunk sizes a Parquet footer states, which readers size
// buffers by: ColumnMetaData fields 5, 6 and 7.
type chunkClaim int

const (
	claimNumValues chunkClaim = iota
	claimUncompressed
	claimCompressed
)

// withChunkClaim returns a copy of the Parquet file data whose footer claims value for one size
// of column col's chunk in row group 0, the rest of the file unchanged. In the footer's Thrift
// compact encoding those three fields are consecutive i64s, each a byte 0x16 (field delta 1,
// type i64) and a zigzag varint, so the triple of the true values is found and rewritten, and
// the footer's length updated.
func withChunkClaim(tb testing.TB, data []byte, col int, which chunkClaim, value int64) []byte {
	tb.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(col)
	if err != nil {
		tb.Fatal(err)
	}
	vals := [3]int64{cc.NumValues(), cc.TotalUncompressedSize(), cc.TotalCompressedSize()}
	triple := func(v [3]int64) []byte {
		var b []byte
		for _, x := range v {
			b = binary.AppendUvarint(append(b, 0x16), uint64(x<<1^x>>63))
		}
		return b
	}
	n := len(data)
	flen := int(binary.LittleEndian.Uint32(data[n-8:]))
	footer := data[n-8-flen : n-8]
	old := triple(vals)
	if c := bytes.Count(footer, old); c != 1 {
		tb.Fatalf("column %d's sizes %v occur %d times in the footer", col, vals, c)
	}
	vals[which] = value
	nf := bytes.Replace(footer, old, triple(vals), 1)
	out := append(append([]byte(nil), data[:n-8-flen]...), nf...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(nf)))
	return append(out, "PAR1"...)
}

// TestParquet_FooterClaimsBoundMemory: a small file whose footer claims a huge column chunk
// must neither abort the process nor allocate what it claims. Before the readers streamed
// column chunks, the 1 TiB compressed-size claim killed the test binary with "fatal error:
// runtime: out of memory", which no recover catches. Every read either returns the file's
// rows or an error naming the file.
func TestParquet_FooterClaimsBoundMemory(t *testing.T) {
	texts := []*string{ptr("alpha"), ptr("beta"), nil, ptr(strings.Repeat("gamma ", 100))}
	src := readSeed(t, writeParquet(t, texts, 16))
	const tib = int64(1) << 40
	for _, tc := range []struct {
		name  string
		which chunkClaim
		value int64
	}{
		{"compressed size 1 TiB", claimCompressed, tib},
		{"compressed size 4 GB", claimCompressed, 4e9},
		{"uncompressed size 1 TiB", claimUncompressed, tib},
		{"num values 1 TiB", claimNumValues, tib},
		{"num values 4 billion", claimNumValues, 4e9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.parquet")
			if err := os.WriteFile(path, withChunkClaim(t, src, 1, tc.which, tc.value), 0o644); err != nil {
				t.Fatal(err)
			}
			var got []string
			var err error
			if n := heapAllocated(func() { got, err = readValues(Open(path, Options{Field: "text"})) }); n > 64<<20 {
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
			rows, err := OpenRows(path, Options{})
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
