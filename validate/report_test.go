package validate

import (
	"bytes"
	"encoding/json"
	"testing"
)

func sampleReport(maxErrors int) *Report {
	r := NewReport(StageDPO, maxErrors)
	r.Add(LineLocation("dpo.jsonl", 1), nil)
	r.Add(LineLocation("dpo.jsonl", 2), []Issue{{Message: msgResponsesIdentity}})
	r.Add(RowLocation("dpo/train", 7), []Issue{
		{Field: "chosen", Message: "Field 'chosen' is empty after stripping"},
		{Field: "rejected", Message: "Missing required field 'rejected'"},
	})
	r.Add(LineLocation("dpo.jsonl", 4), []Issue{{Message: msgResponsesIdentity}})
	return r
}

func TestReport_JSON(t *testing.T) {
	got := sampleReport(2).JSON()
	want := `{"stage":"dpo","records":4,"valid":1,"invalid":3,` +
		`"by_message":{"Field 'chosen' is empty after stripping":1,"Missing required field 'rejected'":1,"Responses are identical":2},` +
		`"errors":[{"location":"dpo.jsonl:2","field":"","message":"Responses are identical"},` +
		`{"location":"dpo/train:row 7","field":"chosen","message":"Field 'chosen' is empty after stripping"}]}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestReport_JSONEmptyAndUnescaped(t *testing.T) {
	r := NewReport(StageRustLang, 5)
	got := r.JSON()
	if want := `{"stage":"rust-lang","records":0,"valid":0,"invalid":0,"by_message":{},"errors":[]}`; string(got) != want {
		t.Errorf("empty: got %s, want %s", got, want)
	}
	r.Add("a.jsonl:1", []Issue{{Field: "text", Message: msgHarmonyNoEOT}})
	got = r.JSON()
	if !bytes.Contains(got, []byte(`"Missing <|endoftext|> token"`)) {
		t.Errorf("Harmony token escaped: %s", got)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil || !bytes.Equal(bytes.TrimSpace(buf.Bytes()), got) {
		t.Errorf("Encoder: %s, %v; want %s", buf.Bytes(), err, got)
	}
}

func TestReport_Text(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport(3).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `stage dpo: 4 records, 1 valid, 3 invalid
by message:
       2  Responses are identical
       1  Field 'chosen' is empty after stripping
       1  Missing required field 'rejected'
errors (first 3 of 4):
  dpo.jsonl:2: Responses are identical
  dpo/train:row 7: chosen: Field 'chosen' is empty after stripping
  dpo/train:row 7: rejected: Missing required field 'rejected'
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestReport_UnlimitedAndAccessors(t *testing.T) {
	r := sampleReport(-1)
	if r.Records() != 4 || r.Valid() != 1 || r.Invalid() != 3 || r.Issues() != 4 || len(r.Errors()) != 4 {
		t.Errorf("counts = %d %d %d %d %d", r.Records(), r.Valid(), r.Invalid(), r.Issues(), len(r.Errors()))
	}
	m := r.ByMessage()
	m[msgResponsesIdentity] = 99
	if r.ByMessage()[msgResponsesIdentity] != 2 {
		t.Error("ByMessage returned the internal map")
	}
}

// Merging per-shard reports in input order gives the report of one pass over all records.
func TestReport_MergeEqualsSinglePass(t *testing.T) {
	all := NewReport(StageDPO, 3)
	a, b := NewReport(StageDPO, 3), NewReport(StageDPO, 3)
	adds := []struct {
		loc string
		is  []Issue
	}{
		{"f:1", []Issue{{Message: "x"}, {Message: "y"}}},
		{"f:2", nil},
		{"f:3", []Issue{{Message: "x"}}},
		{"f:4", []Issue{{Message: "z"}, {Message: "x"}}},
	}
	for i, x := range adds {
		all.Add(x.loc, x.is)
		if i < 2 {
			a.Add(x.loc, x.is)
		} else {
			b.Add(x.loc, x.is)
		}
	}
	a.Merge(b)
	ja, jall := a.JSON(), all.JSON()
	if !bytes.Equal(ja, jall) || a.Issues() != all.Issues() {
		t.Errorf("merged %s (%d issues)\nsingle %s (%d issues)", ja, a.Issues(), jall, all.Issues())
	}
}

// TestReport_ReadErrors checks how a report with inputs that could not be read to their end
// renders: the JSON counts them ("unreadable") and lists them ("read_errors") with where
// reading stopped, the human summary calls the counts partial, and Merge keeps them.
func TestReport_ReadErrors(t *testing.T) {
	row := int64(0)
	cases := []struct {
		name     string
		errs     []ReadError
		json     string // the JSON after "invalid":N
		textHead string
		textTail string
	}{
		{"line", []ReadError{{File: "a.jsonl.zst", Line: 944, Records: 943, Message: "zstd: unexpected EOF"}},
			`"unreadable":1,"by_message":{},"errors":[],"read_errors":[{"file":"a.jsonl.zst","line":944,"records":943,"message":"zstd: unexpected EOF"}]}`,
			"stage sft: 1 input could not be read to the end; partial counts: 943 records, 943 valid, 0 invalid\n",
			"could not be read:\n  a.jsonl.zst: stopped at line 944, after 943 records\n"},
		{"row zero and not opened", []ReadError{{File: "b.parquet", Row: &row, Message: "bad page"}, {File: "gone.jsonl", Message: "no such file"}},
			`"unreadable":2,"by_message":{},"errors":[],"read_errors":[{"file":"b.parquet","row":0,"records":0,"message":"bad page"},{"file":"gone.jsonl","records":0,"message":"no such file"}]}`,
			"stage sft: 2 inputs could not be read to the end; partial counts: 943 records, 943 valid, 0 invalid\n",
			"could not be read:\n  b.parquet: stopped at row 0, before the first record\n  gone.jsonl: stopped before the first record\n"},
		{"directory", []ReadError{{File: "hf", Records: 1, Message: "bad arrow"}},
			`"unreadable":1,"by_message":{},"errors":[],"read_errors":[{"file":"hf","records":1,"message":"bad arrow"}]}`,
			"stage sft: 1 input could not be read to the end; partial counts: 943 records, 943 valid, 0 invalid\n",
			"could not be read:\n  hf: stopped after 1 record\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			part := NewReport(StageSFT, 5)
			for i := 0; i < 943; i++ {
				part.Add(LineLocation("a.jsonl.zst", i+1), nil)
			}
			for _, e := range c.errs {
				part.AddReadError(e)
			}
			r := NewReport(StageSFT, 5)
			r.Merge(part)
			if r.Complete() || len(r.ReadErrors()) != len(c.errs) {
				t.Fatalf("Complete %v, read errors %v", r.Complete(), r.ReadErrors())
			}
			want := `{"stage":"sft","records":943,"valid":943,"invalid":0,` + c.json
			if got := string(r.JSON()); got != want {
				t.Errorf("JSON\n got %s\nwant %s", got, want)
			}
			var b bytes.Buffer
			if err := r.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != c.textHead+c.textTail {
				t.Errorf("text\n%s\nwant\n%s%s", got, c.textHead, c.textTail)
			}
		})
	}
	r := sampleReport(2)
	if !r.Complete() || bytes.Contains(r.JSON(), []byte("unreadable")) || bytes.Contains(r.JSON(), []byte("read_errors")) {
		t.Errorf("a report of inputs read whole: %s", r.JSON())
	}
}
