package inspect

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
)

// TestWriteText_Truncation shortens long strings, lists and texts unless Options.Full, and
// WriteJSON never does.
func TestWriteText_Truncation(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("ab", 400) // 800 characters
	jsonl := writeFile(t, filepath.Join(dir, "long.jsonl"), `{"text": "`+long+`"}`+"\n")
	row := make([]int64, 600)
	for i := range row {
		row[i] = 64 + int64(i%26) // gpt2: "a".."z"
	}
	npy := writeNpy(t, filepath.Join(dir, "abc.npy"), formats.Int64, len(row), row)
	text := strings.Repeat("abcdefghijklmnopqrstuvwxyz", 24)[:600]
	tests := []struct {
		name string
		path string
		full bool
		has  []string // lines of the text form
	}{
		{"string", jsonl, false, []string{"Sample: {'text': '" + long[:200] + "'... +600 more characters}"}},
		{"string, full", jsonl, true, []string{"Sample: {'text': '" + long + "'}"}},
		{"ids and text", npy, false, []string{"Sample: [64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, ... +584 more]",
			text[:500], "[... 100 more characters; --full prints all]"}},
		{"ids and text, full", npy, true, []string{"Sample: [" + joinInts(row) + "]", text}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Inspect(tt.path, Options{Tokenizer: "gpt2", Full: tt.full})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := WriteText(&out, res); err != nil {
				t.Fatal(err)
			}
			for _, line := range tt.has {
				if !strings.Contains(out.String(), "\n"+line+"\n") {
					t.Errorf("text lacks line %.80q...:\n%s", line, out.String())
				}
			}
			var back Inspection
			if err := json.Unmarshal(jsonOf(t, res), &back); err != nil {
				t.Fatal(err)
			}
			if tt.path == npy && back.Text != text || tt.path == jsonl && back.First.(map[string]any)["text"] != long {
				t.Errorf("JSON truncated: text %d characters, first %.40v", len(back.Text), back.First)
			}
		})
	}
}

