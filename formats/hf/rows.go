package hf

import (
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/table"
)

// OpenRows reads the rows of every split of the HF save_to_disk directory (or DatasetDict)
// dir, in order: each row a map of its columns' values (see table.Value).
func OpenRows(dir string) (formats.RowReader, error) {
	dirs, err := SplitDirs(dir)
	if err != nil {
		return nil, err
	}
	return table.NewRows(&batches{dirs: dirs}, 0), nil
}

// OpenFileRows reads the rows of path, one .arrow data file of a save_to_disk directory.
func OpenFileRows(path string) formats.RowReader {
	return table.NewRows(&batches{b: &BatchReader{files: []string{path}}}, 0)
}

// batches reads the splits of an HF directory (or DatasetDict) in order.
type batches struct {
	dirs []string
	b    *BatchReader
}

func (h *batches) Next() (arrow.RecordBatch, string, error) {
	for {
		if h.b == nil {
			if len(h.dirs) == 0 {
				return nil, "", io.EOF
			}
			b, err := OpenBatches(h.dirs[0])
			if err != nil {
				return nil, "", err
			}
			h.dirs, h.b = h.dirs[1:], b
		}
		rb, err := h.b.Next()
		if err == io.EOF {
			h.b.Close()
			h.b = nil
			continue
		}
		return rb, h.b.File(), err
	}
}

func (h *batches) Close() error {
	if h.b != nil {
		return h.b.Close()
	}
	return nil
}
