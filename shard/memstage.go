package shard

import "sync"

// MemStage holds the staged row streams of a local run in memory, up to a budget of bytes. A
// shard that cannot write its rows straight into the outputs (it is not next in plan order)
// stages them here instead of writing them to a file that the Assembler reads back. A stream
// that needs memory beyond the budget moves to its staged file (the bytes it held first) and
// goes on there, so memory stays bounded whatever the size of the job. A stream held here has
// no CRC-32C: its bytes never leave the process, so there is no accident for it to catch.
//
// Only a runner that assembles in the same process can use one: Env.MemStage for its shards
// and FinalizeEnv.MemStage for its Assembler, the same MemStage. A cluster's shards stage on
// disk, where a committed result survives the worker that staged it.
//
// A MemStage is safe for concurrent use. Its memory is cut into chunks that go back to it once
// the Assembler has copied a stream's rows, and are reused by the streams staged after.
type MemStage struct {
	chunk int   // bytes of a chunk, a multiple of 4
	limit int64 // the budget, rounded down to whole chunks

	mu      sync.Mutex
	held    int64               // bytes allocated (in streams and free)
	free    [][]byte            // unused chunks, last in first out
	streams map[string]memEntry // closed streams by staged file name
	kept    int64               // bytes of the streams closed in memory
	spilled int64               // bytes of the streams that moved to their files
}

// memEntry is one closed stream: its chunks, full but the last, and its length.
type memEntry struct {
	chunks [][]byte
	n      int64
}

// DefaultStageMemory is the budget of a local run's staged rows in memory when its options
// name none.
const DefaultStageMemory = 256 << 20

// NewMemStage returns a MemStage of budget bytes, or nil when budget is below a chunk of the
// smallest size (4 KiB): a nil MemStage stages everything on disk. Chunks are a 64th of the
// budget, at least 4 KiB and at most 1 MiB, allocated one at a time on the heap's pages
// (not huge pages: a stream touches only the pages it fills, and a small one, as a val
// split's often is, touches a few).
func NewMemStage(budget int64) *MemStage {
	const page = 4 << 10
	if budget < page {
		return nil
	}
	chunk := int(min(max(budget/64, page), 1<<20)) &^ (page - 1)
	return &MemStage{chunk: chunk, limit: budget - budget%int64(chunk), streams: map[string]memEntry{}}
}

// take returns an empty chunk, or nil when the budget is spent; nil-safe.
func (m *MemStage) take() []byte {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.free) == 0 {
		if m.held+int64(m.chunk) > m.limit {
			return nil
		}
		m.held += int64(m.chunk)
		m.free = append(m.free, make([]byte, 0, m.chunk))
	}
	c := m.free[len(m.free)-1]
	m.free = m.free[:len(m.free)-1]
	return c[:0]
}

// giveBack returns chunks to the free list.
func (m *MemStage) giveBack(chunks [][]byte) {
	for i := len(chunks) - 1; i >= 0; i-- {
		m.free = append(m.free, chunks[i][:0])
	}
}

// keep records the closed stream name: its chunks and its length n.
func (m *MemStage) keep(name string, chunks [][]byte, n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.streams[name] = memEntry{chunks: chunks, n: n}
	m.kept += n
}

// drop gives the chunks of a stream that was never kept back (a failed shard's); nil-safe.
func (m *MemStage) drop(chunks [][]byte) {
	if m == nil || len(chunks) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.giveBack(chunks)
}

// spill counts n bytes of a stream that moved to its file.
func (m *MemStage) spill(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.spilled += n
}

// stream returns the kept stream name; ok is false when it is not here; nil-safe.
func (m *MemStage) stream(name string) (e memEntry, ok bool) {
	if m == nil {
		return memEntry{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok = m.streams[name]
	return e, ok
}

// release forgets the kept stream name and reuses its chunks; it reports whether the stream
// was here. nil-safe.
func (m *MemStage) release(name string) bool {
	if m == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.streams[name]
	if ok {
		delete(m.streams, name)
		m.giveBack(e.chunks)
	}
	return ok
}

// MemStageStats is what a MemStage held over its life.
type MemStageStats struct {
	// Kept is the bytes of the streams staged in memory to the end, Spilled those of the
	// streams that moved to their files once the budget was spent.
	Kept, Spilled int64
	// Peak is the memory the MemStage allocated, at most its budget.
	Peak int64
}

// Stats returns what the MemStage held so far; nil-safe (the zero value).
func (m *MemStage) Stats() MemStageStats {
	if m == nil {
		return MemStageStats{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return MemStageStats{Kept: m.kept, Spilled: m.spilled, Peak: m.held}
}
