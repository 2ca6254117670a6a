// Package formatstest holds the fixtures that the tests of several format packages share:
// Parquet files, compressed Arrow IPC streams, token rows, and a reader drained to its values.
package formatstest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/internal/jsonscan"
)

// WriteParquet writes texts (nil = null) as column "text" plus an int
// column, in row groups of rowGroup rows; props add writer properties
// (compression, encodings).
func WriteParquet(t testing.TB, texts []*string, rowGroup int64, props ...pq.WriterProperty) string {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "text", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i, s := range texts {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if s == nil {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(*s)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	p := filepath.Join(t.TempDir(), "in.parquet")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(sc, f, pq.NewWriterProperties(append([]pq.WriterProperty{pq.WithMaxRowGroupLength(rowGroup)}, props...)...), pqarrow.DefaultWriterProps())
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

// ReadValues reads the selected field of every record of r (an opened reader, or err from
// opening it), "<null>" for a record without a string value, and closes r.
func ReadValues(r formats.Reader, err error) ([]string, error) {
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
		if rec.Kind == jsonscan.FieldOK {
			out = append(out, string(rec.Value))
		} else {
			out = append(out, "<null>")
		}
	}
}

// CompressedStream is an Arrow IPC stream of one record batch with a "text" column holding
// texts, its body compressed with opt (ipc.WithZstd or ipc.WithLZ4).
func CompressedStream(tb testing.TB, opt ipc.Option, texts ...string) []byte {
	tb.Helper()
	sc := arrow.NewSchema([]arrow.Field{{Name: "text", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, s := range texts {
		b.Field(0).(*array.StringBuilder).Append(s)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(sc), opt)
	if err := w.Write(rec); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// ChunkClaim names one of the column chunk sizes a Parquet footer states, which readers size
// buffers by: ColumnMetaData fields 5, 6 and 7.
type ChunkClaim int

const (
	ClaimNumValues ChunkClaim = iota
	ClaimUncompressed
	ClaimCompressed
)

// WithChunkClaim returns a copy of the Parquet file data whose footer claims value for one size
// of column col's chunk in row group 0, the rest of the file unchanged. In the footer's Thrift
// compact encoding those three fields are consecutive i64s, each a byte 0x16 (field delta 1,
// type i64) and a zigzag varint, so the triple of the true values is found and rewritten, and
// the footer's length updated.
func WithChunkClaim(tb testing.TB, data []byte, col int, which ChunkClaim, value int64) []byte {
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

// TokenRows returns n rows of token ids of 1 to 13 tokens each, a function of n only.
func TokenRows(n int) [][]int64 {
	rows := make([][]int64, n)
	for i := range rows {
		row := make([]int64, 1+i%13)
		for j := range row {
			row[j] = int64((i*31 + j*7) % 50000)
		}
		rows[i] = row
	}
	return rows
}