// joinInts spells ids as a Python list's elements: "64, 65, 66".
func joinInts(ids []int64) string {
	s := make([]string, len(ids))
	for i, n := range ids {
		s[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(s, ", ")
}

func jsonOf(t *testing.T, res *Inspection) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func textOf(t *testing.T, res *Inspection) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteText(&b, res); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestWriteJSON_NonFiniteFloats writes NaN and infinities as Python spells them, in both forms.
func TestWriteJSON_NonFiniteFloats(t *testing.T) {
	tests := []struct {
		value float64
		want  string
	}{
		{math.NaN(), "nan"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{0.25, "0.25"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			pq := writeParquet(t, filepath.Join(t.TempDir(), "f.parquet"), map[string]any{"text": "x", "label": tt.value})
			res, err := Inspect(pq, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var back struct {
				First map[string]any `json:"first"`
			}
			if err := json.Unmarshal(jsonOf(t, res), &back); err != nil {
				t.Fatal(err)
			}
			if got := back.First["label"]; got != tt.want && got != tt.value {
				t.Errorf("JSON label %v, want %s", got, tt.want)
			}
			if line := "Sample: {'text': 'x', 'label': " + tt.want + "}\n"; !strings.Contains(textOf(t, res), line) {
				t.Errorf("text lacks %q:\n%s", line, textOf(t, res))
			}
		})
	}
}

// countLines are the lines of the text form that carry counts: "Examples: N", "Malformed: N",
// the decoded text's "N tokens", a DatasetDict's SPLIT EXAMPLES row and a job's
// SPLIT SEQ_LEN SEQUENCES OUTPUT FOUND row.
var (
	examplesLine  = regexp.MustCompile(`(?m)^Examples: (\d+)$`)
	malformedLine = regexp.MustCompile(`(?m)^Malformed: (\d+)$`)
	tokensLine    = regexp.MustCompile(`(?m)^Text \(.*, (\d+) tokens, decoded with `)
	dictRow       = regexp.MustCompile(`(?m)^(\S+) +(\d+) +\S+: `)
	jobRow        = regexp.MustCompile(`(?m)^(train|val) +\d+ +(\d+) +(\S+) +(?:hf (\d+) rows?|npy \((\d+),)`)
)

// TestWriteTextAndJSON_SameCounts renders inspections of each kind both ways and checks that
// the text form says the counts of the JSON form: of the dataset, or of every part, detailed
// parts in order.
func TestWriteTextAndJSON_SameCounts(t *testing.T) {
	dir := t.TempDir()
	paths := map[string]string{
		"job":     writeJob(t, filepath.Join(dir, "job"), nil),
		"dict":    dictDir,
		"hf":      rickDir,
		"npy":     writeNpy(t, filepath.Join(dir, "a.npy"), formats.Int32, 4, abcd, efgh, abcd),
		"jsonl":   writeFile(t, filepath.Join(dir, "a.jsonl"), `{"input_ids": [64]}`+"\n{\n"+`{"input_ids": [65, 66]}`+"\n{\n"),
		"parquet": writeParquet(t, filepath.Join(dir, "a.parquet"), map[string]any{"text": "a", "label": 1.0}),
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			res, err := Inspect(path, Options{Tokenizer: "gpt2"})
			if err != nil {
				t.Fatal(err)
			}
			var js Inspection
			if err := json.Unmarshal(jsonOf(t, res), &js); err != nil {
				t.Fatal(err)
			}
			text := textOf(t, res)
			sameCounts(t, text, &js)
		})
	}
}

// sameCounts checks the counts of text against those of js, an Inspection read back from JSON.
func sameCounts(t *testing.T, text string, js *Inspection) {
	t.Helper()
	var examples, malformed, tokens []string
	detailed := []*Inspection{js}
	if len(js.Parts) > 0 {
		detailed = nil
		for _, p := range js.Parts {
			if p.Error == "" && (p.Detailed || js.Kind == "hf_dict") {
				detailed = append(detailed, p)
			}
		}
	}
	for _, p := range detailed {
		examples = append(examples, strconv.FormatInt(p.Examples, 10))
		if p.Malformed > 0 {
			malformed = append(malformed, strconv.FormatInt(p.Malformed, 10))
		}
		if p.Tokenizer != "" {
			tokens = append(tokens, strconv.Itoa(p.Tokens))
		}
	}
	same(t, "Examples", submatches(examplesLine, text, 1), examples)
	same(t, "Malformed", submatches(malformedLine, text, 1), malformed)
	same(t, "decoded tokens", submatches(tokensLine, text, 1), tokens)
	var rows, want []string
	switch js.Kind {
	case "hf_dict":
		for _, m := range dictRow.FindAllStringSubmatch(text, -1) {
			rows = append(rows, m[1]+" "+m[2])
		}
		for _, p := range js.Parts {
			want = append(want, filepath.Base(p.Path)+" "+strconv.FormatInt(p.Examples, 10))
		}
	case "job":
		for _, m := range jobRow.FindAllStringSubmatch(text, -1) {
			rows = append(rows, m[3]+" "+m[2]+" "+m[4]+m[5])
		}
		for _, p := range js.Parts {
			want = append(want, filepath.Base(p.Path)+" "+strconv.FormatInt(p.Bucket.Sequences, 10)+" "+strconv.FormatInt(p.Examples, 10))
		}
	}
	same(t, "table rows", rows, want)
	if len(examples) == 0 {
		t.Error("no counts compared")
	}
}

func submatches(re *regexp.Regexp, s string, i int) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, m[i])
	}
	return out
}

func same(t *testing.T, what string, text, js []string) {
	t.Helper()
	if strings.Join(text, ",") != strings.Join(js, ",") {
		t.Errorf("%s: text says %q, JSON %q", what, text, js)
	}
}
