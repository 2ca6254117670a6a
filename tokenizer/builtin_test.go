package tokenizer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var updateVocab = flag.Bool("update", false,
	"TestBuiltinVocab: rewrite assets/*.vocab from testdata/vocab")

// builtinSHA256 is the SHA-256 of each canonical rank file, as Tokenizer.SHA256 has always
// reported it: output manifests identify the vocabulary by it, so it must never change.
var builtinSHA256 = map[string]string{
	"r50k_base":   "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
	"p50k_base":   "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069",
	"cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
	"o200k_base":  "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}

// readCanonicalRanks returns the canonical (OpenAI) rank file of a built-in vocabulary, kept
// gzip'd in testdata/vocab: the source of assets/<name>.vocab.
func readCanonicalRanks(tb testing.TB, name string) []byte {
	tb.Helper()
	gz, err := os.ReadFile(filepath.Join("testdata", "vocab", name+".tiktoken.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		tb.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// encodeVocab writes tokens (by id, "" for holes) in the vocab format of decodeVocab.
func encodeVocab(tokens tokenList, sum [32]byte) ([]byte, error) {
	n := tokens.len()
	if uint64(n) > 1<<32-1 {
		return nil, fmt.Errorf("%d tokens do not fit the vocab format", n)
	}
	out := append([]byte(vocabMagic), sum[:]...)
	out = binary.LittleEndian.AppendUint32(out, uint32(n))
	for id := range uint32(n) {
		t := tokens.at(id)
		if len(t) > 255 {
			return nil, fmt.Errorf("token %d is %d bytes; the vocab format holds up to 255", id, len(t))
		}
		out = append(out, byte(len(t)))
	}
	for id := range uint32(n) {
		out = append(out, tokens.at(id)...)
	}
	return out, nil
}

// tokenStrings returns the tokens of l by id.
func tokenStrings(l tokenList) []string {
	out := make([]string, l.len())
	for id := range out {
		out[id] = l.at(uint32(id))
	}
	return out
}

// renderRanks writes tokens back as a tiktoken rank file, in the layout of OpenAI's files.
func renderRanks(tokens []string) []byte {
	var out []byte
	for id, t := range tokens {
		if t == "" {
			continue
		}
		out = base64.StdEncoding.AppendEncode(out, []byte(t))
		out = append(out, ' ')
		out = strconv.AppendInt(out, int64(id), 10)
		out = append(out, '\n')
	}
	return out
}

// TestBuiltinVocab checks that each embedded vocabulary is exactly what the canonical rank file
// gives, SHA-256 included, and that it reproduces that file byte for byte. With -update it
// rewrites the embedded vocabularies instead (run the test again afterwards: they are compiled
// in).
func TestBuiltinVocab(t *testing.T) {
	for name, wantSum := range builtinSHA256 {
		t.Run(name, func(t *testing.T) {
			canon := readCanonicalRanks(t, name)
			sum := sha256.Sum256(canon)
			if got := hex.EncodeToString(sum[:]); got != wantSum {
				t.Fatalf("testdata/vocab/%s.tiktoken.gz: SHA-256 %s, want %s", name, got, wantSum)
			}
			tokens, err := parseRanks(canon)
			if err != nil {
				t.Fatal(err)
			}
			want, err := encodeVocab(tokens, sum)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("assets", name+".vocab")
			if *updateVocab {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s (%d bytes)", path, len(want))
				return
			}
			got, ok := builtinVocab(name)
			if !ok || got != string(want) {
				t.Fatalf("%s is stale: run go test ./tokenizer -run TestBuiltinVocab -update", path)
			}
			dec, decSum, err := decodeVocab(got)
			if err != nil {
				t.Fatal(err)
			}
			if decSum != sum || !slices.Equal(tokenStrings(dec), tokenStrings(tokens)) {
				t.Fatalf("%s does not decode to the rank file's tokens and SHA-256", path)
			}
			if !bytes.Equal(renderRanks(tokenStrings(dec)), canon) {
				t.Fatalf("%s does not reproduce the rank file", path)
			}
		})
	}
}

// TestBuiltinSHA256: every built-in name reports the SHA-256 of its canonical rank file.
func TestBuiltinSHA256(t *testing.T) {
	for _, name := range BuiltinNames() {
		tk, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if want := builtinSHA256[builtinNames[name].ranks]; tk.SHA256() != want {
			t.Errorf("%s: SHA256() = %s, want %s", name, tk.SHA256(), want)
		}
	}
}

// TestDecodeVocabCorrupt: a damaged vocab is an error, not a panic or a wrong vocabulary.
func TestDecodeVocabCorrupt(t *testing.T) {
	want := []string{"a", "", "bc"}
	good, err := encodeVocab(newTokenList(want), [32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	tokens, _, err := decodeVocab(string(good))
	if err != nil || !slices.Equal(tokenStrings(tokens), want) {
		t.Fatalf("decodeVocab(good) = %q, %v", tokenStrings(tokens), err)
	}
	for i := range len(good) {
		if _, _, err := decodeVocab(string(good[:i])); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
	if _, _, err := decodeVocab(string(good) + "x"); err == nil {
		t.Error("trailing byte: no error")
	}
}

// parseRanksSimple is the obvious parser, a token allocated per line: the reference for
// parseRanks.
func parseRanksSimple(data []byte) ([]string, error) {
	var tokens []string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		b64, num, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("line %d: no space", i+1)
		}
		tok, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, err
		}
		rank, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return nil, err
		}
		for uint64(len(tokens)) <= rank {
			tokens = append(tokens, "")
		}
		if tokens[rank] != "" {
			return nil, fmt.Errorf("line %d: rank %d given twice", i+1, rank)
		}
		tokens[rank] = string(tok)
	}
	return tokens, nil
}

// TestParseRanks: parseRanks reads what the simple parser reads, and fails where it fails.
func TestParseRanks(t *testing.T) {
	for _, in := range []string{
		"",
		"YQ== 0\nYg== 1\n",
		"YQ== 0\r\nYg== 1\r\n\r\n",
		"Yg== 1\nYQ== 0",   // out of order, no final newline
		"YQ== 0\nYw== 3\n", // holes
		" 0\nYQ== 0\n",     // an empty token, then its rank again
		"YQ== 0\nYg== 0\n", // a rank twice
		"YQ== 0\nYQ== 1\n", // a token twice
		"YQ==\n",
		"!!!! 0\n",
		"YQ== x\n",
		"YQ== 4294967296\n",
	} {
		want, wantErr := parseRanksSimple([]byte(in))
		got, err := parseRanks([]byte(in))
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%q: error %v, want %v", in, err, wantErr)
			continue
		}
		if err == nil && !slices.Equal(tokenStrings(got), want) {
			t.Errorf("%q: tokens %q, want %q", in, tokenStrings(got), want)
		}
	}
}

// TestLoadTiktokenFile: a rank file on disk loads as the built-in made from it does.
func TestLoadTiktokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.tiktoken")
	if err := os.WriteFile(path, readCanonicalRanks(t, "cl100k_base"), 0o644); err != nil {
		t.Fatal(err)
	}
	file, err := Load(path + ":cl100k_base")
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := Load("cl100k_base")
	if err != nil {
		t.Fatal(err)
	}
	if file.SHA256() != builtin.SHA256() || file.VocabSize() != builtin.VocabSize() {
		t.Errorf("file: SHA-256 %s, %d ids; built-in: %s, %d ids",
			file.SHA256(), file.VocabSize(), builtin.SHA256(), builtin.VocabSize())
	}
	for _, g := range readGolden(t, "cl100k_base.jsonl") {
		if got := file.Encode(g.Text); !slices.Equal(got, g.IDs) {
			t.Fatalf("%s: got %v, want %v", clip(g.Text), head(got), head(g.IDs))
		}
	}
}

// TestBuiltinCuts: the embedded tables of cuts are what building them from the built-in
// vocabularies gives, and decode to it. With -update it writes them.
func TestBuiltinCuts(t *testing.T) {
	for _, name := range []string{"cl100k_base", "o200k_base", "o200k_harmony"} {
		t.Run(name, func(t *testing.T) {
			tk := loadTest(t, name)
			ranks := builtinNames[name].ranks
			want := encodeCuts(newBoundaryTable(tk.model.tokens, false, false))
			path := filepath.Join("assets", ranks+".cuts")
			if *updateVocab && name == ranks {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s (%d bytes)", path, len(want))
				return
			}
			got := builtinCuts(ranks)
			if got != string(want) || tk.model.split.embedded != got {
				t.Fatalf("%s is stale or not used: run go test ./tokenizer -run TestBuiltinCuts -update", path)
			}
			bt, err := decodeCuts(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(encodeCuts(bt)) != got {
				t.Fatalf("%s does not decode to its table", path)
			}
		})
	}
	if _, err := decodeCuts(cutsMagic + "\x03\x00\x00\x00"); err == nil {
		t.Fatal("a truncated cuts file was accepted")
	}
}
