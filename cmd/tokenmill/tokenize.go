package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime"

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
	for range o.workers {
		go func() {
			var text []byte
			var ids []uint32
			for c := range work {
				c.out, text, ids, c.err = encodeChunk(c, tk, o, text, ids)
				close(c.done)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(work)
		defer close(order)
		readErr <- splitChunks(in, func(data []byte, firstLine int64) bool {
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
	}
	if rerr := <-readErr; err == nil && rerr != nil {
		err = fmt.Errorf("%s: %w", o.source, rerr)
	}
	return err
}

// splitChunks reads in and calls emit with runs of whole lines of about chunkSize bytes (a
// longer line makes a bigger chunk) and the 1-based number of their first line.
func splitChunks(in io.Reader, emit func([]byte, int64) bool) error {
	line := int64(1)
	var carry []byte
	for {
		buf := make([]byte, len(carry), max(chunkSize, 2*len(carry)))
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

func encodeChunk(c *chunk, tk *tokenizer.Tokenizer, o tokenizeOptions, text []byte, ids []uint32) ([]byte, []byte, []uint32, error) {
	out := make([]byte, 0, 3*len(c.data))
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
		for i, id := range ids {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendID(out, id)
		}
		out = append(out, "]}\n"...)
		lineNo++
	}
	return out, text, ids, nil
}

// digitPairs holds "00".."99", for appendID.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendID appends the decimal form of id: strconv.AppendUint two digits at a time and without
// its intermediate buffer, since formatting ids is a third of the command's time otherwise.
func appendID(out []byte, id uint32) []byte {
	var buf [10]byte
	i := len(buf)
	for id >= 100 {
		q := id / 100
		r := (id - q*100) * 2
		i -= 2
		buf[i], buf[i+1] = digitPairs[r], digitPairs[r+1]
		id = q
	}
	if id >= 10 {
		i -= 2
		buf[i], buf[i+1] = digitPairs[id*2], digitPairs[id*2+1]
	} else {
		i--
		buf[i] = byte('0' + id)
	}
	return append(out, buf[i:]...)
}
