package hf

import (
	"os"

	"github.com/tokenmill/tokenmill/formats"
)

// OpenFile reads the selected text column of ONE .arrow data file of a
// Hugging Face save_to_disk directory (an Arrow IPC stream), as the planner
// shards such directories: one shard per data file. Records carry the
// file's path as Source and the 0-based row within the file as Row.
func OpenFile(path string, opt formats.Options) (formats.Reader, error) {
	opt = opt.WithDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return OpenRecords(path, opt)
	}
	return &hfRecordReader{opt: opt, b: &BatchReader{files: []string{path}, lend: true}}, nil
}
