package tokenizer

import (
	"reflect"
	"strings"
	"testing"
)

const cl100kPatternForTest = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// pieces returns the matched substrings and checks that they tile s when tile is set.
func regexPieces(t *testing.T, m matcher, s string, tile bool) []string {
	t.Helper()
	var out []string
	prev := 0
	for _, sp := range m.appendMatches(nil, s) {
		if sp.start < prev || sp.end <= sp.start || sp.end > len(s) {
			t.Fatalf("bad span %v (prev end %d, len %d)", sp, prev, len(s))
		}
		if tile && sp.start != prev {
			t.Fatalf("%q: gap before %v", s, sp)
		}
		out = append(out, s[sp.start:sp.end])
		prev = sp.end
	}
	if tile && prev != len(s) {
		t.Fatalf("%q: matches end at %d", s, prev)
	}
	return out
}

// TestRegexCl100k checks the general engine on the cl100k pattern; the expectations follow the
// leftmost-first alternation with backtracking that fancy-regex implements.
func TestRegexCl100k(t *testing.T) {
	m, err := newRegexp2Matcher(cl100kPatternForTest)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want []string
	}{
		// \s*[\r\n]+ backtracks to end at the last newline; the space before x joins x.
		{"Hello world  \n\n x", []string{"Hello", " world", "  \n\n", " x"}},
		// \s+(?!\S) gives back one space so that the next word keeps its leading space.
		{"I'm  fine", []string{"I", "'m", " ", " fine"}},
		{"HELLO'S", []string{"HELLO", "'S"}},
		{"abc123456 7", []string{"abc", "123", "456", " ", "7"}},
		{"x!!\n\ny", []string{"x", "!!\n\n", "y"}},
		{"héllo wörld", []string{"héllo", " wörld"}},
		{"€100", []string{"€", "100"}},
		{"日本語のテキスト", []string{"日本語のテキスト"}},
		{"  ", []string{"  "}},
		{"a\n", []string{"a", "\n"}},
		{"\"quoted\"", []string{"\"quoted", "\""}},
		// Invalid bytes are single characters of the class "other" (as U+FFFD would be).
		{"a\xffb", []string{"a", "\xffb"}},
		{"\xe2\x82x", []string{"\xe2\x82", "x"}},
		{"\xff\xfe 1", []string{"\xff\xfe", " ", "1"}},
	}
	for _, tt := range tests {
		if got := regexPieces(t, m, tt.in, true); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRegexGPT2 ports byte_level.rs's pre_tokenization, handling_of_newlines and
// handling_of_multiple_whitespaces expectations (without the byte alphabet).
func TestRegexGPT2(t *testing.T) {
	m, err := newRegexp2Matcher(gpt2Pattern)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want []string
	}{
		{"Hello my friend, how is your day going?", []string{"Hello", " my", " friend", ",", " how", " is", " your", " day", " going", "?"}},
		{"Hello there\nHello there", []string{"Hello", " there", "\n", "Hello", " there"}},
		{"Hello there       dear", []string{"Hello", " there", "      ", " dear"}},
		{"i⭢j", []string{"i", "⭢", "j"}},
		{"it's 2024!", []string{"it", "'s", " 2024", "!"}},
	}
	for _, tt := range tests {
		if got := regexPieces(t, m, tt.in, true); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRegexOffsetsNonASCII(t *testing.T) {
	m, err := newRegexp2Matcher(`\p{L}+`)
	if err != nil {
		t.Fatal(err)
	}
	s := "αβ 1 \xff γ𝔸δ\xe2\x82 é"
	got := m.appendMatches(nil, s)
	want := []span{{0, 4}, {9, 17}, {20, 22}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, sp := range got {
		t.Logf("%q", s[sp.start:sp.end])
	}
}

// TestRegexEmptyMatches checks the find_iter rule of Oniguruma/Rust regex: an empty match right
// after a match is skipped; appendMatches drops empty matches altogether.
func TestRegexEmptyMatches(t *testing.T) {
	m, err := newRegexp2Matcher(`x*`)
	if err != nil {
		t.Fatal(err)
	}
	all := m.(allMatcher).appendAllMatches(nil, "axxb")
	if want := []span{{0, 0}, {1, 3}, {4, 4}}; !reflect.DeepEqual(all, want) {
		t.Errorf("all matches: got %v, want %v", all, want)
	}
	if got, want := m.appendMatches(nil, "axxb"), []span{{1, 3}}; !reflect.DeepEqual(got, want) {
		t.Errorf("matches: got %v, want %v", got, want)
	}
	if got := m.appendMatches(nil, ""); len(got) != 0 {
		t.Errorf("empty input: %v", got)
	}
}

func TestRegexSemantics(t *testing.T) {
	tests := []struct {
		pattern, in string
		want        []string
	}{
		// Lookbehind sees the text before the search position.
		{`(?<=a)b`, "abab", []string{"b", "b"}},
		// Oniguruma's \w includes every Number (² is No), marks and connector punctuation.
		{`\w+`, "a_1² b\u0301", []string{"a_1²", "b\u0301"}},
		{`\W+`, "a, b", []string{", "}},
		{`[\w]+`, "x²-y", []string{"x²", "y"}},
		// \s is the Unicode White_Space property (NBSP, ideographic space, NEL).
		{`\s+`, "a\u00a0\u3000b\u0085c", []string{"\u00a0\u3000", "\u0085"}},
		// \d is \p{Nd}: Arabic-Indic digits yes, superscripts no.
		{`\d+`, "٣٤²5", []string{"٣٤", "5"}},
		{`\x{41}\x{1F600}`, "A😀", []string{"A😀"}},
		{`[\]a]+`, "]a]b", []string{"]a]"}},
	}
	for _, tt := range tests {
		m, err := newRegexp2Matcher(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		if got := regexPieces(t, m, tt.in, false); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s on %q: got %q, want %q", tt.pattern, tt.in, got, tt.want)
		}
	}
	if _, err := newRegexp2Matcher(`(`); err == nil {
		t.Error("bad pattern compiled")
	}
}

func TestRegexBigInput(t *testing.T) {
	m, err := compileRegex(gpt2Pattern)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Repeat("héllo wörld 123 \xff!", 1<<15) // ~700 KB
	got := m.appendMatches(nil, s)
	if len(got) != 4<<15 {
		t.Fatalf("got %d matches", len(got))
	}
	if last := got[len(got)-1]; last.end != len(s) {
		t.Fatalf("last match %v, len %d", last, len(s))
	}
}

func TestRegexStringMatcher(t *testing.T) {
	m := newStringMatcher("ab")
	if got, want := m.appendMatches(nil, "abababxab"), []span{{0, 2}, {2, 4}, {4, 6}, {7, 9}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := newStringMatcher("aa").appendMatches(nil, "aaa"); !reflect.DeepEqual(got, []span{{0, 2}}) {
		t.Errorf("overlap: %v", got)
	}
	empty := newStringMatcher("")
	if got := empty.appendMatches(nil, "ab"); len(got) != 0 {
		t.Errorf("empty literal: %v", got)
	}
	if got, want := empty.(allMatcher).appendAllMatches(nil, "a\xffé"), []span{{0, 0}, {1, 1}, {2, 2}, {4, 4}}; !reflect.DeepEqual(got, want) {
		t.Errorf("empty literal, all: got %v, want %v", got, want)
	}
}
