package planner

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenmill/tokenmill/job"
)

// BenchmarkList_SmallFiles lists and plans a directory of 3,000 one-document files, the
// case where reading each file's first bytes for format detection could dominate planning.
func BenchmarkList_SmallFiles(b *testing.B) {
	for _, ext := range []string{".txt", ".jsonl"} {
		b.Run(ext[1:], func(b *testing.B) {
			dir := b.TempDir()
			for i := range 3000 {
				doc := fmt.Sprintf("{\"text\":\"document %d of a directory of small files\"}\n", i)
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("doc%04d%s", i, ext)), []byte(doc), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			spec := testSpec(64 << 20)
			spec.Inputs = []job.Input{{Path: dir, Format: job.FormatAuto, TextField: "text"}}
			b.ResetTimer()
			for b.Loop() {
				ins, err := List(spec, ListOptions{})
				if err != nil || len(ins) != 3000 {
					b.Fatalf("List: %d inputs, %v", len(ins), err)
				}
				if _, err := Plan(spec, ins); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
