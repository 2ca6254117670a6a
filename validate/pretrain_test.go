package validate

import (
	"encoding/json"
	"testing"
)

func TestCheck_Pretrain(t *testing.T) {
	vocab := Options{VocabSize: 50000}
	runStageCases(t, StagePretrain, []stageCase{
		{"document example", `{"input_ids": [1, 4521, 289, 15, 2847, 2]}`, vocab, nil},
		{"no vocabulary bound", `{"input_ids": [1, 99999999]}`, Options{}, nil},
		{"missing", `{"text": "hello"}`, vocab, []string{"input_ids: Missing required field 'input_ids'"}},
		{"not a list", `{"input_ids": "1 2 3"}`, vocab, []string{"input_ids: Field 'input_ids' must be a list"}},
		{"null", `{"input_ids": null}`, vocab, []string{"input_ids: Field 'input_ids' must be a list"}},
		{"empty", `{"input_ids": []}`, vocab, []string{"input_ids: Field 'input_ids' is empty"}},
		{"document out of range", `{"input_ids": [1, 50000, 2]}`, vocab,
			[]string{"input_ids[1]: Token ID 50000 out of vocabulary range"}},
		{"first bad id only", `{"input_ids": [-1, 50000, 60000]}`, vocab,
			[]string{"input_ids[0]: Token ID -1 out of vocabulary range"}},
		{"last id in range", `{"input_ids": [0, 49999]}`, vocab, nil},
		{"non integers", `{"input_ids": [1, 2.5, "3", null, 70000]}`, vocab, []string{
			"input_ids[1]: Field 'input_ids' must be a list of integers",
			"input_ids[4]: Token ID 70000 out of vocabulary range"}},
		{"huge integer", `{"input_ids": [1e3, 123456789012345678901234567890]}`, Options{},
			[]string{"input_ids[0]: Field 'input_ids' must be a list of integers"}},
		{"length ok", `{"input_ids": [1, 2, 3, 4]}`, Options{SeqLen: 4}, nil},
		{"length wrong", `{"input_ids": [1, 2, 3]}`, Options{VocabSize: 3, SeqLen: 4}, []string{
			"input_ids[2]: Token ID 3 out of vocabulary range",
			"input_ids: Sequence length 3 does not match expected 4"}},
	})
}

func TestCheck_PretrainTypedSlices(t *testing.T) {
	opt := Options{VocabSize: 10, SeqLen: 3}
	for _, ids := range []any{[]int64{1, 2, 12}, []int32{1, 2, 12}, []int{1, 2, 12}, []uint16{1, 2, 12}, []uint32{1, 2, 12}, []any{1.0, int8(2), uint64(12)}} {
		got := render(Check(StagePretrain, map[string]any{"input_ids": ids}, opt))
		if want := "input_ids[2]: Token ID 12 out of vocabulary range"; got != want {
			t.Errorf("%T: got %q, want %q", ids, got, want)
		}
	}
	if got := render(Check(StagePretrain, map[string]any{"input_ids": []any{json.Number("7")}}, Options{})); got != "" {
		t.Errorf("json.Number: got %q", got)
	}
}

func TestSeqLenFromPath_CurriculumNames(t *testing.T) {
	cases := map[string]int{
		"data/packed/train_512/data-00000-of-00001.arrow": 512,
		"data/packed/val_2048":                            2048,
		"/out/train_1024.npy":                             1024,
		`data\packed\val_1024\x.arrow`:                    0, // not a slash path on Linux: no bucket
		"data/packed/train/data.arrow":                    0,
		"data/packed/train_0/x":                           0,
		"train_512/extra/val_1024/x.arrow":                1024,
		"data/packed/training_512/x":                      0,
	}
	for p, want := range cases {
		got, ok := SeqLenFromPath(p)
		if got != want || ok != (want > 0) {
			t.Errorf("SeqLenFromPath(%q) = %d, %v; want %d", p, got, ok, want)
		}
	}
}
