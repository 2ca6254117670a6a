package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"unsafe"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/internal/jsonscan"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// cmdTokenize implements `tokenmill tokenize`: JSONL in, one {"ids":[...]} line out per input
// line, in order. Blank input lines give {"ids":[]} so that output line N always belongs to
// input line N. A line that is not a JSON object with a string field stops the command with an
// error naming the line: this is a tool for exact ids, not a filter (`tokenmill run` rejects
// and reports bad records instead).
func cmdTokenize(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("tokenize", "--tokenizer NAME|PATH [flags] [FILE|-]",
		"Encode JSONL documents into token ids: one {\"ids\":[...]} line out per input line, in order.",
		"FILE: JSONL (.gz, .zst); without FILE, or with -, standard input.\n", stdout, stderr)
	fs := c.fs
	tokName := fs.String("tokenizer", "", "tokenizer `NAME|PATH`: a built-in encoding, a .tiktoken file, a tokenizer.json or a SentencePiece BPE .model (required)")
	special := fs.Bool("special", false, "encode special-token strings in the text as special tokens")
	field := fs.String("field", "text", "the JSON string `FIELD` to tokenize")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "encoding goroutines (at least 1)")
	if done, code := c.parse(args); done {
		return code
	}
	switch {
	case *tokName == "":
		return c.usageError("--tokenizer is required")
	case fs.NArg() > 1:
		return c.usageError("unexpected argument %q: one FILE at most", fs.Arg(1))
	}
	if ok, code := c.positiveInt("workers", *workers); !ok {
		return code
	}
	tk, err := tokenizer.Load(*tokName)
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill tokenize:", err)
		return 1
	}
	name, in := "stdin", stdin
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		name = fs.Arg(0)
		rc, err := formats.OpenDecompressed(name)
		if err != nil {
			fmt.Fprintln(stderr, "tokenmill tokenize:", err)
			return 1
		}
		defer rc.Close()
		in = rc
	}
	out := bufio.NewWriterSize(stdout, 1<<20)
	err = tokenizeStream(in, out, tk, tokenizeOptions{
		field: *field, opts: tokenizer.Options{AllowSpecial: *special}, workers: max(1, *workers), source: name,
	})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill tokenize:", err)
		return 1
	}
	return 0
}

type tokenizeOptions struct {
	field   string
	opts    tokenizer.Options
	workers int
	source  string
}

// chunk is a run of whole input lines, encoded by one worker; chunks are written in order.
type chunk struct {
	data      []byte
	firstLine int64
	out       []byte
	err       error
	done      chan struct{}
}

const chunkSize = 1 << 20

