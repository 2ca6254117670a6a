package shard

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/tokenmill/tokenmill/job"
)

// ManifestVersion is the format_version of manifest.json.
const ManifestVersion = 1

// Manifest is out/manifest.json: what a job wrote and from what. Its bytes are a function of
// the inputs, the job spec and the tokenizer only (no timings, hosts or worker counts, which
// go to run.json).
type Manifest struct {
	FormatVersion  int             `json:"format_version"`
	Job            json.RawMessage `json:"job"` // the canonical JSON of the spec
	JobFingerprint string          `json:"job_fingerprint"`
	Tokenizer      TokenizerInfo   `json:"tokenizer"`
	// DType is the resolved element type of the outputs.
	DType string `json:"dtype"`
	// PadID is the id used to pad the remainders (remainder: pad only).
	PadID     *uint32      `json:"pad_id,omitempty"`
	Inputs    []InputInfo  `json:"inputs"`
	Shards    int          `json:"shards"`
	Documents Counts       `json:"documents"`
	Tokens    Tokens       `json:"tokens"`
	Buckets   []BucketInfo `json:"buckets"`
	Rejects   RejectsInfo  `json:"rejects"`
}

// TokenizerInfo identifies the tokenizer.
type TokenizerInfo struct {
	Name      string  `json:"name"`
	SHA256    string  `json:"sha256"`
	VocabSize int     `json:"vocab_size"`
	BOS       *uint32 `json:"bos,omitempty"` // the id prepended to each document, if any
	EOS       *uint32 `json:"eos,omitempty"` // the id appended to each document, if any
}

// InputInfo is one input file.
type InputInfo struct {
	Path   string     `json:"path"`
	Format job.Format `json:"format"`
	Size   int64      `json:"size"`
	// CRC32C fingerprints the bytes read: the CRC-32C of the whole file, 8 hex digits, as
	// `gsutil hash -h -c` prints it (S3 and GCS keep it for each object, in base64).
	CRC32C string `json:"crc32c"`
}

// BucketInfo describes the output of one split and sequence length.
type BucketInfo struct {
	Split     string `json:"split"`
	SeqLen    int    `json:"seq_len"`
	Sequences int64  `json:"sequences"`
	// Tokens is the split's token count: Sequences*SeqLen - PaddedTailTokens + DroppedTailTokens.
	Tokens            int64 `json:"tokens"`
	DroppedTailTokens int64 `json:"dropped_tail_tokens"`
	PaddedTailTokens  int64 `json:"padded_tail_tokens"`
	// Paths are the outputs, relative to the output directory: the HF directory and/or .npy.
	Paths []string `json:"paths"`
}

// RejectsInfo points at rejects.jsonl.
type RejectsInfo struct {
	Path  string `json:"path"`
	Count int64  `json:"count"`
}

// encodeJSON returns v as indented JSON with a final newline, without HTML escaping.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// OutputNames returns the HF directory and .npy file names of a split and length under the
// job's layout: train_512/ and train_512.npy (curriculum), or train/ and pretrain.npy, val/
// and val.npy (seed).
func OutputNames(spec *job.Spec, split string, seqLen int) (hfDir, npyFile string) {
	if spec.Output.Layout == job.LayoutSeed {
		if split == SplitTrain {
			return "train", "pretrain.npy"
		}
		return "val", "val.npy"
	}
	base := split + "_" + strconv.Itoa(seqLen)
	return base, base + ".npy"
}
