package planner

import (
	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/shard"
)

// compressionOf names a compression as an Input records it.
func compressionOf(c formats.Compression) shard.Compression {
	switch c {
	case formats.CompressionGzip:
		return shard.CompressionGzip
	case formats.CompressionZstd:
		return shard.CompressionZstd
	}
	return shard.CompressionNone
}

// isDataName reports whether a directory walk takes a file: its extension names a data
// format that a directory of data files holds (formats.DetectName; .arrow files are taken
// only from the save_to_disk directory that lists them).
func isDataName(name string) bool {
	f, _, known := formats.DetectName(name)
	return known && f != formats.FormatHF
}
