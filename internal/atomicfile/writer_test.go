package atomicfile

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"
)

// A Writer writes exactly the bytes given, in order, whatever the sizes of the writes, in
// direct mode (where the file system takes O_DIRECT) and through the page cache; the header
// rewritten after Finish lands as with any file.
func TestWriter_WritesTheBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	data := make([]byte, 3*directChunk+12345)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sizes := map[string]func() int{
		"tiny":        func() int { return 1 + rng.IntN(7) },
		"small":       func() int { return 1 + rng.IntN(5000) },
		"chunk-sized": func() int { return directChunk },
		"large":       func() int { return directChunk + 1 + rng.IntN(directChunk) },
		"aligned":     func() int { return directAlign * (1 + rng.IntN(300)) },
	}
	for name, size := range sizes {
		for _, buffered := range []bool{false, true} {
			path := filepath.Join(t.TempDir(), "out")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w := NewWriter(f)
			if buffered && w.direct {
				if err := setDirect(f, false); err != nil {
					t.Fatal(err)
				}
				w.direct = false
				w.release()
			}
			direct := w.direct
			for p := data; len(p) > 0; {
				n := min(size(), len(p))
				if m, err := w.Write(p[:n]); err != nil || m != n {
					t.Fatalf("%s: Write(%d bytes) = %d, %v", name, n, m, err)
				}
				p = p[n:]
			}
			if got := w.Offset(); got != int64(len(data)) {
				t.Fatalf("%s: Offset %d, want %d", name, got, len(data))
			}
			if err := w.Finish(); err != nil {
				t.Fatal(err)
			}
			if w.buf != nil || w.free != nil {
				t.Fatalf("%s: the direct buffer is kept after Finish", name)
			}
			if _, err := f.WriteAt([]byte("HEADER"), 0); err != nil {
				t.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]byte("HEADER"), data[6:]...)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s (direct %v): file differs from the bytes written (%d vs %d bytes)", name, direct, len(got), len(want))
			}
		}
	}
}

// On Linux, where the test directory's file system takes O_DIRECT, outputs use it.
func TestWriter_DirectWhereAvailable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("O_DIRECT is Linux's")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "probe"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := setDirect(f, true); err != nil {
		t.Skipf("this file system refuses O_DIRECT (%v): outputs go through the page cache", err)
	}
	setDirect(f, false)
	w := NewWriter(f)
	if !w.direct || cap(w.buf) != directChunk {
		t.Fatalf("direct %v, buffer %d bytes", w.direct, cap(w.buf))
	}
	if addr := uintptr(unsafe.Pointer(unsafe.SliceData(w.buf))); addr%directChunk != 0 {
		t.Fatalf("the direct buffer at %#x is not aligned to %d", addr, directChunk)
	}
	if _, err := w.Write(make([]byte, directChunk+100)); err != nil {
		t.Fatal(err)
	}
	if !w.direct {
		t.Fatal("the first direct write fell back to the page cache")
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
}

// misalignedDirectWriter returns a Writer of a new file whose direct writes the kernel refuses
// (EINVAL), its buffer not being aligned, as a file system that takes the flag and not the
// writes would answer; it skips the test where O_DIRECT is refused at open.
func misalignedDirectWriter(t *testing.T) (*Writer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	w := NewWriter(f)
	if !w.direct {
		t.Skip("this file system refuses O_DIRECT: nothing to fall back from")
	}
	w.buf = make([]byte, directChunk+1)[1:1] // misaligned
	return w, path
}

