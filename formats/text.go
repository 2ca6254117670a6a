package formats

import (
	"bytes"
	"io"

	"github.com/tokenmill/tokenmill/internal/jsonscan"
)

// textReader yields the whole file as one document (UTF-8 BOM stripped).
type textReader struct {
	src  *source
	opt  Options
	done bool
}

func newTextReader(src *source, opt Options) (Reader, error) {
	return &textReader{src: src, opt: opt}, nil
}

func (t *textReader) Next() (Record, error) {
	if t.done {
		return Record{}, io.EOF
	}
	t.done = true
	// Read at most MaxRecord+1 bytes; past that, count the rest in bounded memory. The
	// buffer is the one the Buffers lend, when they do: a directory of small documents
	// would otherwise make (and first touch) a buffer per file.
	var buf *bytes.Buffer
	if bufs := t.src.bufs; bufs != nil {
		buf = bytes.NewBuffer(bufs.line[:0])
		defer func() { bufs.keepLine(buf.Bytes()) }()
	} else {
		buf = new(bytes.Buffer)
	}
	if t.src.comp == CompressionNone {
		if fi, err := t.src.f.Stat(); err == nil && fi.Size() < t.opt.MaxRecord {
			buf.Grow(int(fi.Size()) + bytes.MinRead) // one read to the end, no doubling
		}
	}
	n, err := io.Copy(buf, io.LimitReader(t.src, t.opt.MaxRecord+1))
	if err != nil {
		return Record{}, t.src.readErr("byte "+itoa(n), err)
	}
	b := bytes.TrimPrefix(buf.Bytes(), bom)
	rec := Record{Source: t.src.path, Row: -1, Offset: 0, Field: t.opt.Field}
	if n > t.opt.MaxRecord {
		rest, err := io.Copy(io.Discard, t.src)
		if err != nil {
			return Record{}, t.src.readErr("byte "+itoa(n+rest), err)
		}
		rec.TooLong, rec.Raw, rec.Size = true, b[:t.opt.PrefixLen], int64(len(b))+rest
		return rec, nil
	}
	if len(b) == 0 {
		return Record{}, io.EOF // an empty file holds no document
	}
	rec.Raw, rec.Value, rec.Kind, rec.Size = b, b, jsonscan.FieldOK, int64(len(b))
	return rec, nil
}

func (t *textReader) Close() error { return t.src.Close() }

// InputBytes implements InputCounter.
func (t *textReader) InputBytes() int64 { return t.src.raw.n }
