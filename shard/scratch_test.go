package shard

import "testing"

func TestScratch_KeepsOnlyBoundedBuffers(t *testing.T) {
	tests := []struct {
		name                       string
		text, rejects, ids         int // capacities
		keepText, keepRej, keepIDs bool
	}{
		{"small", 1 << 10, 1 << 10, 1 << 10, true, true, true},
		{"at the bound", keepBytes, keepBytes, keepBytes / 4, true, true, true},
		{"one huge document", keepBytes + 1, 10, keepBytes/4 + 1, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Scratch
			s.keep(make([]byte, 5, tt.text), make([]byte, 3, tt.rejects), make([]uint32, 7, tt.ids))
			if got := cap(s.text) > 0; got != tt.keepText {
				t.Errorf("text kept: %v, want %v", got, tt.keepText)
			}
			if got := cap(s.rejects) > 0; got != tt.keepRej {
				t.Errorf("rejects kept: %v, want %v", got, tt.keepRej)
			}
			if got := cap(s.ids) > 0; got != tt.keepIDs {
				t.Errorf("ids kept: %v, want %v", got, tt.keepIDs)
			}
			if len(s.text)+len(s.rejects)+len(s.ids) != 0 {
				t.Error("kept buffers are not emptied")
			}
		})
	}
}
