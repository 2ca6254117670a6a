package atomicfile

import (
	"os"
	"path/filepath"
)

// SyncDir makes the changes to dir's entries (a rename into it, a file created in it)
// durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteFile writes data to a new file at path and syncs it before closing: a file that is
// published by a rename must be on disk before the rename is.
func WriteFile(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Publish renames tmp, a finished and synced file, to dst in the same directory, and syncs
// that directory so that the rename is durable.
func Publish(tmp, dst string) error {
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(filepath.Clean(dst)))
}

// ReplaceDir publishes tmp, a finished directory, at dir, a sibling: it syncs tmp, renames
// an existing dir to aside (a sibling too, removed first if it exists), renames tmp to dir,
// syncs their parent and removes aside. A reader of dir sees the old complete directory or
// the new one, never a mix; when renaming tmp fails, the old one is put back.
func ReplaceDir(tmp, dir, aside string) error {
	if err := SyncDir(tmp); err != nil {
		return err
	}
	moved := false
	if _, err := os.Lstat(dir); err == nil {
		if err := os.RemoveAll(aside); err != nil {
			return err
		}
		if err := os.Rename(dir, aside); err != nil {
			return err
		}
		moved = true
	}
	if err := os.Rename(tmp, dir); err != nil {
		if moved {
			os.Rename(aside, dir)
		}
		return err
	}
	if err := SyncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
		return err
	}
	if moved {
		return os.RemoveAll(aside)
	}
	return nil
}
