package tokenizer

import (
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// cacheTestTexts are the texts the cached and uncached tokenizers must encode alike: the golden
// texts and the committed multilingual sample.
func cacheTestTexts(t *testing.T) []string {
	texts := goldenTexts(t)
	for _, d := range readMLDocs(t, filepath.Join("testdata", "multilingual-sample.jsonl.gz")) {
		texts = append(texts, d.Text)
	}
	return texts
}

// sameTokenizer fails unless got was built into the same tables as want and encodes and
// decodes texts alike.
func sameTokenizer(t *testing.T, want, got *Tokenizer, texts []string) {
	t.Helper()
	wm, gm := want.model, got.model
	if got.name != want.name || got.sha256 != want.sha256 || got.vocabSize != want.vocabSize ||
		got.eos != want.eos || got.bos != want.bos || got.pattern != want.pattern {
		t.Fatalf("tokenizer fields differ: got %s %s %d %d %d, want %s %s %d %d %d", got.name, got.sha256,
			got.vocabSize, got.eos, got.bos, want.name, want.sha256, want.vocabSize, want.eos, want.bos)
	}
	if gm.tokens.data != wm.tokens.data || !slices.Equal(gm.tokens.off, wm.tokens.off) ||
		!reflect.DeepEqual(gm.vocab, wm.vocab) || gm.byteIDs != wm.byteIDs || gm.hasByte != wm.hasByte ||
		gm.byteTokens != wm.byteTokens || gm.unk != wm.unk || gm.inertBytes != wm.inertBytes ||
		gm.byteLevel != wm.byteLevel || gm.byteFallback != wm.byteFallback || gm.contPrefix != wm.contPrefix {
		t.Fatal("the models' vocabularies or options differ")
	}
	if !slices.Equal(got.hf.spelled, want.hf.spelled) {
		t.Fatal("the spelled tokens differ")
	}
	if gm.ordered != wm.ordered || !slices.Equal(gm.mergeFrom, wm.mergeFrom) || !slices.Equal(gm.mergeLeft, wm.mergeLeft) {
		t.Fatal("the ordered merges differ")
	}
	switch {
	case (gm.pairs == nil) != (wm.pairs == nil):
		t.Fatalf("pair tables: got %v, want %v", gm.pairs != nil, wm.pairs != nil)
	case wm.pairs == nil && !wm.ordered:
		t.Fatal("a model with neither a pair table nor ordered merges")
	case wm.pairs != nil:
		if gm.pairs.count != wm.pairs.count {
			t.Fatalf("pair tables hold %d and %d merges", gm.pairs.count, wm.pairs.count)
		}
		for _, s := range wm.pairs.slots {
			if s.key != 0 {
				l, r := uint32((s.key-1)>>32), uint32(s.key-1)
				if g := gm.pairs.get(l, r); g != s.val {
					t.Fatalf("merge (%d, %d): got %x, want %x", l, r, g, s.val)
				}
			}
		}
	}
	for _, text := range texts {
		for _, opts := range []Options{{}, {AllowSpecial: true, AddSpecialTokens: true}} {
			w, g := want.Append(nil, text, opts), got.Append(nil, text, opts)
			if !slices.Equal(w, g) {
				t.Fatalf("ids of %.40q differ (%+v)", text, opts)
			}
			wd, werr := want.Decode(w)
			gd, gerr := got.Decode(g)
			if string(wd) != string(gd) || (werr == nil) != (gerr == nil) {
				t.Fatalf("decode of %.40q differs", text)
			}
		}
	}
}

// loadUncached builds the tokenizer of path without a cache: the reference.
func loadUncached(t *testing.T, path string) *Tokenizer {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := parseHF(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	tk.name = "x"
	return tk
}

// cacheFile is the one cache file in dir.
func cacheFile(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "tokenmill", "hf-*"))
	if err != nil || len(files) != 1 {
		t.Fatalf("cache files in %s: %v %v", dir, files, err)
	}
	return files[0]
}

