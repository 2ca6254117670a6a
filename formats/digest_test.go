package formats

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

func TestCombineCRC32C(t *testing.T) {
	// The check value of CRC-32C (RFC 3720, B.4), as cloud object stores compute it.
	if got := CombineCRC32C(crc32.Checksum([]byte("1234"), castagnoli), crc32.Checksum([]byte("56789"), castagnoli), 5); got != 0xe3069283 {
		t.Fatalf("CRC-32C of 123456789 = %08x, want e3069283", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 7, 64, 1000, 1 << 16} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		want := crc32.Checksum(data, castagnoli)
		for range 20 {
			cut := 0
			if n > 0 {
				cut = rng.IntN(n + 1)
			}
			a, b := data[:cut], data[cut:]
			got := CombineCRC32C(crc32.Checksum(a, castagnoli), crc32.Checksum(b, castagnoli), int64(len(b)))
			if got != want {
				t.Fatalf("n=%d cut=%d: combined %08x, whole %08x", n, cut, got, want)
			}
		}
	}
}

// readToEnd reads every record of r.
func readToEnd(t *testing.T, r Reader) {
	t.Helper()
	for {
		if _, err := r.Next(); err == io.EOF {
			return
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// A reader of a byte range digests exactly the bytes of its range as it reads them, whatever
// its read-ahead; the digests of the ranges of a file combine into the file's.
func TestInputCRC32C_Ranges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var sb strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&sb, "{\"text\":\"document %d %s\"}\n", i, strings.Repeat("x", rng.IntN(300)))
	}
	data := []byte(sb.String())
	path := testutil.WriteFile(t, "in.jsonl", data)
	want := crc32.Checksum(data, castagnoli)
	for _, parts := range []int{1, 2, 3, 7, 40} {
		var combined uint32
		for p := range parts {
			lo, hi := int64(len(data)*p/parts), int64(len(data)*(p+1)/parts)
			r, err := OpenStream(path, Options{Format: FormatJSONL, Range: &Range{Start: lo, End: hi, Relative: true}})
			if err != nil {
				t.Fatal(err)
			}
			readToEnd(t, r)
			if w := r.(sourced).inputSource().raw.win; w.end != hi {
				t.Fatalf("range [%d, %d): the reader digested up to %d, not its whole range", lo, hi, w.end)
			}
			crc, err := InputCRC32C(r, path, lo, hi)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			if exp := crc32.Checksum(data[lo:hi], castagnoli); crc != exp {
				t.Fatalf("range [%d, %d): %08x, want %08x", lo, hi, crc, exp)
			}
			combined = CombineCRC32C(combined, crc, hi-lo)
		}
		if combined != want {
			t.Fatalf("%d parts: combined %08x, file %08x", parts, combined, want)
		}
	}
}

// Whole files, compressed or not, are digested by their reader (the compressed bytes), or
// read from the file when no reader is given; a file shorter or longer than planned is told.
func TestInputCRC32C_WholeFiles(t *testing.T) {
	plain := []byte(strings.Repeat("{\"text\":\"hello world\"}\n", 5000))
	files := map[string][]byte{"a.jsonl": plain, "a.jsonl.zst": testutil.Zstd(t, plain), "a.jsonl.gz": testutil.Gzip(t, plain),
		"a.txt": []byte("one document\nof two lines\n")}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			path := testutil.WriteFile(t, name, data)
			size := int64(len(data))
			want := crc32.Checksum(data, castagnoli)
			r, err := OpenStream(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			readToEnd(t, r)
			if w := r.(sourced).inputSource().raw.win; w.end != size {
				t.Fatalf("the reader digested %d bytes of %d", w.end, size)
			}
			crc, err := InputCRC32C(r, path, 0, size)
			if err != nil || crc != want {
				t.Fatalf("InputCRC32C = %08x, %v; want %08x", crc, err, want)
			}
			if crc, err := InputCRC32C(nil, path, 0, size); err != nil || crc != want {
				t.Fatalf("InputCRC32C without a reader = %08x, %v; want %08x", crc, err, want)
			}
			if _, err := InputCRC32C(r, path, 0, size-1); !errors.Is(err, ErrInputChanged) || !strings.Contains(err.Error(), path) {
				t.Fatalf("a file longer than planned: %v", err)
			}
			if _, err := InputCRC32C(nil, path, 0, size+10); !errors.Is(err, ErrInputChanged) || !strings.Contains(err.Error(), path) {
				t.Fatalf("a file shorter than planned: %v", err)
			}
		})
	}
	if _, err := InputCRC32C(nil, "/nonexistent/file", 0, 10); err == nil || errors.Is(err, ErrInputChanged) {
		t.Fatalf("a missing file: %v", err)
	}
}
