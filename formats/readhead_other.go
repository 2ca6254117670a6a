//go:build !unix

package formats

import (
	"errors"
	"io"
	"os"
)

// readHead reads the first len(buf) bytes of the file at path into buf and returns how many
// it read (fewer at the end of the file).
func readHead(path string, buf []byte) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	return n, nil
}
