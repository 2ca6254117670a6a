package tokenizer

import (
	"encoding/json"
	"slices"
	"testing"
)

// The messages of malformed pre-tokenizers and post-processors, one per way each can fail.
func TestHFComponentErrors(t *testing.T) {
	tests := []struct {
		name, raw, want string
		post            bool
	}{
		{"pre ByteLevel config", `{"type":"ByteLevel","use_regex":1}`,
			`tokenizer.json: pre_tokenizer "ByteLevel": json: cannot unmarshal number into Go struct field .use_regex of type bool`, false},
		{"pre Split behavior", `{"type":"Split","pattern":{"Regex":"a"},"behavior":"Sideways","invert":false}`,
			`tokenizer.json: pre_tokenizer "Split": unknown split behavior "Sideways"`, false},
		{"pre Sequence config", `{"type":"Sequence","pretokenizers":{}}`,
			`tokenizer.json: pre_tokenizer "Sequence": json: cannot unmarshal object into Go struct field .pretokenizers of type []json.RawMessage`, false},
		{"pre Sequence member", `{"type":"Sequence","pretokenizers":[{"type":"Digits"},{"type":"UnicodeScripts"}]}`,
			`tokenizer.json: pre_tokenizer "UnicodeScripts" is not supported`, false},
		{"pre Digits config", `{"type":"Digits","individual_digits":"yes"}`,
			`tokenizer.json: pre_tokenizer "Digits": json: cannot unmarshal string into Go struct field .individual_digits of type bool`, false},
		{"pre Punctuation behavior", `{"type":"Punctuation","behavior":"Sideways"}`,
			`tokenizer.json: pre_tokenizer "Punctuation": unknown split behavior "Sideways"`, false},
		{"pre CharDelimiterSplit delimiter", `{"type":"CharDelimiterSplit","delimiter":"ab"}`,
			`tokenizer.json: pre_tokenizer "CharDelimiterSplit": delimiter must be exactly one character`, false},
		{"pre ByteLevel not last", `{"type":"Sequence","pretokenizers":[{"type":"ByteLevel"},{"type":"Digits"}]}`,
			`tokenizer.json: pre_tokenizer "Sequence" with ByteLevel followed by another pre-tokenizer is not supported`, false},
		{"post Bert cls", `{"type":"BertProcessing","cls":[],"sep":["</s>",2]}`,
			`tokenizer.json: post_processor "BertProcessing": cls: want ["token", id]`, true},
		{"post Roberta sep", `{"type":"RobertaProcessing","cls":["<s>",1],"sep":[]}`,
			`tokenizer.json: post_processor "RobertaProcessing": sep: want ["token", id]`, true},
		{"post template sequence B", `{"type":"TemplateProcessing","single":[{"Sequence":{"id":"B"}}]}`,
			`tokenizer.json: post_processor "TemplateProcessing": single template uses sequence "B"`, true},
		{"post template missing special", `{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}]}`,
			`tokenizer.json: post_processor "TemplateProcessing": missing special token "<s>"`, true},
		{"post template unknown token", `{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"x"}},{"Sequence":{"id":"A"}}],` +
			`"special_tokens":{"x":{"id":"x","tokens":["<unk>"]}}}`,
			`tokenizer.json: post_processor "TemplateProcessing": special token "<unk>" is not in the vocabulary`, true},
		{"post template piece", `{"type":"TemplateProcessing","single":[{}]}`,
			`tokenizer.json: post_processor "TemplateProcessing": template piece must be SpecialToken or Sequence`, true},
		{"post template two A", `{"type":"TemplateProcessing","single":[{"Sequence":{"id":"A"}},{"Sequence":{"id":"A"}}]}`,
			`tokenizer.json: post_processor "TemplateProcessing" with a single template holding 2 $A is not supported`, true},
		{"post Sequence member", `{"type":"Sequence","processors":[{"type":"ByteLevel"},{"type":"Unknown"}]}`,
			`tokenizer.json: post_processor "Unknown" is not supported`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.post {
				_, err = newPostProcessor(json.RawMessage(tt.raw), testTokenID)
			} else {
				_, _, err = newPreTokenizer(json.RawMessage(tt.raw))
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
}

// The affixes each post-processor adds to a single sequence.
func TestHFPostProcessorAffixes(t *testing.T) {
	tests := []struct {
		name, raw      string
		prefix, suffix []uint32
	}{
		{"ByteLevel", `{"type":"ByteLevel"}`, nil, nil},
		{"Roberta, ids looked up", `{"type":"RobertaProcessing","cls":["<s>"],"sep":["</s>"]}`, []uint32{1}, []uint32{2}},
		{"template", `{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}},{"SpecialToken":{"id":"e"}}],` +
			`"special_tokens":{"<s>":{"id":"<s>","ids":[7]},"e":{"id":"e","tokens":["</s>","<s>"]}}}`, []uint32{7}, []uint32{2, 1}},
		{"sequence nests", `{"type":"Sequence","processors":[{"type":"BertProcessing","cls":["a",5],"sep":["b",6]},` +
			`{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}],"special_tokens":{"<s>":{"id":"<s>","tokens":["<s>"]}}}]}`,
			[]uint32{1, 5}, []uint32{6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPostProcessor(json.RawMessage(tt.raw), testTokenID)
			if err != nil {
				t.Fatal(err)
			}
			prefix, suffix := templateAdds(p)
			if !slices.Equal(prefix, tt.prefix) || !slices.Equal(suffix, tt.suffix) {
				t.Errorf("affixes %v, %v; want %v, %v", prefix, suffix, tt.prefix, tt.suffix)
			}
		})
	}
}

// testTokenID knows two special tokens.
func testTokenID(s string) (uint32, bool) {
	id, ok := map[string]uint32{"<s>": 1, "</s>": 2}[s]
	return id, ok
}
