package job

import (
	"reflect"
	"strings"
	"testing"
)

func TestSpec_CanonicalJSON(t *testing.T) {
	s, err := Parse([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"example","inputs":[{"path":"corpus/*.jsonl.zst","format":"auto","text_field":"text"}],` +
		`"tokenizer":"cl100k_base","sequence_lengths":[512,1024,2048],"val_fraction":0.01,"seed":0,` +
		`"shard_size":67108864,"eos":true,"bos":false,"remainder":"drop","max_reject_fraction":0.01,` +
		`"output":{"dir":"data/packed","formats":["hf","npy"],"dtype":"int64","layout":"curriculum"}}`
	if string(got) != want {
		t.Fatalf("CanonicalJSON =\n%s\nwant\n%s", got, want)
	}
	// max_record_bytes is written only when it is not the default.
	s.MaxRecordBytes = 1 << 10
	got, err = s.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want = strings.Replace(want, `"shard_size":67108864,`, `"shard_size":67108864,"max_record_bytes":1024,`, 1)
	if string(got) != want {
		t.Fatalf("CanonicalJSON with max_record_bytes =\n%s\nwant\n%s", got, want)
	}
}

func TestSpec_CanonicalJSONRoundTrip(t *testing.T) {
	variants := []string{
		exampleYAML,
		specWith(map[string]string{"remainder": "pad", "pad_id": "3", "val_fraction": "1e-7", "seed": "18446744073709551615"}),
		specWith(map[string]string{"shard_size": "1.5GiB", "output": "{dtype: auto, layout: seed, overwrite: true}", "sequence_lengths": "[8192]"}),
		specWith(map[string]string{"max_record_bytes": "1KiB"}),
	}
	for i, y := range variants {
		s, err := Parse([]byte(y))
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		b, err := s.CanonicalJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(b)
		if err != nil {
			t.Fatalf("%d: Parse(canonical): %v\n%s", i, err, b)
		}
		s.Output.Overwrite = false // not part of the canonical form
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("%d: round trip\n%+v\n%+v", i, back, s)
		}
		b2, _ := back.CanonicalJSON()
		if string(b2) != string(b) {
			t.Fatalf("%d: canonical form not stable", i)
		}
	}
}

func TestSpec_FingerprintIgnoresSpelling(t *testing.T) {
	a, err := Parse([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse([]byte(strings.Replace(exampleYAML, "shard_size: 64MiB", "shard_size: 67108864", 1)))
	if err != nil {
		t.Fatal(err)
	}
	fa, _ := a.Fingerprint()
	fb, _ := b.Fingerprint()
	if fa != fb || len(fa) != 64 {
		t.Fatalf("fingerprints %s %s", fa, fb)
	}
	b.Seed = 1
	if fc, _ := b.Fingerprint(); fc == fa {
		t.Fatal("fingerprint ignores seed")
	}
}

func TestSpec_CloneIsDeep(t *testing.T) {
	s, _ := Parse([]byte(specWith(map[string]string{"remainder": "pad", "pad_id": "3"})))
	c := s.Clone()
	c.Inputs[0].Path, c.SequenceLengths[0], c.Output.Formats[0], *c.PadID = "z", 1, "npy", 9
	if s.Inputs[0].Path == "z" || s.SequenceLengths[0] == 1 || s.Output.Formats[0] == "npy" || *s.PadID == 9 {
		t.Fatal("Clone shares memory")
	}
}
