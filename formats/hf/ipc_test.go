package hf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/internal/formatstest"
	"github.com/tokenmill/tokenmill/formats/table"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// withClaim returns a copy of a compressed stream whose first record batch's buffer i states
// the uncompressed length claim. The messages are framed, and the buffer found, as
// ipcMessages and checkIPCMetadata do.
func withClaim(tb testing.TB, data []byte, i int, claim int64) []byte {
	tb.Helper()
	out := append([]byte(nil), data...)
	for p := 0; p+8 <= len(out); {
		n := int(binary.LittleEndian.Uint32(out[p+4:])) // after the continuation marker
		meta := out[p+8 : p+8+n]
		bodyLen, batch, err := checkIPCMetadata(meta)
		if err != nil {
			tb.Fatal(err)
		}
		body := p + 8 + n
		if batch.n > i {
			off := int(binary.LittleEndian.Uint64(meta[batch.bufs+16*i:]))
			binary.LittleEndian.PutUint64(out[body+off:], uint64(claim))
			return out
		}
		p = body + int(bodyLen)
	}
	tb.Fatalf("no record batch with a buffer %d", i)
	return nil
}

// TestArrowStream_CompressedClaims: each buffer of a compressed batch states its uncompressed
// length, which arrow-go allocates before decompressing. A false claim must fail the read
// with an error naming the file, without allocating it: the 1 TiB claim was a fatal
// out-of-memory. Buffer 2 is the column's string data. A true claim past ipcTrustedClaim (a
// 20 MB text that compresses to a few KiB) still reads.
func TestArrowStream_CompressedClaims(t *testing.T) {
	text := strings.Repeat("tokenmill ", 77)
	big := strings.Repeat("0123456789abcdef", 20<<20/16)
	for _, codec := range []struct {
		name string
		opt  ipc.Option
	}{{"zstd", ipc.WithZstd()}, {"lz4", ipc.WithLZ4()}} {
		src := formatstest.CompressedStream(t, codec.opt, text)
		for _, tc := range []struct {
			name  string
			data  []byte
			want  []string // nil: an error
			inErr string
		}{
			{"as written", src, []string{text}, ""},
			{"true claim past the trusted size", formatstest.CompressedStream(t, codec.opt, big), []string{big}, ""},
			{"claims 1 TiB", withClaim(t, src, 2, 1<<40), nil, "holds 770 bytes"},
			{"claims 4 GB", withClaim(t, src, 2, 4e9), nil, "holds 770 bytes"},
			{"claims a negative length", withClaim(t, src, 2, -5), nil, "length of -5"},
		} {
			t.Run(codec.name+"/"+tc.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "data-00000-of-00001.arrow")
				if err := os.WriteFile(path, tc.data, 0o644); err != nil {
					t.Fatal(err)
				}
				var got []string
				var err error
				n := testutil.HeapAllocated(func() {
					got, err = formatstest.ReadValues(OpenFile(path, formats.Options{Field: "text", MaxRecord: 64 << 20}))
				})
				if tc.want == nil && n > 64<<20 {
					t.Errorf("reading allocated %d MiB", n>>20)
				}
				if tc.want == nil {
					if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.inErr) {
						t.Fatalf("got error %v, want one naming %s and saying %q", err, path, tc.inErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tc.want) || got[0] != tc.want[0] {
					t.Errorf("read %d texts, want %d equal to those written", len(got), len(tc.want))
				}
			})
		}
	}
}

// TestArrowStream_BatchMemoryRecycled: a stream of many record batches is read in the memory
// of about two batches, whether its bodies are read as they are (HF datasets write them
// uncompressed) or decompressed: once the reader has released a batch, its buffers serve the
// next one. Every value is compared with what was written, so a buffer reused while a batch
// still used it would show.
func TestArrowStream_BatchMemoryRecycled(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "text", Type: arrow.BinaryTypes.String}}, nil)
	const batches, rows = 30, 100
	want := func(b, r int) string {
		return strings.Repeat(string(rune('a'+(b+r)%26)), 2000+(b*rows+r)%997) // about 250 KB a batch
	}
	for _, tc := range []struct {
		name string
		opts []ipc.Option
	}{{"uncompressed", nil}, {"zstd", []ipc.Option{ipc.WithZstd()}}, {"lz4", []ipc.Option{ipc.WithLZ4()}}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := ipc.NewWriter(&buf, append([]ipc.Option{ipc.WithSchema(sc)}, tc.opts...)...)
			for b := range batches {
				rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
				for r := range rows {
					rb.Field(0).(*array.StringBuilder).Append(want(b, r))
				}
				rec := rb.NewRecordBatch()
				if err := w.Write(rec); err != nil {
					t.Fatal(err)
				}
				rec.Release()
				rb.Release()
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			m := newIPCMessages(bytes.NewReader(buf.Bytes()), int64(buf.Len()), &table.Allocator{})
			rd, err := m.reader()
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Release()
			b := 0
			for ; rd.Next(); b++ {
				col := rd.RecordBatch().Column(0).(*array.String)
				if col.Len() != rows {
					t.Fatalf("batch %d: %d rows", b, col.Len())
				}
				for r := range rows {
					if col.Value(r) != want(b, r) {
						t.Fatalf("batch %d row %d differs", b, r)
					}
				}
			}
			if err := rd.Err(); err != nil || b != batches {
				t.Fatalf("read %d batches, err %v", b, err)
			}
			const batchBytes = rows * 2500
			if m.mem.Fresh() > 4*batchBytes {
				t.Errorf("allocated %d KiB anew for %d batches of about %d KiB", m.mem.Fresh()>>10, batches, batchBytes>>10)
			}
		})
	}
}

// TestHFRecords_LentBatches reads the text of an HF dataset of many record batches of a few
// hundred KB, whose memory the record readers reuse from batch to batch (BatchReader.lend),
// through both record readers (a data file, as a shard reads it; the directory): each Record's
// value, copied before the next call as the contract says, is the text written, nulls
// included.
func TestHFRecords_LentBatches(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	dir := filepath.Join(t.TempDir(), "ds")
	w, err := CreateTable(dir, sc, Options{BatchRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 3000 {
		var v any
		s := "<null>"
		if i%41 != 3 {
			s = strings.Repeat(fmt.Sprintf("%d ", i), 300+i%700)
			v = s
		}
		want = append(want, s)
		if err := w.WriteRecord(map[string]any{"text": v}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := ReadState(dir)
	if err != nil || len(st.DataFiles) != 1 {
		t.Fatalf("state %+v, %v", st, err)
	}
	for name, open := range map[string]func() (formats.Reader, error){
		"data file": func() (formats.Reader, error) {
			return OpenFile(filepath.Join(dir, st.DataFiles[0].Filename), formats.Options{Field: "text"})
		},
		"directory": func() (formats.Reader, error) { return OpenRecords(dir, formats.Options{Field: "text"}) },
	} {
		got, err := formatstest.ReadValues(open())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, want %d", name, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: record %d differs", name, i)
			}
		}
	}
}
