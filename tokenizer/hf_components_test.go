package tokenizer

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func mustPreTokenizer(t *testing.T, cfg string) preTokenizer {
	t.Helper()
	pt, _, err := newPreTokenizer(json.RawMessage(cfg))
	if err != nil {
		t.Fatalf("%s: %v", cfg, err)
	}
	return pt
}

func preTok(t *testing.T, cfg, in string) []string {
	t.Helper()
	return mustPreTokenizer(t, cfg).preTokenize(nil, in, true)
}

type preTokCase struct {
	cfg, in string
	want    []string
}

func runPreTokCases(t *testing.T, cases []preTokCase) {
	t.Helper()
	for _, tt := range cases {
		got := preTok(t, tt.cfg, tt.in)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s on %q:\n got %q\nwant %q", tt.cfg, tt.in, got, tt.want)
		}
	}
}

// TestHFSplit ports split.rs: basic (every behavior, inverted whitespace regex), regex_string and
// invert.
func TestHFSplit(t *testing.T) {
	const ws = `{"type":"Split","pattern":{"Regex":"\\w+|[^\\w\\s]+"},"invert":true,"behavior":`
	in := "How are you doing?"
	runPreTokCases(t, []preTokCase{
		{ws + `"Removed"}`, in, []string{"How", "are", "you", "doing", "?"}},
		{ws + `"Isolated"}`, in, []string{"How", " ", "are", " ", "you", " ", "doing", "?"}},
		{ws + `"MergedWithPrevious"}`, in, []string{"How ", "are ", "you ", "doing", "?"}},
		{ws + `"MergedWithNext"}`, in, []string{"How", " are", " you", " doing", "?"}},
		{ws + `"Contiguous"}`, in, []string{"How", " ", "are", " ", "you", " ", "doing?"}},
		// regex_string: a regex and a string pattern split alike.
		{`{"type":"Split","pattern":{"Regex":"\\s+"},"behavior":"Removed","invert":false}`, "Hey, man!", []string{"Hey,", "man!"}},
		{`{"type":"Split","pattern":{"String":" "},"behavior":"Removed","invert":false}`, "Hey, man!", []string{"Hey,", "man!"}},
		// invert: splitting on " " equals keeping "Hello" inverted.
		{`{"type":"Split","pattern":{"String":" "},"behavior":"Removed","invert":false}`, "Hello Hello Hello", []string{"Hello", "Hello", "Hello"}},
		{`{"type":"Split","pattern":{"String":"Hello"},"behavior":"Removed","invert":true}`, "Hello Hello Hello", []string{"Hello", "Hello", "Hello"}},
		// Not inverted, with delimiters at both ends.
		{`{"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithPrevious","invert":false}`, "-a--b-", []string{"-", "a-", "-", "b-"}},
		{`{"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithNext","invert":false}`, "-a--b-", []string{"-a", "-", "-b", "-"}},
		{`{"type":"Split","pattern":{"String":"-"},"behavior":"Contiguous","invert":false}`, "-a--b-", []string{"-", "a", "--", "b", "-"}},
		{`{"type":"Split","pattern":{"String":"-"},"behavior":"Isolated","invert":false}`, "-a--b-", []string{"-", "a", "-", "-", "b", "-"}},
		{`{"type":"Split","pattern":{"String":"-"},"behavior":"Removed","invert":false}`, "-a--b-", []string{"a", "b"}},
		// An empty pattern matches (emptily) at every character boundary, which still cuts the
		// text into characters, as Oniguruma's find_iter does.
		{`{"type":"Split","pattern":{"String":""},"behavior":"Removed","invert":false}`, "ab", []string{"a", "b"}},
		// Lookahead split (only empty matches), as used to split before capitals.
		{`{"type":"Split","pattern":{"Regex":"(?=[A-Z])"},"behavior":"Isolated","invert":false}`, "HelloWorld", []string{"Hello", "World"}},
		{`{"type":"Split","pattern":{"Regex":"\\p{N}"},"behavior":"Isolated","invert":false}`, "a12", []string{"a", "1", "2"}},
	})
}

