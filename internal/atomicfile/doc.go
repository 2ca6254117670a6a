// Package atomicfile writes output files and directories so that they appear whole or not
// at all: they are built under a temporary name beside their final one, synced, and
// published by a rename whose directory is synced in turn.
//
// [Writer] writes one large output file from start to end (with O_DIRECT where the system
// allows); [WriteFile] writes a small one whole; [Publish] renames a finished file into
// place; [ReplaceDir] replaces a directory by a finished sibling, moving the old one aside
// until the new one is in place; [SyncDir] makes a directory's entries durable.
//
// Concurrency: the package has no global state. A Writer is not safe for concurrent use.
package atomicfile
