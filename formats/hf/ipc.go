package hf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/table"
)

// newStreamReader reads the Arrow IPC stream of f through ipcMessages, which checks every
// message against the file's size before arrow-go decodes it.
// With lend, the batches' memory is reused once the reader has released them (see
// ipcMessages): for readers whose callers copy what they keep of a batch before the next one.
func newStreamReader(f *os.File, lend bool) (*ipc.Reader, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var mem *table.Allocator
	if lend {
		mem = &table.Allocator{}
	}
	return newIPCMessages(f, fi.Size(), mem).reader()
}

// NewStreamReader reads an Arrow IPC stream of size bytes from r, checking each message
// against that size before arrow-go decodes it (see ipcMessages). Every reader of Arrow
// streams that come from outside the process uses it instead of ipc.NewReader, which lets a
// corrupt 2 KiB file exhaust the memory.
func NewStreamReader(r io.Reader, size int64) (*ipc.Reader, error) {
	return newIPCMessages(r, size, nil).reader()
}

func newIPCMessages(r io.Reader, size int64, mem *table.Allocator) *ipcMessages {
	m := &ipcMessages{r: r, size: size, mem: mem}
	m.refs.Add(1)
	return m
}

// reader is the ipc.Reader of the stream. With mem, decompressed buffers (of a compressed
// stream) come from it too, as the message bodies do.
func (m *ipcMessages) reader() (*ipc.Reader, error) {
	if m.mem == nil {
		return ipc.NewReaderFromMessageReader(m) // which releases m on failure
	}
	return ipc.NewReaderFromMessageReader(m, ipc.WithAllocator(m.mem))
}

// ipcMessages is an ipc.MessageReader that frames the messages of an Arrow IPC stream as
// arrow-go's own does, and checks each one before arrow-go sees it. arrow-go trusts the
// lengths a message states and allocates them before reading anything:
//
//   - the metadata and body lengths of the message's prefix and header: up to 2 GiB and any
//     size. ipc.NewReader does not apply the limits it documents for them (v18.8.0 builds
//     its message reader without them): a 4-byte file made it allocate 1.5 GiB. Here no
//     part may be longer than the file, whose size is known, so a huge real batch is
//     still read.
//   - the uncompressed length that each buffer of a compressed record batch states in its
//     first eight bytes: arrow-go allocates it, then decompresses into it. A 368-byte file
//     claiming 1 TiB was a fatal out-of-memory. checkCompressed lets a claim past
//     ipcTrustedClaim through only when the buffer really decompresses to that length.
//   - the vector lengths inside the flatbuffer metadata (the fields of a schema, a field's
//     children, custom metadata, ...), from which it makes slices unchecked: a 2 KiB file
//     whose schema said 4 billion fields made it ask for 148 GB, a fatal out-of-memory that
//     no recover catches. checkIPCMetadata checks every vector of the tables arrow-go reads
//     against the metadata's size.
//
// Anything else wrong in a message panics inside arrow-go, and BatchReader.Next turns
// that into an error (table.RecoverErr).
//
// With mem, each message body is read into a buffer of mem that goes back to it when the last
// array of its record batch is released, for a later body: a fresh body per batch (11 MB per
// thousand documents of source code) took 10 thousand page faults to read a 40 MB HF dataset.
// Only for readers whose callers copy what they keep: a string taken from a batch (arrow-go's
// String.Value aliases the buffer) is overwritten once its memory is reused. Without mem,
// each body is a new slice that the garbage collector frees when nothing refers to it.
type ipcMessages struct {
	r    io.Reader
	size int64            // the file's size
	mem  *table.Allocator // nil: bodies are not reused
	msg  *ipc.Message
	refs atomic.Int64
}

func (m *ipcMessages) Retain() { m.refs.Add(1) }

func (m *ipcMessages) Release() {
	if m.refs.Add(-1) == 0 && m.msg != nil {
		m.msg.Release()
		m.msg = nil
	}
}

