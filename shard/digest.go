package shard

import (
	"fmt"

	"github.com/tokenmill/tokenmill/formats"
)

// InputDigest is the CRC-32C of the bytes [Start, Start+Length) of a shard's input file: the
// part of the file the shard owns. Finalize joins the digests of a file's shards, in plan
// order, into the file's fingerprint in the manifest (formats/digest.go says why CRC-32C).
type InputDigest struct {
	Start  int64  `json:"start"`
	Length int64  `json:"length"`
	CRC32C uint32 `json:"crc32c"`
}

// digestWindow is the part of its file a shard digests: its byte range; the whole file for
// a whole-file shard; the window the planner gave a row-group shard of a Parquet file (from
// where its first row group starts to where the next shard's does, planner.digestWindows).
func digestWindow(spec Spec) (lo, hi int64) {
	switch spec.Kind {
	case KindBytes:
		return spec.ByteStart, spec.ByteEnd
	case KindRowGroups:
		return spec.DigestStart, spec.DigestEnd
	}
	return 0, spec.FileSize
}

// digestInput digests the shard's window of its file; rd is the shard's reader, read to its
// end and still open (the bytes it read are not read again).
func digestInput(spec Spec, rd any) (InputDigest, error) {
	lo, hi := digestWindow(spec)
	if hi <= lo {
		return InputDigest{Start: lo}, nil
	}
	crc, err := formats.InputCRC32C(rd, spec.Path, lo, hi)
	if err != nil {
		return InputDigest{}, err
	}
	return InputDigest{Start: lo, Length: hi - lo, CRC32C: crc}, nil
}

// shardDigest is what inputInfos needs of one shard result.
type shardDigest struct {
	shard, source string
	input         InputDigest
}

// inputInfos lists the inputs with their fingerprints: each file's CRC-32C, joined from the
// shards' digests (in plan order). The digests of a file must tile it from its first byte to
// its listed size: otherwise a shard read other bytes than those planned, and the job fails.
func inputInfos(inputs []Input, shards []shardDigest) ([]InputInfo, error) {
	type acc struct {
		crc     uint32
		covered int64
	}
	byPath := make(map[string]*acc, len(inputs))
	for _, in := range inputs {
		byPath[in.Path] = &acc{}
	}
	for _, s := range shards {
		a := byPath[s.source]
		if a == nil {
			return nil, fmt.Errorf("finalize: shard %s reads %s, which is not a listed input", s.shard, s.source)
		}
		d := s.input
		if d.Length == 0 {
			continue
		}
		if d.Start != a.covered {
			return nil, fmt.Errorf("finalize: shard %s digested bytes %d-%d of %s, but the shards before it end at byte %d",
				s.shard, d.Start, d.Start+d.Length, s.source, a.covered)
		}
		a.crc = formats.CombineCRC32C(a.crc, d.CRC32C, d.Length)
		a.covered += d.Length
	}
	out := make([]InputInfo, 0, len(inputs))
	for _, in := range inputs {
		a := byPath[in.Path]
		if a.covered != in.Size {
			return nil, fmt.Errorf("finalize: %s: the shards digested %d of its %d bytes", in.Path, a.covered, in.Size)
		}
		out = append(out, InputInfo{Path: in.Path, Format: in.Format, Size: in.Size, CRC32C: fmt.Sprintf("%08x", a.crc)})
	}
	return out, nil
}
