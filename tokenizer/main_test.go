package tokenizer

import (
	"fmt"
	"os"
	"testing"
)

// TestMain points the user's cache directory at a temporary one, so that loading a
// tokenizer.json in tests writes its load cache (hfcache.go) there and not into the home
// directory of whoever runs them.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tokenmill-tokenizer-cache")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
