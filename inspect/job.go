package inspect

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tokenmill/tokenmill/shard"
)

// inspectJob lists every output of every bucket briefly, checked against the manifest, and
// reads the first example of the first non-empty bucket of each split in detail (its HF
// directory, else its .npy): the rest are an Inspect of DIR/OUTPUT away.
func (in *inspector) inspectJob(dir string) (*Inspection, error) {
	mpath := filepath.Join(dir, "manifest.json")
	m, err := readManifest(mpath)
	if err != nil {
		return nil, err
	}
	var spec struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(m.Job, &spec) // the name is informative only
	res := &Inspection{Path: dir, Kind: "job", Job: &Job{Name: spec.Name, Fingerprint: m.JobFingerprint,
		FormatVersion: m.FormatVersion, Tokenizer: m.Tokenizer, DType: m.DType, Documents: m.Documents,
		Tokens: m.Tokens, Rejects: m.Rejects, Inputs: m.Inputs}}
	detailed := map[string]bool{}
	for _, b := range m.Buckets {
		wantDetail := b.Sequences > 0 && !detailed[b.Split]
		for _, rel := range b.Paths {
			detail := wantDetail && !detailed[b.Split]
			part := in.inspectOutput(filepath.Join(dir, filepath.FromSlash(rel)), detail, mpath, b, m.DType)
			detailed[b.Split] = detailed[b.Split] || part.Detailed
			res.Parts = append(res.Parts, part)
		}
	}
	return res, nil
}

// inspectOutput reads one output of bucket b (an HF directory or a .npy) and checks it against
// the manifest; an output that cannot be read is a part with its Error set.
func (in *inspector) inspectOutput(path string, detail bool, manifest string, b shard.BucketInfo, dtype string) *Inspection {
	var part *Inspection
	var err error
	if outputKind(path) == "npy" {
		part, err = in.inspectNpy(path, detail, manifest)
	} else {
		part, err = in.inspectHF(path, detail, manifest)
	}
	if err != nil {
		part = &Inspection{Path: path, Kind: outputKind(path), Error: err.Error()}
	} else {
		part.Check = checkBucket(part, b, dtype)
	}
	part.Bucket = &Bucket{Split: b.Split, SeqLen: b.SeqLen, Sequences: b.Sequences}
	return part
}

func outputKind(path string) string {
	if strings.HasSuffix(path, ".npy") {
		return "npy"
	}
	return "hf"
}

// checkBucket compares an output with its manifest entry: rows = sequences, row length =
// seq_len, element type = the manifest's dtype. It returns "ok" or what differs.
func checkBucket(p *Inspection, b shard.BucketInfo, dtype string) string {
	var diffs []string
	if p.Examples != b.Sequences {
		diffs = append(diffs, fmt.Sprintf("%d rows, manifest says %d", p.Examples, b.Sequences))
	}
	switch p.Kind {
	case "npy":
		if len(p.Shape) != 2 || p.Shape[1] != int64(b.SeqLen) {
			diffs = append(diffs, fmt.Sprintf("shape %s, want (%d, %d)", pyShape(p.Shape), b.Sequences, b.SeqLen))
		}
		if p.DType != dtype {
			diffs = append(diffs, fmt.Sprintf("dtype %s, manifest says %s", p.DType, dtype))
		}
	case "hf":
		if want := "list<" + dtype + ">"; p.TokenColumn == "" || columnType(p.Columns, p.TokenColumn) != want {
			diffs = append(diffs, fmt.Sprintf("no input_ids column of type %s", want))
		}
		if n, ok := tokenCount(p.First); ok && n != b.SeqLen {
			diffs = append(diffs, fmt.Sprintf("first row has %d tokens, seq_len is %d", n, b.SeqLen))
		}
	}
	if len(diffs) == 0 {
		return "ok"
	}
	return strings.Join(diffs, "; ")
}

func columnType(cols []Column, name string) string {
	for _, c := range cols {
		if c.Name == name {
			return c.Type
		}
	}
	return ""
}

// tokenCount is the length of the input_ids of a first example, when it holds token ids.
func tokenCount(first any) (int, bool) {
	m, ok := first.(map[string]any)
	if !ok {
		return 0, false
	}
	ids, ok := tokenIDs(m["input_ids"])
	return len(ids), ok
}
