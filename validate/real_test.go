package validate

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readRecords decodes every line of a JSONL file in testdata, as the readers do (UseNumber),
// and returns the records with their "file:line" locations.
func readRecords(t *testing.T, name string) ([]map[string]any, []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []map[string]any
	var locs []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for line := 1; sc.Scan(); line++ {
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.UseNumber()
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("%s:%d: %v", name, line, err)
		}
		recs = append(recs, rec)
		locs = append(locs, LineLocation(name, line))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs, locs
}

func checkAll(stage Stage, recs []map[string]any, locs []string, opt Options) *Report {
	r := NewReport(stage, 3)
	for i, rec := range recs {
		r.Add(locs[i], Check(stage, rec, opt))
	}
	return r
}

func TestCheck_RealOASST2(t *testing.T) {
	recs, locs := readRecords(t, "oasst2.messages.jsonl")
	for _, st := range []Stage{StageSFT, StageLoRA} {
		if r := checkAll(st, recs, locs, Options{}); r.Records() != 399 || r.Valid() != 399 {
			t.Errorf("%s: %s", st, r.JSON())
		}
	}
	got := string(checkAll(StageDPO, recs, locs, Options{}).JSON())
	want := `{"stage":"dpo","records":399,"valid":0,"invalid":399,"by_message":{` +
		`"Missing required field 'chosen'":399,"Missing required field 'prompt'":399,"Missing required field 'rejected'":399},` +
		`"errors":[{"location":"oasst2.messages.jsonl:1","field":"prompt","message":"Missing required field 'prompt'"},` +
		`{"location":"oasst2.messages.jsonl:1","field":"chosen","message":"Missing required field 'chosen'"},` +
		`{"location":"oasst2.messages.jsonl:1","field":"rejected","message":"Missing required field 'rejected'"}]}`
	if got != want {
		t.Errorf("dpo:\n got %s\nwant %s", got, want)
	}
}

// Real conversations encoded as Harmony are well-formed rust-lang records.
func TestEncodeHarmony_RealOASST2RoundTrip(t *testing.T) {
	recs, _ := readRecords(t, "oasst2.messages.jsonl")
	r := NewReport(StageRustLang, 3)
	for i, rec := range recs {
		raw, _ := json.Marshal(rec["messages"])
		var msgs []Message
		if err := json.Unmarshal(raw, &msgs); err != nil {
			t.Fatal(err)
		}
		text, err := EncodeHarmony(msgs, "You are a helpful assistant.")
		if err != nil {
			t.Fatal(err)
		}
		if want := 2 + len(msgs); strings.Count(text, "<|") < want {
			t.Fatalf("record %d: %d tokens, want at least %d", i, strings.Count(text, "<|"), want)
		}
		r.Add(RowLocation("oasst2", i), Check(StageRustLang, map[string]any{"text": text}, Options{}))
	}
	if r.Valid() != 399 {
		t.Errorf("%s", r.JSON())
	}
}

func TestCheck_RealC4Text(t *testing.T) {
	recs, locs := readRecords(t, "c4_demo.jsonl")
	if r := checkAll(StageSFT, recs, locs, Options{}); r.Records() != 300 || r.Valid() != 300 {
		t.Errorf("sft: %s", r.JSON())
	}
	r := checkAll(StagePretrain, recs, locs, Options{})
	if r.Invalid() != 300 || r.ByMessage()["Missing required field 'input_ids'"] != 300 {
		t.Errorf("pretrain: %s", r.JSON())
	}
}

// HumanEval-rs (MultiPL-E) tasks use prompt/test and a fn main() harness: as they stand they
// are not eval tasks; mapped to description/tests they still lack #[test] functions; with the
// harness marked #[test] they are valid eval and GRPO tasks.
func TestCheck_RealHumanEvalRust(t *testing.T) {
	recs, locs := readRecords(t, "humaneval-rs.jsonl")
	r := checkAll(StageEval, recs, locs, Options{})
	if r.Invalid() != 156 || r.ByMessage()["Missing required field 'description'"] != 156 ||
		r.ByMessage()["Missing required field 'tests'"] != 156 || len(r.ByMessage()) != 2 {
		t.Errorf("raw: %s", r.JSON())
	}
	mapped := make([]map[string]any, len(recs))
	marked := make([]map[string]any, len(recs))
	for i, rec := range recs {
		prompt, test := rec["prompt"].(string), rec["test"].(string)
		mapped[i] = map[string]any{"description": prompt, "tests": test}
		marked[i] = map[string]any{
			"description":  prompt,
			"starter_code": prompt + "    todo!()\n}\n",
			"tests":        strings.Replace(test, "fn main()", "#[test]\nfn main()", 1),
		}
	}
	r = checkAll(StageEval, mapped, locs, Options{})
	if r.Invalid() != 156 || r.ByMessage()[msgNoTestFn] != 156 || len(r.ByMessage()) != 1 {
		t.Errorf("mapped: %s", r.JSON())
	}
	for _, st := range []Stage{StageEval, StageGRPO} {
		if r := checkAll(st, marked, locs, Options{}); r.Valid() != 156 {
			t.Errorf("%s marked: %s", st, r.JSON())
		}
	}
}
