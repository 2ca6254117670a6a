package pack

import (
	"errors"
	"fmt"
)

// Remainder is what happens to the last partial row of a split and length.
type Remainder uint8

// Remainder values.
const (
	Drop Remainder = iota // drop the partial row
	Pad                   // fill it up to full length with a pad id
)

// TailStats reports the finalize packing of one split and length.
type TailStats struct {
	Length int `json:"length"`
	// TailTokens is the number of tokens in the shard tails packed.
	TailTokens int64 `json:"tail_tokens"`
	// Rows is the number of rows emitted, the padded one included.
	Rows int64 `json:"rows"`
	// DroppedTailTokens is the number of tokens in the remainder when it was dropped.
	DroppedTailTokens int64 `json:"dropped_tail_tokens"`
	// PaddedTailTokens is the number of pad ids added to fill the remainder's row.
	PaddedTailTokens int64 `json:"padded_tail_tokens"`
	// RemainderTokens is the number of real tokens in the remainder (dropped or padded).
	RemainderTokens int64 `json:"remainder_tokens"`
}

// PackTails concatenates the shards' tails for one split and length, in the order given (shard
// order), emits the full rows of length tokens, then handles the remainder (< length tokens):
// Drop discards it, Pad emits it followed by padID up to length. Tails may be of any size.
// The rows are a function of the arguments only.
func PackTails(length int, tails [][]uint32, rem Remainder, padID uint32, emit func(row []uint32) error) (TailStats, error) {
	st := TailStats{Length: length}
	if length <= 0 {
		return st, fmt.Errorf("pack: sequence length %d must be > 0", length)
	}
	if rem != Drop && rem != Pad {
		return st, fmt.Errorf("pack: unknown remainder %d", rem)
	}
	if emit == nil {
		return st, errors.New("pack: nil emit")
	}
	p, err := NewPacker([]int{length}, func(_ int, row []uint32) error { return emit(row) })
	if err != nil {
		return st, err
	}
	for _, t := range tails {
		st.TailTokens += int64(len(t))
		if err := p.Add(t); err != nil {
			return st, err
		}
	}
	st.Rows = p.Rows(length)
	last := p.carry[0]
	st.RemainderTokens = int64(len(last))
	if len(last) == 0 {
		return st, nil
	}
	if rem == Drop {
		st.DroppedTailTokens = int64(len(last))
		return st, nil
	}
	st.PaddedTailTokens = int64(length - len(last))
	for len(last) < length {
		last = append(last, padID)
	}
	if err := emit(last); err != nil {
		return st, err
	}
	st.Rows++
	return st, nil
}
