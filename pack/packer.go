package pack

import (
	"errors"
	"fmt"
	"slices"
)

// EmitFunc receives one full row of exactly length tokens. The row slice is only valid during
// the call (it may alias the packer's buffer or the added document): copy or write it out.
// An error stops Add and is returned by it.
type EmitFunc func(length int, row []uint32) error

// Packer cuts a stream of documents into rows of each requested length.
type Packer struct {
	lengths []int
	carry   [][]uint32 // per length: the started row, fewer than lengths[i] tokens
	rows    []int64    // per length: rows emitted
	tokens  int64
	docs    int64
	emit    EmitFunc
}

// NewPacker returns a packer for the given sequence lengths (each > 0, no duplicates), emitting
// full rows to emit.
func NewPacker(lengths []int, emit EmitFunc) (*Packer, error) {
	if len(lengths) == 0 {
		return nil, errors.New("pack: no sequence lengths")
	}
	if emit == nil {
		return nil, errors.New("pack: nil EmitFunc")
	}
	for i, l := range lengths {
		if l <= 0 {
			return nil, fmt.Errorf("pack: sequence length %d must be > 0", l)
		}
		if slices.Contains(lengths[:i], l) {
			return nil, fmt.Errorf("pack: sequence length %d given twice", l)
		}
	}
	return &Packer{
		lengths: slices.Clone(lengths),
		carry:   make([][]uint32, len(lengths)),
		rows:    make([]int64, len(lengths)),
		emit:    emit,
	}, nil
}

// Add appends one document's ids to the stream of every length, emitting each row that fills
// up. An empty document is counted and adds nothing. On an emit error the packer's state is
// undefined: abandon it (the shard attempt fails).
func (p *Packer) Add(doc []uint32) error {
	p.docs++
	p.tokens += int64(len(doc))
	for i, l := range p.lengths {
		c, d := p.carry[i], doc
		if len(c) > 0 {
			need := l - len(c)
			if len(d) < need {
				p.carry[i] = append(c, d...)
				continue
			}
			c = append(c, d[:need]...)
			d = d[need:]
			if err := p.emit(l, c); err != nil {
				return err
			}
			p.rows[i]++
			c = c[:0]
		}
		for len(d) >= l { // whole rows straight from the document, no copy
			if err := p.emit(l, d[:l:l]); err != nil {
				return err
			}
			p.rows[i]++
			d = d[l:]
		}
		if len(d) > 0 && c == nil {
			c = make([]uint32, 0, l)
		}
		p.carry[i] = append(c, d...)
	}
	return nil
}

func (p *Packer) index(length int) int {
	return slices.Index(p.lengths, length)
}

// Tail returns a copy of the tokens not yet in a row for length (fewer than length), or nil if
// length was not requested.
func (p *Packer) Tail(length int) []uint32 {
	i := p.index(length)
	if i < 0 {
		return nil
	}
	return slices.Clone(p.carry[i])
}

// Rows returns the number of rows emitted for length.
func (p *Packer) Rows(length int) int64 {
	if i := p.index(length); i >= 0 {
		return p.rows[i]
	}
	return 0
}

// Lengths returns the sequence lengths, in the order given.
func (p *Packer) Lengths() []int { return slices.Clone(p.lengths) }

// Tokens returns the number of ids added.
func (p *Packer) Tokens() int64 { return p.tokens }

// Docs returns the number of documents added.
func (p *Packer) Docs() int64 { return p.docs }
