package tokenizer

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The SentencePiece model file is a serialized ModelProto (sentencepiece_model.proto). It is
// read field by field with protowire: the few fields the encoder needs are listed below, every
// other field is skipped, and no generated code or protoc is involved.

// Field numbers of sentencepiece_model.proto.
const (
	spModelPieces         = 1 // ModelProto.pieces (repeated SentencePiece)
	spModelTrainerSpec    = 2 // ModelProto.trainer_spec
	spModelNormalizerSpec = 3 // ModelProto.normalizer_spec
	spModelDenormalizer   = 5 // ModelProto.denormalizer_spec

	spPiecePiece     = 1 // SentencePiece.piece
	spPieceScore     = 2 // SentencePiece.score (float)
	spPieceTypeField = 3 // SentencePiece.type

	spTrainerModelType        = 3  // TrainerSpec.model_type
	spTrainerTreatWSAsSuffix  = 24 // TrainerSpec.treat_whitespace_as_suffix
	spTrainerByteFallback     = 35 // TrainerSpec.byte_fallback
	spTrainerUnkPiece         = 45 // TrainerSpec.unk_piece
	spTrainerBosPiece         = 46 // TrainerSpec.bos_piece
	spTrainerEosPiece         = 47 // TrainerSpec.eos_piece
	spTrainerUnkSurface       = 44 // TrainerSpec.unk_surface
	spNormName                = 1  // NormalizerSpec.name
	spNormPrecompiledCharsmap = 2  // NormalizerSpec.precompiled_charsmap
	spNormAddDummyPrefix      = 3  // NormalizerSpec.add_dummy_prefix
	spNormRemoveExtraWS       = 4  // NormalizerSpec.remove_extra_whitespaces
	spNormEscapeWS            = 5  // NormalizerSpec.escape_whitespaces
	spNormRuleTSV             = 6  // NormalizerSpec.normalization_rule_tsv
)

// spPieceType is SentencePiece.Type.
type spPieceType int32

const (
	spNormal      spPieceType = 1
	spUnknown     spPieceType = 2
	spControl     spPieceType = 3
	spUserDefined spPieceType = 4
	spUnused      spPieceType = 5
	spByte        spPieceType = 6
)

// spModelType is TrainerSpec.ModelType.
type spModelType int32

const (
	spUnigram spModelType = 1
	spBPE     spModelType = 2
	spWord    spModelType = 3
	spChar    spModelType = 4
)

func (t spModelType) String() string {
	switch t {
	case spUnigram:
		return "UNIGRAM"
	case spBPE:
		return "BPE"
	case spWord:
		return "WORD"
	case spChar:
		return "CHAR"
	}
	return fmt.Sprintf("model type %d", int32(t))
}

// spPiece is one ModelProto.SentencePiece.
type spPiece struct {
	piece string
	score float32
	typ   spPieceType
}

// spNormalizerSpec is the part of NormalizerSpec the encoder reads, with the proto's defaults.
type spNormalizerSpec struct {
	name                   string
	precompiledCharsmap    []byte
	ruleTSV                string
	addDummyPrefix         bool
	removeExtraWhitespaces bool
	escapeWhitespaces      bool
}

// spProto is the part of a ModelProto the encoder reads, with the proto's defaults.
type spProto struct {
	pieces                  []spPiece
	modelType               spModelType
	byteFallback            bool
	treatWhitespaceAsSuffix bool
	unkPiece                string
	bosPiece                string
	eosPiece                string
	unkSurface              string
	normalizer              spNormalizerSpec
	hasDenormalizer         bool
}

// parseSPProto decodes a serialized ModelProto.
func parseSPProto(b []byte) (*spProto, error) {
	p := &spProto{modelType: spUnigram, unkPiece: "<unk>", bosPiece: "<s>", eosPiece: "</s>",
		unkSurface: " \u2047 ",
		normalizer: spNormalizerSpec{addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true}}
	err := walkProto(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case spModelPieces:
			piece, err := parseSPPiece(v)
			if err != nil {
				return fmt.Errorf("piece %d: %w", len(p.pieces), err)
			}
			p.pieces = append(p.pieces, piece)
		case spModelTrainerSpec:
			return p.parseTrainerSpec(v)
		case spModelNormalizerSpec:
			return p.normalizer.parse(v)
		case spModelDenormalizer:
			p.hasDenormalizer = len(v) > 0
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func parseSPPiece(b []byte) (spPiece, error) {
	sp := spPiece{typ: spNormal}
	err := walkProto(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == spPiecePiece && typ == protowire.BytesType:
			sp.piece = string(v)
		case num == spPieceScore && typ == protowire.Fixed32Type:
			sp.score = math.Float32frombits(uint32(x))
		case num == spPieceTypeField && typ == protowire.VarintType:
			sp.typ = spPieceType(int32(x))
		}
		return nil
	})
	return sp, err
}

func (p *spProto) parseTrainerSpec(b []byte) error {
	return walkProto(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ == protowire.VarintType {
			switch num {
			case spTrainerModelType:
				p.modelType = spModelType(int32(x))
			case spTrainerByteFallback:
				p.byteFallback = x != 0
			case spTrainerTreatWSAsSuffix:
				p.treatWhitespaceAsSuffix = x != 0
			}
			return nil
		}
		if typ == protowire.BytesType {
			switch num {
			case spTrainerUnkPiece:
				p.unkPiece = string(v)
			case spTrainerBosPiece:
				p.bosPiece = string(v)
			case spTrainerEosPiece:
				p.eosPiece = string(v)
			case spTrainerUnkSurface:
				p.unkSurface = string(v)
			}
		}
		return nil
	})
}

func (n *spNormalizerSpec) parse(b []byte) error {
	return walkProto(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == spNormName && typ == protowire.BytesType:
			n.name = string(v)
		case num == spNormPrecompiledCharsmap && typ == protowire.BytesType:
			n.precompiledCharsmap = v
		case num == spNormRuleTSV && typ == protowire.BytesType:
			n.ruleTSV = string(v)
		case num == spNormAddDummyPrefix && typ == protowire.VarintType:
			n.addDummyPrefix = x != 0
		case num == spNormRemoveExtraWS && typ == protowire.VarintType:
			n.removeExtraWhitespaces = x != 0
		case num == spNormEscapeWS && typ == protowire.VarintType:
			n.escapeWhitespaces = x != 0
		}
		return nil
	})
}

// errTruncated is a message that ends inside a field.
var errTruncated = errors.New("truncated or malformed protobuf")

// walkProto calls f for each field of the message b: v is the payload of a length-delimited
// field, x the value of a varint or fixed field. Groups are skipped.
func walkProto(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errTruncated
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, n = protowire.ConsumeFixed32(b)
			x = uint64(x32)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errTruncated
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