// checkCacheValid fails unless the cache in dir holds a valid file for the tokenizer.json at
// path.
func checkCacheValid(t *testing.T, dir, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(cacheFile(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := decodeHFCache(data, sha256.Sum256(raw)); err != nil {
		t.Fatalf("cache file after the load: %v", err)
	}
}

func TestHFCache_LoadsAlike(t *testing.T) {
	texts := cacheTestTexts(t)
	// damage changes the cache file written by a first load; the next load must still build
	// the same tokenizer, and leave a valid cache file when the directory is writable.
	cases := []struct {
		name   string
		damage func(t *testing.T, file string)
	}{
		{"cached", func(*testing.T, string) {}},
		{"payload byte flipped", func(t *testing.T, file string) {
			editFile(t, file, func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b })
		}},
		{"truncated", func(t *testing.T, file string) {
			editFile(t, file, func(b []byte) []byte { return b[:len(b)/3] })
		}},
		{"truncated to the header", func(t *testing.T, file string) {
			editFile(t, file, func(b []byte) []byte { return b[:hfCacheHeader] })
		}},
		{"empty", func(t *testing.T, file string) {
			editFile(t, file, func(b []byte) []byte { return nil })
		}},
		{"other format version", func(t *testing.T, file string) {
			editFile(t, file, func(b []byte) []byte {
				binary.LittleEndian.PutUint32(b[8:], hfCacheVersion+1)
				return b
			})
		}},
		{"checksum still right, merge id out of range", func(t *testing.T, file string) {
			editFile(t, file, func(b []byte) []byte {
				// The last merge id, before the lengths of the cuts and of the bitset of
				// tokens that merge back to themselves (none: mistral-v0.3 is
				// character-level).
				if binary.LittleEndian.Uint64(b[len(b)-8:]) != 0 {
					t.Fatal("the cache file ends with cuts")
				}
				binary.LittleEndian.PutUint32(b[len(b)-12:], 1<<31)
				binary.LittleEndian.PutUint32(b[56:], crc32Of(b[hfCacheHeader:]))
				return b
			})
		}},
		{"checksum still right, lengths overrun", func(t *testing.T, file string) {
			editFile(t, file, func(b []byte) []byte {
				binary.LittleEndian.PutUint32(b[hfCacheHeader:], 1<<30)
				binary.LittleEndian.PutUint32(b[56:], crc32Of(b[hfCacheHeader:]))
				return b
			})
		}},
	}
	// Every case on mistral-v0.3 (character-level, byte fallback, an unknown token); the first
	// two on llama3 (byte-level, 280,000 merges).
	for _, name := range []string{"mistral-v0.3", "llama3"} {
		path := decompressTestJSON(t, name)
		want := loadUncached(t, path)
		want.name = name + ".tokenizer"
		for i, c := range cases {
			if name == "llama3" && i >= 2 {
				break
			}
			t.Run(name+"/"+c.name, func(t *testing.T) {
				dir := t.TempDir()
				t.Setenv("XDG_CACHE_HOME", dir)
				first, err := Load(path)
				if err != nil {
					t.Fatal(err)
				}
				sameTokenizer(t, want, first, texts[:20])
				file := cacheFile(t, dir)
				c.damage(t, file)
				got, err := Load(path)
				if err != nil {
					t.Fatal(err)
				}
				sameTokenizer(t, want, got, texts)
				checkCacheValid(t, dir, path)
				// A byte-level model's table of cuts comes with it, the table it would build.
				if wantCuts := want.model.split != nil && want.model.byteLevel; wantCuts {
					built := string(encodeCuts(newBoundaryTable(want.model.tokens, false, false)))
					if got.model.split.embedded != built {
						t.Fatalf("cuts of the load: %d bytes, want the %d bytes of the built table", len(got.model.split.embedded), len(built))
					}
					// And so does the set of tokens that merge back to themselves.
					if self := want.model.selfMerging(); !slices.Equal(got.model.split.selfMerges, self) {
						t.Fatalf("tokens that merge back to themselves: %d words, want %d", len(got.model.split.selfMerges), len(self))
					}
				}
			})
		}
	}
}

func editFile(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

func crc32Of(b []byte) uint32 { return crc32Checksum(b) }

// TestHFCache_Used: a cache file with a valid header for a file's bytes is what the load
// builds from (here one made from another file's vocabulary, so that it shows).
func TestHFCache_Used(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	path := decompressTestJSON(t, "mistral-v0.3")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	other := removeLastMerge(t, raw)
	var f hfFile
	rest, vocab, merges, ok := splitModel(other)
	if !ok {
		t.Fatal("splitModel failed")
	}
	f.Model.VocabRaw, f.Model.Merges = vocab, merges
	if f.Model.Vocab, err = parseVocab(vocab); err != nil {
		t.Fatal(err)
	}
	v, err := newHFVocab(&f.Model)
	if err != nil {
		t.Fatal(err)
	}
	c := &hfCache{dir: filepath.Join(dir, "tokenmill")}
	sum := sha256.Sum256(raw)
	if err := c.write(sum, encodeHFCache(sum, rest, v)); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	full := loadUncached(t, path)
	if got.model.pairs.count != full.model.pairs.count-1 {
		t.Fatalf("loaded %d merges; the cache holds %d, the file %d", got.model.pairs.count,
			full.model.pairs.count-1, full.model.pairs.count)
	}
}

// TestHFCache_SourceChanged: a tokenizer.json that changes after its first load is loaded
// from its new bytes, even when the cache file under its new name holds another file's.
func TestHFCache_SourceChanged(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	src := decompressTestJSON(t, "mistral-v0.3")
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	old := cacheFile(t, dir)
	// The new file: one merge fewer (the last), a different tokenizer.
	changed := removeLastMerge(t, raw)
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	// The old file's cache, placed under the new file's name.
	sum := sha256.Sum256(changed)
	if err := os.Rename(old, (&hfCache{dir: filepath.Join(dir, "tokenmill")}).path(sum)); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := loadUncached(t, path)
	want.name = got.name
	if want.model.pairs.count == loadUncached(t, src).model.pairs.count {
		t.Fatal("the changed file has as many merges as the original")
	}
	sameTokenizer(t, want, got, cacheTestTexts(t)[:50])
	checkCacheValid(t, dir, path)
}

// removeLastMerge drops the last entry of the model's merges from a tokenizer.json.
func removeLastMerge(t *testing.T, raw []byte) []byte {
	t.Helper()
	_, _, merges, ok := splitModel(raw)
	if !ok {
		t.Fatal("splitModel failed")
	}
	end := cap(raw) - cap(merges) + len(merges) // merges' end within raw
	// merges ends with `...,"x y"]` or `...,["x","y"]]`: cut from the last top-level comma.
	depth, cut := 0, -1
	for i := end - 2; i > 0; i-- {
		switch raw[i] {
		case ']':
			depth++
		case '[':
			depth--
		case ',':
			if depth == 0 {
				cut = i
			}
		}
		if cut >= 0 {
			break
		}
	}
	if cut < 0 {
		t.Fatal("no merge to remove")
	}
	return append(append([]byte{}, raw[:cut]...), raw[end-1:]...)
}

// TestHFCache_Unwritable: with a cache directory that cannot be made, loading works as without
// a cache, every time.
func TestHFCache_Unwritable(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", filepath.Join(file, "cache"))
	path := decompressTestJSON(t, "mistral-v0.3")
	want := loadUncached(t, path)
	texts := cacheTestTexts(t)
	for range 2 {
		got, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		want.name = got.name
		sameTokenizer(t, want, got, texts)
	}
}