// Message reads the next message; io.EOF at the end-of-stream marker or the end of the file.
func (m *ipcMessages) Message() (*ipc.Message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(m.r, hdr[:]); err != nil {
		return nil, fmt.Errorf("arrow/ipc: could not read continuation indicator: %w", err)
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n == 0xFFFFFFFF { // the continuation marker; older streams start with the length
		if _, err := io.ReadFull(m.r, hdr[:]); err != nil {
			return nil, fmt.Errorf("arrow/ipc: could not read message length: %w", unexpected(err))
		}
		n = binary.LittleEndian.Uint32(hdr[:])
	}
	if n == 0 {
		return nil, io.EOF
	}
	if int32(n) < 4 || int64(n) > m.size {
		return nil, fmt.Errorf("arrow/ipc: invalid message metadata length %d (file of %d bytes)", int32(n), m.size)
	}
	meta := make([]byte, n)
	if _, err := io.ReadFull(m.r, meta); err != nil {
		return nil, fmt.Errorf("arrow/ipc: could not read message metadata: %w", unexpected(err))
	}
	bodyLen, batch, err := checkIPCMetadata(meta)
	if err != nil {
		return nil, fmt.Errorf("arrow/ipc: invalid message metadata: %w", err)
	}
	if bodyLen < 0 || bodyLen > m.size {
		return nil, fmt.Errorf("arrow/ipc: invalid message body length %d (file of %d bytes)", bodyLen, m.size)
	}
	// The reader asks for a message once it is done with the last one (the batch it made
	// holds its own references to the body).
	if m.msg != nil {
		m.msg.Release()
		m.msg = nil
	}
	var body []byte
	var bb *memory.Buffer
	if m.mem != nil {
		body = m.mem.Take(int(bodyLen))
		bb = memory.NewBufferWithAllocator(body, m.mem) // back to mem when the last reference goes
	} else {
		body = make([]byte, bodyLen)
		bb = memory.NewBufferBytes(body)
	}
	if _, err := io.ReadFull(m.r, body); err != nil {
		bb.Release()
		return nil, fmt.Errorf("arrow/ipc: could not read message body: %w", unexpected(err))
	}
	if err := batch.checkCompressed(meta, body); err != nil {
		bb.Release()
		return nil, fmt.Errorf("arrow/ipc: invalid message body: %w", err)
	}
	mb := memory.NewBufferBytes(meta)
	m.msg = ipc.NewMessage(mb, bb) // retains both
	mb.Release()
	bb.Release()
	return m.msg, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// The vtable offsets of the fields of Arrow's Message.fbs and Schema.fbs tables that
// checkIPCMetadata follows (as arrow-go's generated flatbuf package reads them).
const (
	fbMessageHeaderType = 6
	fbMessageHeader     = 8
	fbMessageBodyLength = 10
	fbMessageMetadata   = 12

	fbSchemaFields   = 6
	fbSchemaMetadata = 8
	fbSchemaFeatures = 10

	fbFieldTypeType   = 8
	fbFieldType       = 10
	fbFieldDictionary = 12
	fbFieldChildren   = 14
	fbFieldMetadata   = 16

	fbRecordBatchNodes       = 6
	fbRecordBatchBuffers     = 8
	fbRecordBatchCompression = 10
	fbRecordBatchVariadic    = 12

	fbBodyCompressionCodec = 4
	fbCodecLZ4Frame        = 0 // CompressionType values
	fbCodecZstd            = 1

	fbDictionaryBatchData = 6
	fbUnionTypeIDs        = 6
	fbDictionaryIndexType = 6

	fbHeaderSchema          = 1 // MessageHeader values
	fbHeaderDictionaryBatch = 2
	fbHeaderRecordBatch     = 3
	fbTypeUnion             = 14 // Type value
)

// checkIPCMetadata checks the flatbuffer metadata of one IPC message: every table, vtable,
// vector and string that arrow-go reads lies inside meta, and the fields of a schema are
// not more than meta can hold (offsets may share one table: a small file could otherwise
// describe a tree of billions of fields). It returns the body length the message states and,
// for a record or dictionary batch, where its buffers are described.
func checkIPCMetadata(meta []byte) (int64, ipcBatch, error) {
	c := fbCheck{b: meta, budget: len(meta)}
	msg, err := c.root()
	if err != nil {
		return 0, ipcBatch{}, err
	}
	if err := c.keyValues(msg, fbMessageMetadata); err != nil {
		return 0, ipcBatch{}, err
	}
	bodyLen, err := c.int64(msg, fbMessageBodyLength)
	if err != nil {
		return 0, ipcBatch{}, err
	}
	typ, err := c.uint8(msg, fbMessageHeaderType)
	if err != nil {
		return 0, ipcBatch{}, err
	}
	hdr, ok, err := c.table(msg, fbMessageHeader)
	if err != nil || !ok {
		return bodyLen, ipcBatch{}, err // no header: arrow-go reports it
	}
	var batch ipcBatch
	switch typ {
	case fbHeaderSchema:
		err = c.schema(hdr)
	case fbHeaderRecordBatch:
		batch, err = c.recordBatch(hdr)
	case fbHeaderDictionaryBatch:
		var rb fbTable
		if rb, ok, err = c.table(hdr, fbDictionaryBatchData); err == nil && ok {
			batch, err = c.recordBatch(rb)
		}
	}
	return bodyLen, batch, err
}

// ipcTrustedClaim is the largest uncompressed length a compressed buffer may state without
// being decompressed once to check it. Real buffers past it cost a second decompression;
// a false claim costs at most this much memory before arrow-go's read of it fails.
const ipcTrustedClaim = 16 << 20

// ipcBatch locates the buffer descriptions of a record batch in its metadata: n Buffer
// structs (offset, length: two little-endian int64s) from bufs on, and the codec of its
// compressed body, -1 when the body is not compressed.
type ipcBatch struct {
	bufs, n int
	codec   int
}

// checkCompressed checks the uncompressed length each buffer of a compressed batch states
// (see ipcMessages). Buffers whose place in the body is wrong are left to arrow-go, which
// fails on them (a panic that the readers recover into an error).
func (b ipcBatch) checkCompressed(meta, body []byte) error {
	if b.n == 0 || b.codec < 0 {
		return nil
	}
	for i := range b.n {
		p := b.bufs + 16*i
		off := int64(binary.LittleEndian.Uint64(meta[p:]))
		n := int64(binary.LittleEndian.Uint64(meta[p+8:]))
		if off < 0 || n < 8 || off > int64(len(body))-n {
			continue
		}
		claim := int64(binary.LittleEndian.Uint64(body[off:]))
		if claim == -1 { // stored uncompressed
			continue
		}
		if claim < 0 {
			return fmt.Errorf("buffer %d states an uncompressed length of %d", i, claim)
		}
		if claim <= ipcTrustedClaim {
			continue
		}
		got, err := uncompressedLen(b.codec, body[off+8:off+n], claim)
		if err != nil {
			return fmt.Errorf("buffer %d: %w", i, err)
		}
		if got != claim {
			return fmt.Errorf("buffer %d states an uncompressed length of %d, but holds %d bytes", i, claim, got)
		}
	}
	return nil
}

// uncompressedLen decompresses data to nowhere and returns its length, reading at most one
// byte past limit.
func uncompressedLen(codec int, data []byte, limit int64) (int64, error) {
	var r io.Reader
	switch codec {
	case fbCodecZstd:
		zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(formats.ZstdMaxWindow))
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		r = zr
	case fbCodecLZ4Frame:
		r = lz4.NewReader(bytes.NewReader(data))
	default:
		return 0, fmt.Errorf("unknown compression codec %d", codec)
	}
	return io.Copy(io.Discard, io.LimitReader(r, limit+1))
}

// fbCheck walks a flatbuffer, checking each offset before following it.
type fbCheck struct {
	b      []byte
	budget int // fields left to visit
}

// fbTable is a table whose vtable lies in the buffer.
type fbTable struct{ pos, vt, vtLen int }

var errFB = errors.New("offset out of range")

func (c *fbCheck) u32(p int) (int, error) {
	if p < 0 || p > len(c.b)-4 {
		return 0, errFB
	}
	return int(binary.LittleEndian.Uint32(c.b[p:])), nil
}

// deref follows the uoffset at p.
func (c *fbCheck) deref(p int) (int, error) {
	off, err := c.u32(p)
	if err != nil {
		return 0, err
	}
	if off > len(c.b)-p {
		return 0, errFB
	}
	return p + off, nil
}

func (c *fbCheck) root() (fbTable, error) { return c.tableAt(0) }

// tableAt reads the table the uoffset at p points to.
func (c *fbCheck) tableAt(p int) (fbTable, error) {
	pos, err := c.deref(p)
	if err != nil {
		return fbTable{}, err
	}
	soff, err := c.u32(pos)
	if err != nil {
		return fbTable{}, err
	}
	vt := pos - int(int32(uint32(soff)))
	if vt < 0 || vt > len(c.b)-4 {
		return fbTable{}, errFB
	}
	vtLen := int(binary.LittleEndian.Uint16(c.b[vt:]))
	if vtLen < 4 || vtLen%2 != 0 || vt+vtLen > len(c.b) {
		return fbTable{}, errFB
	}
	return fbTable{pos, vt, vtLen}, nil
}

// field returns the position of the field at vtable offset voff, 0 when absent.
func (c *fbCheck) field(t fbTable, voff int) int {
	if voff+2 > t.vtLen {
		return 0
	}
	if off := int(binary.LittleEndian.Uint16(c.b[t.vt+voff:])); off != 0 {
		return t.pos + off
	}
	return 0
}

func (c *fbCheck) scalar(t fbTable, voff, size int) (int, error) {
	p := c.field(t, voff)
	if p != 0 && p > len(c.b)-size {
		return 0, errFB
	}
	return p, nil
}

func (c *fbCheck) uint8(t fbTable, voff int) (uint8, error) {
	p, err := c.scalar(t, voff, 1)
	if err != nil || p == 0 {
		return 0, err
	}
	return c.b[p], nil
}

func (c *fbCheck) int64(t fbTable, voff int) (int64, error) {
	p, err := c.scalar(t, voff, 8)
	if err != nil || p == 0 {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(c.b[p:])), nil
}

func (c *fbCheck) table(t fbTable, voff int) (fbTable, bool, error) {
	p := c.field(t, voff)
	if p == 0 {
		return fbTable{}, false, nil
	}
	tt, err := c.tableAt(p)
	return tt, err == nil, err
}

// vector returns the position of the first element and the length of the vector at voff,
// checked to fit in the buffer with elements of elem bytes.
func (c *fbCheck) vector(t fbTable, voff, elem int) (int, int, error) {
	p := c.field(t, voff)
	if p == 0 {
		return 0, 0, nil
	}
	v, err := c.deref(p)
	if err != nil {
		return 0, 0, err
	}
	n, err := c.u32(v)
	if err != nil {
		return 0, 0, err
	}
	if n > (len(c.b)-v-4)/elem {
		return 0, 0, fmt.Errorf("a vector of %d elements in %d bytes", n, len(c.b))
	}
	return v + 4, n, nil
}

// tables calls fn with each table of the vector of tables at voff.
func (c *fbCheck) tables(t fbTable, voff int, fn func(fbTable) error) error {
	start, n, err := c.vector(t, voff, 4)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		e, err := c.tableAt(start + 4*i)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// keyValues checks a custom_metadata vector (its strings arrow-go slices with bounds checks).
func (c *fbCheck) keyValues(t fbTable, voff int) error {
	return c.tables(t, voff, func(fbTable) error { return nil })
}

func (c *fbCheck) schema(s fbTable) error {
	if err := c.keyValues(s, fbSchemaMetadata); err != nil {
		return err
	}
	if _, _, err := c.vector(s, fbSchemaFeatures, 8); err != nil {
		return err
	}
	return c.tables(s, fbSchemaFields, c.fieldTable)
}

func (c *fbCheck) fieldTable(f fbTable) error {
	if c.budget--; c.budget < 0 {
		return errors.New("more fields than the metadata holds")
	}
	if err := c.keyValues(f, fbFieldMetadata); err != nil {
		return err
	}
	typ, err := c.uint8(f, fbFieldTypeType)
	if err != nil {
		return err
	}
	if typ == fbTypeUnion {
		if u, ok, err := c.table(f, fbFieldType); err != nil {
			return err
		} else if ok {
			if _, _, err := c.vector(u, fbUnionTypeIDs, 4); err != nil {
				return err
			}
		}
	}
	if d, ok, err := c.table(f, fbFieldDictionary); err != nil {
		return err
	} else if ok {
		if _, _, err := c.table(d, fbDictionaryIndexType); err != nil {
			return err
		}
	}
	return c.tables(f, fbFieldChildren, c.fieldTable)
}

func (c *fbCheck) recordBatch(rb fbTable) (ipcBatch, error) {
	batch := ipcBatch{codec: -1}
	for _, v := range []struct{ voff, elem int }{
		{fbRecordBatchNodes, 16},   // FieldNode: length, null count
		{fbRecordBatchBuffers, 16}, // Buffer: offset, length
		{fbRecordBatchVariadic, 8},
	} {
		start, n, err := c.vector(rb, v.voff, v.elem)
		if err != nil {
			return batch, err
		}
		if v.voff == fbRecordBatchBuffers {
			batch.bufs, batch.n = start, n
		}
	}
	comp, ok, err := c.table(rb, fbRecordBatchCompression)
	if err != nil || !ok {
		return batch, err
	}
	codec, err := c.uint8(comp, fbBodyCompressionCodec) // absent: LZ4_FRAME, the default
	batch.codec = int(codec)
	return batch, err
}
