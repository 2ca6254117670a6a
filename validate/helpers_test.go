package validate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// decode decodes one JSON record as the readers do (UseNumber).
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return rec
}

// render joins issues as "field: message" lines for exact comparison.
func render(is []Issue) string {
	var b bytes.Buffer
	for i, x := range is {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(x.String())
	}
	return b.String()
}

// stageCase is one record of a stage with the exact issues it must yield ("" when valid).
type stageCase struct {
	name string
	rec  string
	opt  Options
	want []string
}

func runStageCases(t *testing.T, stage Stage, cases []stageCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := render(Check(stage, decode(t, c.rec), c.opt))
			if want := strings.Join(c.want, "\n"); got != want {
				t.Errorf("Check(%s, %s)\n got: %q\nwant: %q", stage, c.rec, got, want)
			}
		})
	}
}