// tokenizeStream reads JSONL from in in chunks of whole lines, encodes the chunks on several
// goroutines and writes their output in input order. Memory is bounded by the number of chunks
// in flight (two per worker).
func tokenizeStream(in io.Reader, out io.Writer, tk *tokenizer.Tokenizer, o tokenizeOptions) error {
	work := make(chan *chunk, o.workers)
	order := make(chan *chunk, 2*o.workers)
	// The chunks' input and output buffers are used again once written: fresh ones of a few
	// megabytes each cost the runtime's zeroing and the kernel's page faults, per chunk.
	inBufs, outBufs := make(bufPool, 3*o.workers+2), make(bufPool, 3*o.workers+2)
	for range o.workers {
		go func() {
			var text []byte
			var ids []uint32
			for c := range work {
				c.out, text, ids, c.err = encodeChunk(c, tk, o, text, ids, outBufs.get(3*len(c.data)))
				close(c.done)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(work)
		defer close(order)
		readErr <- splitChunks(in, inBufs.get, func(data []byte, firstLine int64) bool {
			c := &chunk{data: data, firstLine: firstLine, done: make(chan struct{})}
			order <- c
			work <- c
			return true
		})
	}()
	var err error
	for c := range order {
		<-c.done
		if err != nil {
			continue // drain
		}
		if c.err != nil {
			err = c.err
			continue
		}
		if _, werr := out.Write(c.out); werr != nil {
			err = werr
		}
		outBufs.put(c.out)
		inBufs.put(c.data)
	}
	if rerr := <-readErr; err == nil && rerr != nil {
		err = fmt.Errorf("%s: %w", o.source, rerr)
	}
	return err
}

// bufPool holds byte buffers for use again; it drops what it has no room for.
type bufPool chan []byte

// get returns an empty buffer of at least n bytes of capacity.
func (p bufPool) get(n int) []byte {
	select {
	case b := <-p:
		if cap(b) >= n {
			return b[:0]
		}
	default:
	}
	return make([]byte, 0, n)
}

func (p bufPool) put(b []byte) {
	select {
	case p <- b:
	default:
	}
}

// splitChunks reads in and calls emit with runs of whole lines of about chunkSize bytes (a
// longer line makes a bigger chunk) and the 1-based number of their first line. The chunks
// are read into buffers from get (of at least the given capacity).
func splitChunks(in io.Reader, get func(int) []byte, emit func([]byte, int64) bool) error {
	line := int64(1)
	var carry []byte
	for {
		buf := get(max(chunkSize, 2*len(carry)))[:len(carry)]
		copy(buf, carry)
		n, eof, err := fill(in, buf[len(carry):cap(buf)])
		if err != nil {
			return err
		}
		buf = buf[:len(carry)+n]
		cut := bytes.LastIndexByte(buf, '\n') + 1
		if eof {
			cut = len(buf)
		}
		if cut == 0 && !eof { // one line longer than the buffer: read on
			carry = buf
			continue
		}
		if cut > 0 {
			data := buf[:cut]
			emit(data, line)
			line += int64(bytes.Count(data, []byte{'\n'}))
		}
		carry = append([]byte(nil), buf[cut:]...)
		if eof {
			return nil
		}
	}
}

// fill reads from in until p is full or in ends (eof). Only io.EOF ends in: any other error,
// such as the io.ErrUnexpectedEOF of a truncated compressed stream, is returned.
func fill(in io.Reader, p []byte) (n int, eof bool, err error) {
	for n < len(p) {
		m, err := in.Read(p[n:])
		n += m
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

// encodeChunk encodes the lines of c into out (emptied first) and returns it, with the
// scratch buffers text and ids for the next chunk.
func encodeChunk(c *chunk, tk *tokenizer.Tokenizer, o tokenizeOptions, text []byte, ids []uint32, out []byte) ([]byte, []byte, []uint32, error) {
	out = out[:0]
	data := c.data
	lineNo := c.firstLine
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if lineNo == 1 {
			line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
		}
		ids = ids[:0]
		if len(bytes.TrimSpace(line)) > 0 {
			var kind jsonscan.FieldKind
			var err error
			text, kind, err = jsonscan.AppendString(text[:0], line, o.field)
			if kind != jsonscan.FieldOK {
				if err == nil {
					err = fmt.Errorf("field %q: %s", o.field, kind)
				}
				return nil, text, ids, fmt.Errorf("%s:%d: %w", o.source, lineNo, err)
			}
			ids = tk.AppendBytes(ids, text, o.opts)
		}
		out = append(out, `{"ids":[`...)
		out = appendIDs(out, ids)
		out = append(out, "]}\n"...)
		lineNo++
	}
	return out, text, ids, nil
}

// appendIDs appends the decimal forms of ids separated by commas. An id below a million is
// split into its thousands and the rest and made from two table entries: the thousands'
// digits without leading zeros, and the rest's three digits (or, below a thousand, its digits
// without leading zeros) with the comma, shifted past the first and stored as one 8-byte word.
// The tables (17 KB) stay in the L1 and L2 caches; the word needs one variable shift and no
// branch, and the loop no bounds check (formatIDs). Larger ids (vocabularies of a million
// tokens and more) go through strconv.
func appendIDs(out []byte, ids []uint32) []byte {
	if len(ids) == 0 {
		return out
	}
	// An id takes 11 bytes at most (10 digits and a comma); a word is stored whole, up to 7
	// bytes past the id's text.
	out = slices.Grow(out, 11*len(ids)+8)
	n := formatIDs(out[len(out):cap(out)], ids)
	return out[:len(out)+n-1] // without the last comma
}

// formatIDs writes ids at the start of b, each followed by a comma, and returns the bytes
// written; b must hold 11*len(ids)+8 bytes.
func formatIDs(b []byte, ids []uint32) int {
	_ = b[11*len(ids)+7] // every store below is within b
	p := unsafe.Pointer(unsafe.SliceData(b))
	t := &idTables
	n := 0
	for _, id := range ids {
		if id >= 1_000_000 {
			n += len(strconv.AppendUint(b[n:n], uint64(id), 10)) // in place: b has room
			b[n] = ','
			n++
			continue
		}
		hi := id / 1000
		lo := id - hi*1000
		j := lo | (hi+1023)&1024 // the three digits when hi is not 0
		w := uint64(t.hiText[hi]) | uint64(t.loText[j])<<(t.hiBits[hi]&63)
		*(*uint64)(unsafe.Add(p, n)) = w // n+8 <= 11*len(ids)+8: an id's text is at most 11 bytes
		n += int(t.hiLen[hi]) + int(t.loLen[j])
	}
	return n
}

// idTables is formatIDs' tables. For x below 1000: hiText[x] is x's digits without leading zeros
// (none for 0; the first in the low byte), hiLen[x] their number and hiBits[x] eight times it;
// loText[x] is x's digits without leading zeros ("0" for 0) and a comma, loText[1024+x] x's three
// digits and a comma, loLen their lengths.
var idTables = func() (t struct {
	hiText [1000]uint32
	hiLen  [1000]uint8
	hiBits [1000]uint8
	loText [2048]uint32
	loLen  [2048]uint8
}) {
	for x := range 1000 {
		d := 1 + min(x/10, 1) + min(x/100, 1)
		var text uint32
		for k, v := d-1, x; k >= 0; k, v = k-1, v/10 {
			text |= uint32('0'+v%10) << (8 * k)
		}
		if x > 0 {
			t.hiText[x], t.hiLen[x], t.hiBits[x] = text, uint8(d), uint8(8*d)
		}
		t.loText[x], t.loLen[x] = text|','<<(8*d), uint8(d+1)
		t.loText[1024+x] = uint32('0'+x/100) | uint32('0'+x/10%10)<<8 | uint32('0'+x%10)<<16 | ','<<24
		t.loLen[1024+x] = 4
	}
	return t
}()
