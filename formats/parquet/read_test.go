package parquet

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/internal/jsonscan"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// parquetColumn writes values (nil = null) as the column "text" of Arrow type typ, after an
// int64 column, in one record batch cut by the writer into row groups of rowGroup rows.
func parquetColumn(t testing.TB, typ arrow.DataType, nullable bool, values []*string, rowGroup int64, props ...pq.WriterProperty) string {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "text", Type: typ, Nullable: nullable},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i, v := range values {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		switch fb := b.Field(1).(type) {
		case *array.StringBuilder:
			if v == nil {
				fb.AppendNull()
			} else {
				fb.Append(*v)
			}
		case *array.LargeStringBuilder:
			if v == nil {
				fb.AppendNull()
			} else {
				fb.Append(*v)
			}
		case *array.BinaryBuilder: // binary and large_binary
			if v == nil {
				fb.AppendNull()
			} else {
				fb.Append([]byte(*v))
			}
		default:
			t.Fatalf("no builder for %v", typ)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	p := filepath.Join(t.TempDir(), "in.parquet")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	wp := pq.NewWriterProperties(append([]pq.WriterProperty{pq.WithMaxRowGroupLength(rowGroup)}, props...)...)
	w, err := pqarrow.NewFileWriter(sc, f, wp, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// parquetTexts builds n values of mixed sizes: short words, repeats (which dictionaries
// share), empty strings, multi-byte UTF-8, bytes that are not UTF-8, every 13th one null when
// nulls, and, when big, a few values over a megabyte (the size from which the page reader
// streams a PLAIN page through reused chunks instead of decompressing it whole).
func parquetTexts(rng *rand.Rand, n int, nulls, big bool) []*string {
	out := make([]*string, n)
	for i := range out {
		if nulls && i%13 == 5 {
			continue
		}
		var s string
		switch k := rng.IntN(10); {
		case k < 3:
			s = fmt.Sprintf("doc %d", rng.IntN(20)) // repeats
		case k < 5:
			s = strings.Repeat("naïve café ", 1+rng.IntN(300))
		case k < 6:
			s = ""
		case k < 7:
			s = "bad \xff\xfe bytes " + strings.Repeat("z", rng.IntN(50))
		default:
			b := make([]byte, 1+rng.IntN(5000))
			for j := range b {
				b[j] = "abcdefgh ij\n"[rng.IntN(12)]
			}
			s = string(b)
		}
		if big && i%97 == 11 {
			s = strings.Repeat(fmt.Sprintf("big value %d. ", i), 1+(3<<20)/16)
		}
		out[i] = &s
	}
	return out
}

// TestParquet_ReadsEveryEncoding reads the text column of files written every way the
// Parquet writers write one: codecs, dictionary or PLAIN (and the writer's fallback from one
// to the other), DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY, data page versions 1 and 2,
// pages of a few hundred bytes to over a megabyte (streamed), string, large_string, binary and
// large_binary columns, required or with nulls, in several row groups and row-group ranges.
// The reader lends each value until the next call: a value is copied at once and compared,
// in order and with its file row, to what was written.
func TestParquet_ReadsEveryEncoding(t *testing.T) {
	type variant struct {
		name     string
		typ      arrow.DataType
		nullable bool
		big      bool
		props    []pq.WriterProperty
	}
	var variants []variant
	for _, codec := range []compress.Compression{compress.Codecs.Uncompressed, compress.Codecs.Snappy, compress.Codecs.Zstd, compress.Codecs.Gzip} {
		for _, v2 := range []bool{false, true} {
			for _, dict := range []bool{false, true} {
				version := pq.DataPageV1
				if v2 {
					version = pq.DataPageV2
				}
				variants = append(variants, variant{
					name:     fmt.Sprintf("%s/v2=%v/dict=%v", codec, v2, dict),
					typ:      arrow.BinaryTypes.String,
					nullable: true,
					props: []pq.WriterProperty{pq.WithCompression(codec), pq.WithDataPageVersion(version),
						pq.WithDictionaryDefault(dict)},
				})
			}
		}
	}
	variants = append(variants,
		variant{name: "small pages", typ: arrow.BinaryTypes.String, nullable: true,
			props: []pq.WriterProperty{pq.WithDataPageSize(512), pq.WithDictionaryDefault(false)}},
		variant{name: "small pages, dictionary", typ: arrow.BinaryTypes.String, nullable: true,
			props: []pq.WriterProperty{pq.WithDataPageSize(512)}},
		variant{name: "dictionary falls back to plain", typ: arrow.BinaryTypes.String, nullable: true,
			props: []pq.WriterProperty{pq.WithDictionaryPageSizeLimit(4 << 10)}},
		variant{name: "delta length", typ: arrow.BinaryTypes.String, nullable: true,
			props: []pq.WriterProperty{pq.WithDictionaryDefault(false), pq.WithEncodingFor("text", pq.Encodings.DeltaLengthByteArray)}},
		variant{name: "delta", typ: arrow.BinaryTypes.String, nullable: true,
			props: []pq.WriterProperty{pq.WithDictionaryDefault(false), pq.WithEncodingFor("text", pq.Encodings.DeltaByteArray)}},
		variant{name: "required", typ: arrow.BinaryTypes.String},
		variant{name: "large_string", typ: arrow.BinaryTypes.LargeString, nullable: true},
		variant{name: "binary", typ: arrow.BinaryTypes.Binary, nullable: true},
		variant{name: "large_binary, required", typ: arrow.BinaryTypes.LargeBinary},
		variant{name: "values over a megabyte, plain", typ: arrow.BinaryTypes.String, nullable: true, big: true,
			props: []pq.WriterProperty{pq.WithDictionaryDefault(false), pq.WithCompression(compress.Codecs.Snappy)}},
		variant{name: "values over a megabyte, plain, v2, uncompressed", typ: arrow.BinaryTypes.String, big: true,
			props: []pq.WriterProperty{pq.WithDictionaryDefault(false), pq.WithDataPageVersion(pq.DataPageV2)}},
		variant{name: "values over a megabyte, dictionary", typ: arrow.BinaryTypes.String, nullable: true, big: true},
	)
	for i, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			n := 700
			if v.big {
				n = 300
			}
			values := parquetTexts(rng, n, v.nullable, v.big)
			path := parquetColumn(t, v.typ, v.nullable, values, 200, v.props...) // row groups of 200 rows
			want := func(lo, hi int) []string {
				var out []string
				for r := lo; r < hi && r < len(values); r++ {
					s := "<null>"
					if values[r] != nil {
						s = *values[r]
					}
					out = append(out, fmt.Sprintf("%d:%s", r, s))
				}
				return out
			}
			groups := (n + 199) / 200
			for _, rg := range []*formats.RowGroups{nil, {Start: 1, End: groups}, {Start: groups - 1, End: groups}, {Start: 1, End: 1}} {
				got, err := parquetRows(path, formats.Options{Field: "text", RowGroups: rg})
				if err != nil {
					t.Fatalf("row groups %v: %v", rg, err)
				}
				lo, hi := 0, n
				if rg != nil {
					lo, hi = rg.Start*200, rg.End*200
				}
				if w := want(lo, hi); strings.Join(got, "\x00") != strings.Join(w, "\x00") {
					t.Fatalf("row groups %v: read %d rows, want %d; first difference at %d", rg, len(got), len(w), firstDiff(got, w))
				}
			}
		})
	}
}