// TestHFWhitespace ports whitespace.rs: basic and whitespace_split.
func TestHFWhitespace(t *testing.T) {
	runPreTokCases(t, []preTokCase{
		{`{"type":"Whitespace"}`, "Hey man!", []string{"Hey", "man", "!"}},
		{`{"type":"Whitespace"}`, "How are you doing?", []string{"How", "are", "you", "doing", "?"}},
		{`{"type":"Whitespace"}`, "\n", nil},
		{`{"type":"Whitespace"}`, "naïve—café…\xff!", []string{"naïve", "—", "café", "…\xff!"}},
		{`{"type":"WhitespaceSplit"}`, "Hey man!", []string{"Hey", "man!"}},
		{`{"type":"WhitespaceSplit"}`, "Hey, man, Good?", []string{"Hey,", "man,", "Good?"}},
		{`{"type":"WhitespaceSplit"}`, "a\u3000b\u00a0c", []string{"a", "b", "c"}},
		{`{"type":"BertPreTokenizer"}`, "Hey friend!  How are you?!?", []string{"Hey", "friend", "!", "How", "are", "you", "?", "!", "?"}},
		{`{"type":"CharDelimiterSplit","delimiter":"x"}`, "axbxxc", []string{"a", "b", "c"}},
	})
}

// TestHFMetaspace ports metaspace.rs: basic, multiple_spaces, non_legacy_meta_space and the
// deserialization rules of serialization.
func TestHFMetaspace(t *testing.T) {
	const always = `{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}`
	runPreTokCases(t, []preTokCase{
		{always, "Hey friend!", []string{"▁Hey", "▁friend!"}},
		{always, "Hey   friend!", []string{"▁Hey", "▁", "▁", "▁friend!"}},
		{`{"type":"Metaspace","replacement":"▁","add_prefix_space":true}`, "Hey friend!", []string{"▁Hey", "▁friend!"}},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":true}`, "Hey friend!", []string{"Hey", "▁friend!"}},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":false}`, "Hey friend!", []string{"▁Hey▁friend!"}},
		{`{"type":"Metaspace","replacement":"▁","add_prefix_space":false,"prepend_scheme":"never"}`, " a", []string{"▁a"}},
	})

	// non_legacy_meta_space: the text is first split around <s> (Isolated), then Metaspace
	// "first" without split, then Metaspace "always" with split.
	const sSplit = `{"type":"Split","pattern":{"Regex":"(<s>)"},"behavior":"Isolated","invert":false}`
	const first = `{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}`
	seq := func(parts ...string) string {
		return `{"type":"Sequence","pretokenizers":[` + strings.Join(parts, ",") + `]}`
	}
	runPreTokCases(t, []preTokCase{
		{seq(sSplit, first), "Hey my friend <s>how▁are you", []string{"▁Hey▁my▁friend▁", "<s>", "how▁are▁you"}},
		{seq(sSplit, first, always), "Hey my friend <s>how▁are you", []string{"▁Hey", "▁my", "▁friend", "▁", "▁<s>", "▁how", "▁are", "▁you"}},
		{seq(sSplit, first), " Hey <s>how", []string{"▁Hey▁", "<s>", "how"}},
		{seq(sSplit, first), " Hey <s>how <s>are <s> you", []string{"▁Hey▁", "<s>", "how▁", "<s>", "are▁", "<s>", "▁you"}},
		// A piece whose original offset is not 0 gets no prefix under "first", even when an
		// earlier step removed what was before it.
		{seq(`{"type":"WhitespaceSplit"}`, first), " a b", []string{"a", "b"}},
	})
	// The caller's first flag: a segment after an added token is not first.
	pt := mustPreTokenizer(t, first)
	if got := pt.preTokenize(nil, "hi", false); !reflect.DeepEqual(got, []string{"hi"}) {
		t.Errorf("not first: %q", got)
	}
	if got := pt.preTokenize(nil, "hi", true); !reflect.DeepEqual(got, []string{"▁hi"}) {
		t.Errorf("first: %q", got)
	}

	for _, bad := range []string{
		`{"type":"Metaspace","replacement":"_","add_prefix_space":false,"prepend_scheme":"always"}`,
		`{"type":"Metaspace","replacement":"_","add_prefix_space":false}`,
		`{"type":"Metaspace","replacement":"__","prepend_scheme":"always"}`,
		`{"type":"Metaspace","replacement":"_","prepend_scheme":"sometimes"}`,
	} {
		if _, _, err := newPreTokenizer(json.RawMessage(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// TestHFDigitsPunctuation ports digits.rs (numbers, individual_digits) and punctuation.rs
// (punctuation_basic).
func TestHFDigitsPunctuation(t *testing.T) {
	runPreTokCases(t, []preTokCase{
		{`{"type":"Digits","individual_digits":false}`, "Hey 123 friend!", []string{"Hey ", "123", " friend!"}},
		{`{"type":"Digits","individual_digits":true}`, "Hey 123 friend!", []string{"Hey ", "1", "2", "3", " friend!"}},
		// char::is_numeric covers No (²) and Nl (Ⅻ) as well as Nd.
		{`{"type":"Digits","individual_digits":false}`, "x²Ⅻ٣y", []string{"x", "²Ⅻ٣", "y"}},
		{`{"type":"Punctuation"}`, "Hey friend!     How are you?!?", []string{"Hey friend", "!", "     How are you", "?", "!", "?"}},
		{`{"type":"Punctuation","behavior":"Contiguous"}`, "Hey friend!     How are you?!?", []string{"Hey friend", "!", "     How are you", "?!?"}},
		// ASCII symbols count ($ is Sc), Unicode P does (« is Pi), Unicode S does not (€).
		{`{"type":"Punctuation"}`, "a$b«c€d", []string{"a", "$", "b", "«", "c€d"}},
	})
}

// TestHFByteLevelPreTokenizer ports byte_level.rs: pre_tokenization, pre_tokenization_no_regex,
// add_prefix_space, handling_of_newlines (raw bytes, not the byte alphabet).
func TestHFByteLevelPreTokenizer(t *testing.T) {
	const noPrefix = `{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}`
	const prefix = `{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}`
	runPreTokCases(t, []preTokCase{
		{noPrefix, "Hello my friend, how is your day going?", []string{"Hello", " my", " friend", ",", " how", " is", " your", " day", " going", "?"}},
		{`{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":false}`, "Hello my friend, how is your day going?", []string{" Hello my friend, how is your day going?"}},
		{prefix, " Hello my friend, how is your day going?", []string{" Hello", " my", " friend", ",", " how", " is", " your", " day", " going", "?"}},
		{prefix, "Hello my friend, how is your day going?", []string{" Hello", " my", " friend", ",", " how", " is", " your", " day", " going", "?"}},
		{noPrefix, "Hello there\nHello there", []string{"Hello", " there", "\n", "Hello", " there"}},
		{noPrefix, "Hello there       dear", []string{"Hello", " there", "      ", " dear"}},
		{noPrefix, "i⭢j", []string{"i", "⭢", "j"}},
		{prefix, "", nil},
	})
	// A typical Llama-3 style configuration: Split with the tokenizer's pattern, then ByteLevel
	// without regex.
	cfg := `{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":` +
		mustJSON(cl100kPatternForTest) + `},"behavior":"Isolated","invert":false},` +
		`{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}`
	pt, bl, err := newPreTokenizer(json.RawMessage(cfg))
	if err != nil || !bl {
		t.Fatalf("byteLevel=%v err=%v", bl, err)
	}
	if got, want := pt.preTokenize(nil, "Hello world  \n\n x", true), []string{"Hello", " world", "  \n\n", " x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// ByteLevel followed by another step would need the byte alphabet: refused.
	_, _, err = newPreTokenizer(json.RawMessage(`{"type":"Sequence","pretokenizers":[{"type":"ByteLevel","add_prefix_space":false},{"type":"Digits","individual_digits":true}]}`))
	if err == nil || !strings.Contains(err.Error(), "ByteLevel followed by") {
		t.Errorf("ByteLevel then Digits: %v", err)
	}
	pt, bl, err = newPreTokenizer(json.RawMessage(`null`))
	if pt != nil || bl || err != nil {
		t.Errorf("null: %v %v %v", pt, bl, err)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestHFComponentUnsupported(t *testing.T) {
	if _, err := newNormalizer(json.RawMessage(`{"type":"Precompiled","precompiled_charsmap":"AAAA"}`)); err == nil ||
		err.Error() != `tokenizer.json: normalizer "Precompiled" is not supported` {
		t.Errorf("normalizer: %v", err)
	}
	if _, err := newNormalizer(json.RawMessage(`{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"BertNormalizer"}]}`)); err == nil ||
		!strings.Contains(err.Error(), `"BertNormalizer" is not supported`) {
		t.Errorf("nested normalizer: %v", err)
	}
	if _, _, err := newPreTokenizer(json.RawMessage(`{"type":"UnicodeScripts"}`)); err == nil ||
		!strings.Contains(err.Error(), `pre_tokenizer "UnicodeScripts" is not supported`) {
		t.Errorf("pre-tokenizer: %v", err)
	}
	if _, err := newDecoder(json.RawMessage(`{"type":"WordPiece","prefix":"##","cleanup":true}`)); err == nil ||
		!strings.Contains(err.Error(), `decoder "WordPiece" is not supported`) {
		t.Errorf("decoder: %v", err)
	}
	if _, err := newPostProcessor(json.RawMessage(`{"type":"Unknown"}`), nil); err == nil ||
		!strings.Contains(err.Error(), `post_processor "Unknown" is not supported`) {
		t.Errorf("post-processor: %v", err)
	}
	for _, bad := range []string{`{}`, `[1]`, `{"type":"Split","pattern":{"Regex":"("},"behavior":"Isolated","invert":false}`,
		`{"type":"Split","pattern":{"Regex":"a"},"behavior":"Sideways","invert":false}`} {
		if _, _, err := newPreTokenizer(json.RawMessage(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	if n, err := newNormalizer(json.RawMessage(` null `)); n != nil || err != nil {
		t.Errorf("null normalizer: %v %v", n, err)
	}
	if d, err := newDecoder(nil); d != nil || err != nil {
		t.Errorf("null decoder: %v %v", d, err)
	}
}

// TestHFNormalizers ports replace.rs (test_replace, test_replace_regex), prepend.rs
// (test_prepend) and unicode.rs/strip.rs behaviour, plus compatibility characters under NFKC.
func TestHFNormalizers(t *testing.T) {
	tests := []struct {
		cfg, in, want string
	}{
		{`{"type":"Replace","pattern":{"String":"''"},"content":"\""}`, "This is a ''test''", "This is a \"test\""},
		{`{"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "}`, "This     is   a         test", "This is a test"},
		{`{"type":"Replace","pattern":{"String":" "},"content":"▁"}`, "Hey friend", "Hey▁friend"},
		{`{"type":"Prepend","prepend":"▁"}`, "Hello", "▁Hello"},
		{`{"type":"Prepend","prepend":"▁"}`, "", ""},
		{`{"type":"NFKC"}`, "ﬁ①Ａ²ℌ\u3000", "fi1A2H "},
		{`{"type":"NFKD"}`, "é", "e\u0301"},
		{`{"type":"NFC"}`, "e\u0301", "é"},
		{`{"type":"NFD"}`, "Å", "A\u030a"},
		{`{"type":"Lowercase"}`, "HeLLo ÀΣΣ İ", "hello àσσ i\u0307"},
		{`{"type":"Lowercase"}`, "A\xffB", "a\xffb"},
		{`{"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"StripAccents"}]}`, "Héllo çà", "Hello ca"},
		{`{"type":"StripAccents"}`, "d\u0300\u0301e", "de"},
		{`{"type":"Strip","strip_left":true,"strip_right":true}`, "  \u00a0hi there\n ", "hi there"},
		{`{"type":"Strip","strip_left":false,"strip_right":true}`, "  hi  ", "  hi"},
		{`{"type":"Strip","strip_left":true,"strip_right":false}`, "  hi  ", "hi  "},
		{`{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}`, "Hey you", "▁Hey▁you"},
	}
	for _, tt := range tests {
		n, err := newNormalizer(json.RawMessage(tt.cfg))
		if err != nil {
			t.Fatalf("%s: %v", tt.cfg, err)
		}
		if got := n.normalize(tt.in); got != tt.want {
			t.Errorf("%s on %q: got %q, want %q", tt.cfg, tt.in, got, tt.want)
		}
	}
}

func decodeWith(t *testing.T, cfg string, tokens ...string) []string {
	t.Helper()
	d, err := newDecoder(json.RawMessage(cfg))
	if err != nil {
		t.Fatalf("%s: %v", cfg, err)
	}
	return d.decode(tokens)
}

// TestHFDecoders ports byte_fallback.rs (decode), strip.rs (decode), fuse.rs (decode),
// metaspace.rs (decode) and byte_level.rs (decoding, decode_works_on_separated_tokens).
func TestHFDecoders(t *testing.T) {
	const bf = `{"type":"ByteFallback"}`
	tests := []struct {
		cfg    string
		tokens []string
		want   []string
	}{
		{bf, []string{"Hey", "friend!"}, []string{"Hey", "friend!"}},
		{bf, []string{"<0x61>"}, []string{"a"}},
		{bf, []string{"<0xE5>"}, []string{"\uFFFD"}},
		{bf, []string{"<0xE5>", "<0x8f>"}, []string{"\uFFFD", "\uFFFD"}},
		{bf, []string{"<0xE5>", "<0x8f>", "<0xab>"}, []string{"叫"}},
		{bf, []string{"<0xE5>", "<0x8f>", "<0xab>", "a"}, []string{"叫", "a"}},
		{bf, []string{"<0xE5>", "<0x8f>", "a"}, []string{"\uFFFD", "\uFFFD", "a"}},
		{bf, []string{"<0xzz>", "<0x+A>", "<0x4>"}, []string{"<0xzz>", "\n", "<0x4>"}},
		{`{"type":"Strip","content":"H","start":1,"stop":0}`, []string{"Hey", " friend!", "HHH"}, []string{"ey", " friend!", "HH"}},
		{`{"type":"Strip","content":"y","start":0,"stop":1}`, []string{"Hey", " friend!"}, []string{"He", " friend!"}},
		{`{"type":"Strip","content":" ","start":1,"stop":1}`, []string{" ", "", "  x  "}, []string{"", "", " x "}},
		{`{"type":"Fuse"}`, []string{"Hey", " friend!"}, []string{"Hey friend!"}},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}`, []string{"▁Hey", "▁friend!"}, []string{"Hey", " friend!"}},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":true}`, []string{"▁Hey", "▁friend!"}, []string{" Hey", " friend!"}},
		{`{"type":"Metaspace","replacement":"▁","add_prefix_space":true}`, []string{"▁a▁b", "▁c"}, []string{"ab", " c"}},
		{`{"type":"Replace","pattern":{"String":"▁"},"content":" "}`, []string{"▁Hey", "x"}, []string{" Hey", "x"}},
		{`{"type":"BPEDecoder","suffix":"</w>"}`, []string{"hel", "lo</w>", "wor", "ld</w>"}, []string{"hel", "lo ", "wor", "ld"}},
		{`{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}`,
			[]string{"Hello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?"},
			[]string{"Hello my friend, how is your day going?"}},
		// A token outside the alphabet is kept as it is; bytes stay raw (no lossy step).
		{`{"type":"ByteLevel"}`, []string{"▁x", "Ċ", "ÿ"}, []string{"▁x\n\xff"}},
	}
	for _, tt := range tests {
		if got := decodeWith(t, tt.cfg, tt.tokens...); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s on %q: got %q, want %q", tt.cfg, tt.tokens, got, tt.want)
		}
	}

	// decode_works_on_separated_tokens: every character of the byte-level spelling as a token.
	enc := byteLevelAlphabet()
	d, _ := newDecoder(json.RawMessage(`{"type":"ByteLevel"}`))
	for _, sample := range []string{
		"A Nuskhuri abbreviation of იესუ ქრისტე ( iesu kriste ) \" Jesus Christ \"",
		"An equal number have descenders , like p or q in English : გ , დ , ე , ვ , კ , ლ , ჟ , ტ , უ , ფ , ღ , ყ , ც",
	} {
		var toks []string
		for _, r := range byteLevelSpell(&enc, []byte(sample)) {
			toks = append(toks, string(r))
		}
		if got := string(decodeChain(d, toks)); got != sample {
			t.Errorf("got %q", got)
		}
	}

	// A Llama-2 style chain.
	llama := `{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},` +
		`{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}`
	dd, err := newDecoder(json.RawMessage(llama))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(decodeChain(dd, []string{"▁Hello", "▁world", "<0x21>", "<0xE5>", "<0x8f>", "<0xab>"})); got != "Hello world!叫" {
		t.Errorf("llama chain: %q", got)
	}
	if got := string(decodeChain(nil, []string{"a", "b"})); got != "ab" {
		t.Errorf("nil decoder: %q", got)
	}
	if got := string(decodeChain(dd, nil)); got != "" {
		t.Errorf("no tokens: %q", got)
	}
}

func TestHFPostProcessors(t *testing.T) {
	vocab := map[string]uint32{"<s>": 1, "</s>": 2}
	tokenID := func(s string) (uint32, bool) { id, ok := vocab[s]; return id, ok }
	tests := []struct {
		cfg            string
		prefix, suffix []uint32
	}{
		{`{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<|begin_of_text|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],` +
			`"pair":[{"SpecialToken":{"id":"<|begin_of_text|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"<|begin_of_text|>","type_id":1}},{"Sequence":{"id":"B","type_id":1}}],` +
			`"special_tokens":{"<|begin_of_text|>":{"id":"<|begin_of_text|>","ids":[128000],"tokens":["<|begin_of_text|>"]}}}`, []uint32{128000}, nil},
		{`{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],` +
			`"special_tokens":{"[CLS]":{"id":"[CLS]","ids":[101],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[102],"tokens":["[SEP]"]}}}`, []uint32{101}, []uint32{102}},
		{`{"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],` +
			`"special_tokens":{"</s>":{"id":"</s>","tokens":["</s>"]}}}`, nil, []uint32{2}},
		{`{"type":"BertProcessing","sep":["[SEP]",102],"cls":["[CLS]",101]}`, []uint32{101}, []uint32{102}},
		{`{"type":"RobertaProcessing","sep":["</s>",2],"cls":["<s>",0],"trim_offsets":true,"add_prefix_space":true}`, []uint32{0}, []uint32{2}},
		{`{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true}`, nil, nil},
		{`{"type":"Sequence","processors":[{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true},` +
			`{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}},` +
			`{"type":"BertProcessing","sep":["</s>",2],"cls":["<s>",1]}]}`, []uint32{1, 1}, []uint32{2}},
	}
	for _, tt := range tests {
		p, err := newPostProcessor(json.RawMessage(tt.cfg), tokenID)
		if err != nil {
			t.Fatalf("%s: %v", tt.cfg, err)
		}
		pre, suf := templateAdds(p)
		if len(pre)+len(tt.prefix) > 0 && !reflect.DeepEqual(pre, tt.prefix) || len(suf)+len(tt.suffix) > 0 && !reflect.DeepEqual(suf, tt.suffix) {
			t.Errorf("%s: adds %v %v, want %v %v", tt.cfg, pre, suf, tt.prefix, tt.suffix)
		}
		want := append(append(append([]uint32{}, tt.prefix...), 7, 8), tt.suffix...)
		if got := p.process([]uint32{7, 8}); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: process = %v, want %v", tt.cfg, got, want)
		}
	}
	if p, err := newPostProcessor(json.RawMessage(`null`), tokenID); p != nil || err != nil {
		t.Errorf("null: %v %v", p, err)
	}
	if pre, suf := templateAdds(nil); pre != nil || suf != nil {
		t.Errorf("nil adds %v %v", pre, suf)
	}
	for _, bad := range []string{
		`{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<x>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{}}`,
		`{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<x>","type_id":0}}],"special_tokens":{"<x>":{"id":"<x>","ids":[5],"tokens":["<x>"]}}}`,
		`{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<x>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{"<x>":{"id":"<x>","tokens":["<x>"]}}}`,
		`{"type":"BertProcessing","sep":["[SEP]"],"cls":["[CLS]",101]}`,
	} {
		if _, err := newPostProcessor(json.RawMessage(bad), tokenID); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// TestHFComponentsNoPanic feeds awkward inputs (invalid UTF-8, empty, lone marks) through every
// component kind.
func TestHFComponentsNoPanic(t *testing.T) {
	inputs := []string{"", " ", "\xff", "\xe2\x82", "▁", "\u0301", "a\x00b", strings.Repeat("ab ", 50) + "\xf0\x9f"}
	pts := []string{
		`{"type":"ByteLevel","add_prefix_space":true}`,
		`{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}`,
		`{"type":"Whitespace"}`, `{"type":"WhitespaceSplit"}`, `{"type":"Punctuation"}`,
		`{"type":"Digits","individual_digits":true}`,
		`{"type":"Split","pattern":{"Regex":"\\s*"},"behavior":"MergedWithNext","invert":true}`,
	}
	norms := []string{`{"type":"NFKC"}`, `{"type":"Lowercase"}`, `{"type":"StripAccents"}`, `{"type":"Strip","strip_left":true,"strip_right":true}`,
		`{"type":"Replace","pattern":{"Regex":"x*"},"content":"-"}`}
	decs := []string{`{"type":"ByteLevel"}`, `{"type":"ByteFallback"}`, `{"type":"Strip","content":"a","start":5,"stop":5}`,
		`{"type":"Metaspace","replacement":"▁"}`, `{"type":"BPEDecoder"}`}
	for _, in := range inputs {
		for _, c := range pts {
			for _, first := range []bool{true, false} {
				for _, p := range mustPreTokenizer(t, c).preTokenize(nil, in, first) {
					if p == "" {
						t.Errorf("%s on %q: empty piece", c, in)
					}
				}
			}
		}
		for _, c := range norms {
			n, err := newNormalizer(json.RawMessage(c))
			if err != nil {
				t.Fatal(err)
			}
			n.normalize(in)
		}
		for _, c := range decs {
			decodeWith(t, c, in, in)
		}
	}
	// Replace with an empty-matching regex inserts at every permitted position.
	n, _ := newNormalizer(json.RawMessage(`{"type":"Replace","pattern":{"Regex":"x*"},"content":"-"}`))
	if got := n.normalize("axxb"); got != "-a-b-" {
		t.Errorf("empty-match replace: %q", got)
	}
}