// A direct write that the kernel refuses (EINVAL: here a buffer that is not aligned, as a file
// system that takes the flag and not the writes would answer) falls back to the page cache
// for the rest of the file, losing nothing.
func TestWriter_FallsBackWhenADirectWriteFails(t *testing.T) {
	w, path := misalignedDirectWriter(t)
	// Misaligned too, so that its blocks go through the buffer rather than from where they lie.
	data := make([]byte, 2*directChunk+333+1)[1:]
	for i := range data {
		data[i] = byte(i * 7)
	}
	if n, err := w.Write(data[:directChunk+100]); err != nil || n != directChunk+100 {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if w.direct || w.free != nil {
		t.Fatalf("after a refused direct write: direct %v, buffer still mapped %v", w.direct, w.free != nil)
	}
	if n, err := w.Write(data[directChunk+100:]); err != nil || n != len(data)-directChunk-100 {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("file holds %d bytes, not the %d written", len(got), len(data))
	}
}

// Bytes that lie, from the file's next 4 KiB boundary on, at an address aligned to 4 KiB go to
// the file from where they lie, their whole blocks without passing through the buffer; the file
// holds the same bytes as with any other writes.
func TestWriter_WritesAlignedBytesWhereTheyLie(t *testing.T) {
	tests := []struct {
		name   string
		before int // bytes written first, through the buffer
		size   int // bytes of the aligned write
	}{
		{"at offset 0", 0, 3 << 20},
		{"after a .npy header", 128, 1 << 20},
		{"one byte short of a block", 4095, 1<<20 + 17},
		{"past a block, a short write", 5000, 4096 + 3},
		{"after a full buffer", directChunk, 2<<20 + 4096*3 + 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w := NewWriter(f)
			if !w.direct {
				t.Skip("this file system refuses O_DIRECT")
			}
			rng := rand.New(rand.NewPCG(uint64(tt.before), 3))
			head := make([]byte, tt.before)
			for i := range head {
				head[i] = byte(rng.Uint32())
			}
			if _, err := w.Write(head); err != nil {
				t.Fatal(err)
			}
			// The write's bytes start at the file offset's place within a 4 KiB block of an
			// aligned block of memory, as the assembly's row chunks do.
			block := make([]byte, tt.size+2*4096)
			at := (4096-int(uintptr(unsafe.Pointer(&block[0])))%4096)%4096 + tt.before%4096
			data := block[at : at+tt.size]
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			mark := w.buf[:cap(w.buf)]
			mark[len(mark)-1] = 0xAB // the buffer's last byte: overwritten if the blocks were copied
			if n, err := w.Write(data); err != nil || n != len(data) {
				t.Fatalf("Write = %d, %v", n, err)
			}
			if !w.direct {
				t.Fatal("fell back to the page cache")
			}
			if tt.size > directChunk && mark[len(mark)-1] != 0xAB {
				t.Error("the aligned blocks went through the buffer")
			}
			finishHolds(t, w, path, append(head, data...))
		})
	}
}

// A refused direct write of the buffer and of bytes where they lie (here the buffer is not
// aligned) falls back to the page cache for the rest of the file, losing nothing.
func TestWriter_FallsBackWhenAWriteWhereTheBytesLieFails(t *testing.T) {
	w, path := misalignedDirectWriter(t)
	head := []byte("0123456789")
	if _, err := w.Write(head); err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 1<<20+2*4096)
	at := (4096-int(uintptr(unsafe.Pointer(&block[0])))%4096)%4096 + len(head)
	data := block[at : at+1<<20]
	for i := range data {
		data[i] = byte(i * 13)
	}
	if n, err := w.Write(data); err != nil || n != len(data) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if w.direct || w.free != nil {
		t.Fatalf("after a refused direct write: direct %v, buffer still mapped %v", w.direct, w.free != nil)
	}
	finishHolds(t, w, path, append(head, data...))
}

// finishHolds finishes w and fails unless its file, path, holds want.
func finishHolds(t *testing.T, w *Writer, path string, want []byte) {
	t.Helper()
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file holds %d bytes, not the %d written (or other bytes)", len(got), len(want))
	}
}

func TestAlignedBytes_AlignedZeroedAndSized(t *testing.T) {
	for _, n := range []int{0, 1, directAlign - 1, directAlign, 3*directAlign + 5, 6 << 20} {
		b := AlignedBytes(n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("AlignedBytes(%d): len %d cap %d", n, len(b), cap(b))
		}
		if n > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%directAlign != 0 {
			t.Fatalf("AlignedBytes(%d) starts off a %d-byte boundary", n, directAlign)
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("AlignedBytes(%d)[%d] = %d", n, i, v)
			}
		}
	}
}

func TestMapBuffer_AlignedZeroedAndFreedOnce(t *testing.T) {
	for _, n := range []int{1, directAlign, directChunk, directChunk + 1} {
		b, free := mapBuffer(n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("mapBuffer(%d): len %d cap %d", n, len(b), cap(b))
		}
		if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%directAlign != 0 {
			t.Fatalf("mapBuffer(%d) starts off a %d-byte boundary", n, directAlign)
		}
		for i := range b {
			if b[i] != 0 {
				t.Fatalf("mapBuffer(%d)[%d] = %d", n, i, b[i])
			}
			b[i] = 1
		}
		free()
		free() // a second call does nothing
	}
}