// parquetRows reads every record of a Parquet file as "row:value", the value copied before the
// next call ("<null>" for a null).
func parquetRows(path string, opt formats.Options) ([]string, error) {
	r, err := Open(path, opt)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []string
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		s := "<null>"
		if rec.Kind == jsonscan.FieldOK {
			s = string(rec.Value)
		}
		out = append(out, fmt.Sprintf("%d:%s", rec.Row, s))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestParquet_ReaderMemory: reading a column holds about a page, not a batch of rows. Arrow's
// record reader, which the text reader used before, gathered 1024 rows into one array: here
// all 500 rows of 200 KB, 100 MB (and the array's buffer doubled as it filled); the reader now
// lends values from the page it decoded. (A page is as large as its writer made it.)
func TestParquet_ReaderMemory(t *testing.T) {
	values := make([]*string, 500)
	for i := range values {
		s := strings.Repeat(fmt.Sprintf("row %d, ", i), 200<<10/8)
		values[i] = &s
	}
	// Pages of about a megabyte, as the common writers aim for: the writer checks a page's size
	// after each write batch of values (1024 by default, which would make one 100 MB page).
	path := parquetColumn(t, arrow.BinaryTypes.String, true, values, 500, pq.WithDictionaryDefault(false),
		pq.WithCompression(compress.Codecs.Snappy), pq.WithBatchSize(4))
	first := []string{*values[0], *values[1], *values[2]}
	values = nil
	runtime.GC() // the writer's garbage and the written values
	base := heapInUse()
	var got []string
	var err error
	var peak uint64
	alloc := testutil.HeapAllocated(func() {
		var r formats.Reader
		if r, err = Open(path, formats.Options{Field: "text"}); err != nil {
			return
		}
		defer r.Close()
		for {
			var rec formats.Record
			if rec, err = r.Next(); err != nil {
				break
			}
			if len(got) < 3 {
				got = append(got, string(rec.Value))
			}
			if h := heapInUse() - min(base, heapInUse()); h > peak {
				peak = h
			}
		}
	})
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	for i, g := range got {
		if g != first[i] {
			t.Fatalf("row %d differs", i)
		}
	}
	// 100 MB of text read; what the heap holds at once beyond what it held before is a few
	// pages of 200 KB values, and the garbage of the page decoders until it is collected.
	if peak > 64<<20 {
		t.Errorf("heap in use grew by %d MiB reading 100 MB of 200 KB values (%d MiB allocated in all)", peak>>20, alloc>>20)
	}
}

// heapInUse returns the bytes of heap objects, live or not yet swept.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
