package job

import (
	"encoding/json"
	"testing"
)

func TestByteSize_Parse(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		err  bool
	}{
		{"0", 0, false},
		{"67108864", 64 << 20, false},
		{"64MiB", 64 << 20, false},
		{"64 MiB", 64 << 20, false},
		{"64mib", 64 << 20, false},
		{"1GB", 1e9, false},
		{"1gb", 1e9, false},
		{"1KB", 1000, false},
		{"1KiB", 1024, false},
		{"2TiB", 2 << 40, false},
		{"3TB", 3e12, false},
		{"1.5GiB", 3 << 29, false},
		{"0.5B", 0, false},
		{"100B", 100, false},
		{"", 0, true},
		{"MiB", 0, true},
		{"64M", 0, true},
		{"64XB", 0, true},
		{"-1", 0, true},
		{"-1MiB", 0, true},
		{"1.2.3MB", 0, true},
		{"9223372036854775807", 1<<63 - 1, false},
		{"9223372036854775808", 0, true},
		{"9000000TiB", 0, true},
		{"1e30GB", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestByteSize_StringRoundTrip(t *testing.T) {
	for _, s := range []ByteSize{0, 1, 1000, 1024, 1536, 64 << 20, 3 << 30, 5 << 40, 1e9} {
		str := s.String()
		got, err := ParseByteSize(str)
		if err != nil || got != s {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", str, got, err, s)
		}
	}
	if got := ByteSize(64 << 20).String(); got != "64MiB" {
		t.Errorf("String() = %q, want 64MiB", got)
	}
}

func TestByteSize_JSON(t *testing.T) {
	b, err := json.Marshal(ByteSize(64 << 20))
	if err != nil || string(b) != "67108864" {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	for _, in := range []string{`67108864`, `"64MiB"`} {
		var s ByteSize
		if err := json.Unmarshal([]byte(in), &s); err != nil || s != 64<<20 {
			t.Errorf("Unmarshal(%s) = %d, %v", in, s, err)
		}
	}
	var s ByteSize
	if err := json.Unmarshal([]byte(`"64Q"`), &s); err == nil {
		t.Error("Unmarshal of a bad unit succeeded")
	}
}

func TestDType_Resolve(t *testing.T) {
	tests := []struct {
		d     DType
		maxID uint32
		want  DType
		err   bool
	}{
		{DTypeAuto, 50256, DTypeUint16, false},
		{DTypeAuto, 65535, DTypeUint16, false},
		{DTypeAuto, 65536, DTypeUint32, false},
		{DTypeAuto, 200018, DTypeUint32, false},
		{DTypeUint16, 100276, "", true},
		{DTypeUint16, 65535, DTypeUint16, false},
		{DTypeInt32, 1<<31 - 1, DTypeInt32, false},
		{DTypeInt32, 1 << 31, "", true},
		{DTypeUint32, 1<<32 - 1, DTypeUint32, false},
		{DTypeInt64, 1<<32 - 1, DTypeInt64, false},
		{"float32", 1, "", true},
	}
	for _, tt := range tests {
		got, err := tt.d.Resolve(tt.maxID)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("%s.Resolve(%d) = %q, %v; want %q, error %v", tt.d, tt.maxID, got, err, tt.want, tt.err)
		}
	}
	if DTypeInt64.Size() != 8 || DTypeUint16.Size() != 2 || DTypeAuto.Size() != 0 {
		t.Error("Size() wrong")
	}
}
