package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/tokenmill/tokenmill/formats/table"
)

// State is the part of a save_to_disk state.json that readers use.
type State struct {
	DataFiles []struct {
		Filename string `json:"filename"`
	} `json:"_data_files"`
	Fingerprint string  `json:"_fingerprint"`
	Split       *string `json:"_split"`
}

// ReadState reads dir/state.json.
func ReadState(dir string) (State, error) {
	var st State
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	if len(st.DataFiles) == 0 {
		return st, fmt.Errorf("%s: no _data_files", filepath.Join(dir, "state.json"))
	}
	for _, f := range st.DataFiles {
		if f.Filename == "" || filepath.Base(f.Filename) != f.Filename {
			return st, fmt.Errorf("%s: bad data file name %q", filepath.Join(dir, "state.json"), f.Filename)
		}
	}
	return st, nil
}

// SplitDirs returns the dataset directories under dir: the splits listed
// in dataset_dict.json (in its order) for a DatasetDict, else dir itself.
func SplitDirs(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "dataset_dict.json"))
	if errors.Is(err, os.ErrNotExist) {
		return []string{dir}, nil
	}
	if err != nil {
		return nil, err
	}
	var dd struct {
		Splits []string `json:"splits"`
	}
	if err := json.Unmarshal(b, &dd); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "dataset_dict.json"), err)
	}
	dirs := make([]string, len(dd.Splits))
	for i, s := range dd.Splits {
		if s == "" || filepath.Base(s) != s {
			return nil, fmt.Errorf("%s: bad split name %q", filepath.Join(dir, "dataset_dict.json"), s)
		}
		dirs[i] = filepath.Join(dir, s)
	}
	return dirs, nil
}

// BatchReader streams the Arrow record batches of one save_to_disk
// directory, file by file in state.json order.
type BatchReader struct {
	files []string
	next  int
	f     *os.File
	r     *ipc.Reader
	batch int // index of the current batch within its file
	// lend reuses a released batch's memory for a later one: for callers that keep nothing
	// of a batch past the next call, not even a string taken from it (the record readers,
	// whose Records are valid until the next call).
	lend bool
}

// OpenBatches opens the save_to_disk directory dir (one split).
func OpenBatches(dir string) (*BatchReader, error) {
	st, err := ReadState(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "dataset_info.json")); err != nil {
		return nil, err
	}
	h := &BatchReader{}
	for _, f := range st.DataFiles {
		h.files = append(h.files, filepath.Join(dir, f.Filename))
	}
	return h, nil
}

// File returns the path of the .arrow file the last batch came from.
func (h *BatchReader) File() string {
	if h.next == 0 {
		return ""
	}
	return h.files[h.next-1]
}

// Schema returns the schema of the current file (nil before Next).
func (h *BatchReader) Schema() *arrow.Schema {
	if h.r == nil {
		return nil
	}
	return h.r.Schema()
}

// Next returns the next record batch, valid until the following call, or
// io.EOF after the last file.
func (h *BatchReader) Next() (rb arrow.RecordBatch, err error) {
	defer table.RecoverAt(&err, h.File, "record batch", int64(h.batch))
	for {
		if h.r != nil {
			if h.r.Next() {
				h.batch++
				return h.r.RecordBatch(), nil
			}
			if err := h.r.Err(); err != nil && err != io.EOF {
				return nil, fmt.Errorf("%s: record batch %d: %w", h.File(), h.batch, err)
			}
			h.closeFile()
		}
		if h.next == len(h.files) {
			return nil, io.EOF
		}
		path := h.files[h.next]
		h.next++
		h.batch = 0
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		r, err := newStreamReader(f, h.lend)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: not an Arrow IPC stream: %w", path, err)
		}
		h.f, h.r = f, r
	}
}

func (h *BatchReader) closeFile() {
	if h.r != nil {
		h.r.Release()
		h.r = nil
	}
	if h.f != nil {
		h.f.Close()
		h.f = nil
	}
}

// Close releases the open file.
func (h *BatchReader) Close() error {
	h.closeFile()
	return nil
}
