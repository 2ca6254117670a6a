// Command benchzstd compresses files with zstd for scripts/bench.sh when the zstd command is
// not installed: benchzstd IN OUT writes IN compressed to OUT (through OUT.tmp, so a failed run
// leaves no output).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: benchzstd IN OUT")
		os.Exit(2)
	}
	if err := compress(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "benchzstd:", err)
		os.Exit(1)
	}
}

func compress(in, out string) error {
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := out + ".tmp"
	dst, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	zw, err := zstd.NewWriter(dst, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err == nil {
		_, err = io.Copy(zw, src)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
