package hf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/internal/atomicfile"
)

// hfFeaturesJSON is the features dict of one token column, Python-style
// (", " and ": " separators, insertion order) as datasets writes it into
// the Arrow schema metadata.
func hfFeaturesJSON(column string, d formats.DType) string {
	col, _ := json.Marshal(column)
	return fmt.Sprintf(`{%s: {"feature": {"dtype": %q, "_type": "Value"}, "_type": "Sequence"}}`, col, d.String())
}

// SchemaMetadata is the value of the "huggingface" schema metadata key.
func SchemaMetadata(features string) string {
	return `{"info": {"features": ` + features + `}}`
}

// marshalPy is json.dump(v, indent=2) for ASCII content: Go's MarshalIndent
// with HTML escaping off gives the same bytes (no trailing newline).
func marshalPy(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

type hfDataFile struct {
	Filename string `json:"filename"`
}

// hfStateJSON renders state.json: all seven keys, sorted (map keys are
// sorted by encoding/json), indent 2.
func hfStateJSON(files []string, fingerprint, split string) ([]byte, error) {
	df := make([]hfDataFile, len(files))
	for i, f := range files {
		df[i] = hfDataFile{f}
	}
	var sp any
	if split != "" {
		sp = split
	}
	return marshalPy(map[string]any{
		"_data_files":         df,
		"_fingerprint":        fingerprint,
		"_format_columns":     nil,
		"_format_kwargs":      map[string]any{},
		"_format_type":        nil,
		"_output_all_columns": false,
		"_split":              sp,
	})
}

// hfDatasetInfo is asdict(DatasetInfo) with its keys in sorted order (the
// nested features keep insertion order, as datasets writes them).
type hfDatasetInfo struct {
	BuilderName        *string         `json:"builder_name"`
	Citation           string          `json:"citation"`
	ConfigName         *string         `json:"config_name"`
	DatasetName        *string         `json:"dataset_name"`
	DatasetSize        *int64          `json:"dataset_size"`
	Description        string          `json:"description"`
	DownloadChecksums  any             `json:"download_checksums"`
	DownloadSize       *int64          `json:"download_size"`
	Features           json.RawMessage `json:"features"`
	Homepage           string          `json:"homepage"`
	License            string          `json:"license"`
	PostProcessed      any             `json:"post_processed"`
	PostProcessingSize *int64          `json:"post_processing_size"`
	SizeInBytes        *int64          `json:"size_in_bytes"`
	Splits             any             `json:"splits"`
	SupervisedKeys     any             `json:"supervised_keys"`
	Version            any             `json:"version"`
}

// hfDataName is save_to_disk's data file name.
func hfDataName(i, n int) string { return fmt.Sprintf("data-%05d-of-%05d.arrow", i, n) }

// publishDir replaces dir by tmp (a sibling) atomically: an existing dir, refused unless
// overwrite, is moved aside to .<name>.old until tmp is in its place.
func publishDir(tmp, dir string, overwrite bool) error {
	if _, err := os.Stat(dir); err == nil && !overwrite {
		return fmt.Errorf("%s exists", dir)
	}
	aside := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".old")
	return atomicfile.ReplaceDir(tmp, dir, aside)
}
