package validate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decodeAny decodes one JSON value as the readers do (UseNumber); ok is false for bytes that
// are not JSON.
func decodeAny(s string) (v any, ok bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if dec.Decode(&v) != nil || dec.More() {
		return nil, false
	}
	return v, true
}

// TestRules_ExamplesBreakTheirRule holds the rule table to the code one way: each rule's
// example, checked as a record of each of the rule's stages, yields an issue that the rule
// (and no rule listed before it) describes.
func TestRules_ExamplesBreakTheirRule(t *testing.T) {
	for _, st := range Stages() {
		for _, r := range StageRules(st) {
			t.Run(string(st)+"/"+r.ID, func(t *testing.T) {
				v, ok := decodeAny(r.Example)
				if !ok {
					if r.Message != MsgMalformed {
						t.Fatalf("example %s is not JSON", r.Example)
					}
					return
				}
				issues := CheckValue(st, v, Options{SeqLen: r.SeqLen})
				for _, is := range issues {
					if m, ok := MatchRule(st, is); ok && m.ID == r.ID {
						return
					}
				}
				t.Errorf("example %s yields %q, no issue of rule %s (%s: %s)", r.Example, render(issues), r.ID, r.Field, r.Message)
			})
		}
	}
}

// TestRules_EveryIssueHasARule holds the table to the code the other way: every issue that
// Check reports, for the records of the test fixtures and the rules' examples checked as
// records of every stage, matches a rule of its stage.
func TestRules_EveryIssueHasARule(t *testing.T) {
	var recs []string
	for _, r := range Rules() {
		recs = append(recs, r.Example)
	}
	files, _ := filepath.Glob("testdata/*.jsonl")
	for _, f := range files {
		recs = append(recs, readLines(t, f)...)
	}
	type stageIssue struct {
		st Stage
		is Issue
	}
	issues := map[stageIssue]string{} // each distinct issue, with a record that yields it
	for _, s := range recs {
		v, ok := decodeAny(s)
		if !ok {
			continue
		}
		for _, st := range Stages() {
			for _, opt := range []Options{{}, {VocabSize: 10, SeqLen: 2}} {
				for _, is := range CheckValue(st, v, opt) {
					issues[stageIssue{st, is}] = s
				}
			}
		}
	}
	seen := map[string]bool{}
	for k, s := range issues {
		r, ok := MatchRule(k.st, k.is)
		if !ok {
			t.Errorf("%s: issue %q of %.80s has no rule", k.st, k.is, s)
			continue
		}
		seen[string(k.st)+" "+r.ID] = true
	}
	for _, st := range Stages() {
		for _, r := range StageRules(st) {
			if r.Message != MsgMalformed && !seen[string(st)+" "+r.ID] {
				t.Errorf("%s: rule %s never matched", st, r.ID)
			}
		}
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRules_Table(t *testing.T) {
	for _, st := range Stages() {
		rules := StageRules(st)
		if len(rules) < 3 {
			t.Errorf("%s: %d rules", st, len(rules))
		}
		ids := map[string]bool{}
		for _, r := range rules {
			if ids[r.ID] {
				t.Errorf("%s: rule %s listed twice", st, r.ID)
			}
			ids[r.ID] = true
			if r.Check == "" || r.Message == "" || r.Example == "" {
				t.Errorf("%s: rule %+v incomplete", st, r)
			}
			if r.Source != "" && r.Source != "document" && r.Source != "pipeline" {
				t.Errorf("%s: rule %s source %q", st, r.ID, r.Source)
			}
		}
		if info := stageInfo(st); info.Name == "" || info.Dir == "" || info.Fields == "" {
			t.Errorf("%s: no overview entry", st)
		}
	}
}

func TestLoRAConfigRules_Examples(t *testing.T) {
	for _, r := range LoRAConfigRules() {
		v, ok := decodeAny(r.Example)
		cfg, isMap := v.(map[string]any)
		if !ok || !isMap {
			t.Fatalf("%s: example %s is not a JSON object", r.ID, r.Example)
		}
		found := false
		for _, is := range CheckLoRA(cfg) {
			found = found || (matchMessage(r.Message, is.Message) && matchField(r.Field, is.Field))
		}
		if !found {
			t.Errorf("%s: example %s yields %q", r.ID, r.Example, render(CheckLoRA(cfg)))
		}
	}
}

// TestRulesDoc_UpToDate fails when docs/validation-rules.md differs from what the rule table
// generates: run `make rules-doc` (go generate ./validate) after changing the table.
func TestRulesDoc_UpToDate(t *testing.T) {
	got, err := os.ReadFile("../docs/validation-rules.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := RulesMarkdown(); !bytes.Equal(got, want) {
		t.Errorf("docs/validation-rules.md is not what the rule table generates; run `make rules-doc`")
	}
}

func TestWriteRules(t *testing.T) {
	var b bytes.Buffer
	if err := WriteRules(&b, []Stage{StageDPO}); err != nil {
		t.Fatal(err)
	}
	want := "stage dpo: DPO, in data/dpo/; a record holds prompt, chosen, rejected\n" +
		"\n  record.json  (the record)\n      checks:  the line (or row) is JSON, within the record size limit\n      message: Malformed JSON\n"
	if !strings.HasPrefix(b.String(), want) {
		t.Errorf("got\n%s\nwant it to start with\n%s", b.String(), want)
	}
	if !strings.Contains(b.String(), "\n  preference.distinct  (the record)\n      checks:  chosen and rejected differ\n"+
		"      message: Responses are identical  (the document's words)\n") {
		t.Errorf("no preference.distinct in\n%s", b.String())
	}
}
