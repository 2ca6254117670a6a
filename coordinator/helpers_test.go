package coordinator_test

import (
	"fmt"
	"testing"
)

// spec returns a valid job file with absolute paths.
func spec(t *testing.T, name string) []byte {
	t.Helper()
	dir := t.TempDir()
	return fmt.Appendf(nil, "name: %s\ninputs:\n  - path: %s/in/*.jsonl\ntokenizer: cl100k_base\noutput:\n  dir: %s/out\n", name, dir, dir)
}
