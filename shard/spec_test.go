package shard

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tokenmill/tokenmill/job"
)

// Specs travel to workers as JSON: the encoding (the field names) is part of the seam, and a
// spec survives a round trip.
func TestSpec_JSON(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"byte range", Spec{ID: "000001", Index: 1, Job: "j", Path: "a.jsonl", Format: job.FormatJSONL,
			TextField: "text", FileSize: 9, Kind: KindBytes, ByteStart: 3, ByteEnd: 9},
			`{"id":"000001","index":1,"job":"j","path":"a.jsonl","format":"jsonl","text_field":"text","file_size":9,"kind":"bytes","byte_start":3,"byte_end":9}`},
		{"row groups", Spec{ID: "000003", Index: 3, Job: "j", Path: "p.parquet", Format: job.FormatParquet,
			TextField: "text", FileSize: 90, Kind: KindRowGroups, RowGroupStart: 2, RowGroupEnd: 4, RowGroupBytes: 40,
			DigestStart: 10, DigestEnd: 50, StartRow: 7},
			`{"id":"000003","index":3,"job":"j","path":"p.parquet","format":"parquet","text_field":"text","file_size":90,"kind":"row_groups","row_group_start":2,"row_group_end":4,"row_group_bytes":40,"digest_start":10,"digest_end":50,"start_row":7}`},
		{"files", Spec{ID: "000002", Index: 2, Job: "j", Path: "a.txt", Format: job.FormatText, FileSize: 3, Kind: KindFiles,
			Files: []Input{{Path: "a.txt", Format: job.FormatText, Size: 3}, {Path: "b.gz", Format: job.FormatJSONL,
				Compression: CompressionGzip, TextField: "text", Size: 5, Entry: 1,
				RowGroups: []RowGroup{{Rows: 2, Bytes: 4, Offset: 4}}}}},
			`{"id":"000002","index":2,"job":"j","path":"a.txt","format":"text","text_field":"","file_size":3,"kind":"files","files":[{"path":"a.txt","entry":0,"format":"text","size":3,"text_field":""},{"path":"b.gz","entry":1,"format":"jsonl","compression":"gzip","size":5,"text_field":"text","row_groups":[{"rows":2,"bytes":4,"offset":4}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("encoding\n got %s\nwant %s", b, tt.want)
			}
			var back Spec
			if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, tt.spec) {
				t.Fatalf("round trip %s -> %+v, %v", b, back, err)
			}
		})
	}
}

func TestSpec_Parts(t *testing.T) {
	files := []Input{{Path: "a.txt", Format: job.FormatText, Size: 3},
		{Path: "b.jsonl", Format: job.FormatJSONL, Size: 5, TextField: "body", Entry: 1},
		{Path: "c.jsonl.gz", Format: job.FormatJSONL, Compression: CompressionGzip, Size: 7, TextField: "text"}}
	group := WholeFile(files[0])
	group.ID, group.Index, group.Job, group.Kind, group.Files = "000004", 4, "j", KindFiles, files
	want := []Spec{
		{ID: "000004", Index: 4, Job: "j", Path: "a.txt", Format: job.FormatText, FileSize: 3, Kind: KindFile},
		{ID: "000004", Index: 4, Job: "j", Path: "b.jsonl", Format: job.FormatJSONL, TextField: "body", FileSize: 5,
			Kind: KindFile, StartLine: 1},
		{ID: "000004", Index: 4, Job: "j", Path: "c.jsonl.gz", Format: job.FormatJSONL, Compression: CompressionGzip,
			TextField: "text", FileSize: 7, Kind: KindFile, StartLine: 1},
	}
	if got := group.Parts(); !reflect.DeepEqual(got, want) {
		t.Errorf("Parts of a files shard:\n got %+v\nwant %+v", got, want)
	}
	r := Spec{ID: "000001", Kind: KindBytes, Path: "b.jsonl", ByteStart: 2, ByteEnd: 5}
	if got := r.Parts(); !reflect.DeepEqual(got, []Spec{r}) {
		t.Errorf("Parts of a byte range = %+v, want the spec itself", got)
	}
}
