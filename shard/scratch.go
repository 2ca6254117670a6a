package shard

import "github.com/tokenmill/tokenmill/formats"

// Scratch is the memory a worker carries from shard to shard: the reader's line buffer and
// decompressor, the text and token buffers sized by the longest document seen so far. Without
// it every shard grows them afresh, and fresh memory costs a page fault per 4 KiB on first
// touch. A Scratch serves one shard at a time (one per worker goroutine); the zero value is
// ready to use.
type Scratch struct {
	read    formats.Buffers
	ids     []uint32
	text    []byte // the decoded text field
	rejects []byte // one rejects.jsonl line
}

// keepBytes bounds each buffer a Scratch keeps for the next shard: one document of tens of
// megabytes must not hold that memory for the rest of the run, on every worker it visits.
const keepBytes = 16 << 20

// keep takes back the shard's buffers for the next one, those under keepBytes.
func (s *Scratch) keep(text, rejects []byte, ids []uint32) {
	s.text, s.rejects, s.ids = nil, nil, nil
	if cap(text) <= keepBytes {
		s.text = text[:0]
	}
	if cap(rejects) <= keepBytes {
		s.rejects = rejects[:0]
	}
	if 4*cap(ids) <= keepBytes {
		s.ids = ids[:0]
	}
}

// Close releases the decompressors the Scratch holds; it can be used again afterwards.
func (s *Scratch) Close() {
	if s != nil {
		s.read.Close()
	}
}

// readBuffers returns the reader's buffers to lend, or nil without a Scratch.
func (s *Scratch) readBuffers() *formats.Buffers {
	if s == nil {
		return nil
	}
	return &s.read
}
