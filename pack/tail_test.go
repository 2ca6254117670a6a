package pack

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func TestPackTails_Remainder(t *testing.T) {
	tests := []struct {
		name  string
		tails [][]uint32
		rem   Remainder
		rows  [][]uint32
		want  TailStats
	}{
		{"no tails", nil, Drop, nil, TailStats{Length: 3}},
		{"drop", [][]uint32{{1, 2}, {3, 4}}, Drop, [][]uint32{{1, 2, 3}},
			TailStats{Length: 3, TailTokens: 4, Rows: 1, DroppedTailTokens: 1, RemainderTokens: 1}},
		{"pad", [][]uint32{{1, 2}, {3, 4}}, Pad, [][]uint32{{1, 2, 3}, {4, 0, 0}},
			TailStats{Length: 3, TailTokens: 4, Rows: 2, PaddedTailTokens: 2, RemainderTokens: 1}},
		{"pad exact", [][]uint32{{1, 2}, {3}}, Pad, [][]uint32{{1, 2, 3}},
			TailStats{Length: 3, TailTokens: 3, Rows: 1}},
		{"empty tails", [][]uint32{{}, {}, {5}}, Pad, [][]uint32{{5, 0, 0}},
			TailStats{Length: 3, TailTokens: 1, Rows: 1, PaddedTailTokens: 2, RemainderTokens: 1}},
		{"long tail", [][]uint32{seq(1, 7)}, Drop, [][]uint32{{1, 2, 3}, {4, 5, 6}},
			TailStats{Length: 3, TailTokens: 7, Rows: 2, DroppedTailTokens: 1, RemainderTokens: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rows [][]uint32
			st, err := PackTails(3, tt.tails, tt.rem, 0, func(r []uint32) error {
				rows = append(rows, slices.Clone(r))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rows, tt.rows) || st != tt.want {
				t.Fatalf("rows %v stats %+v; want %v %+v", rows, st, tt.rows, tt.want)
			}
		})
	}
}

func TestPackTails_Refuses(t *testing.T) {
	ok := func([]uint32) error { return nil }
	if _, err := PackTails(0, nil, Drop, 0, ok); err == nil {
		t.Error("length 0 accepted")
	}
	if _, err := PackTails(4, nil, Remainder(7), 0, ok); err == nil {
		t.Error("bad remainder accepted")
	}
	if _, err := PackTails(4, nil, Drop, 0, nil); err == nil {
		t.Error("nil emit accepted")
	}
}

// packSharded packs docs divided into shards at the given cut points: each shard with its own
// packer (run in the order given by runOrder, as workers would), then the tails in shard order.
func packSharded(t *testing.T, docs [][]uint32, cuts []int, runOrder []int, l int, rem Remainder) ([][]uint32, TailStats) {
	t.Helper()
	n := len(cuts) + 1
	bounds := append(append([]int{0}, cuts...), len(docs))
	shardRows := make([][][]uint32, n)
	tails := make([][]uint32, n)
	for _, s := range runOrder {
		c := collector{}
		p, err := NewPacker([]int{l}, c.emit)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs[bounds[s]:bounds[s+1]] {
			if err := p.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		shardRows[s], tails[s] = c[l], p.Tail(l)
	}
	var rows [][]uint32
	for _, sr := range shardRows { // finalize: shard rows in shard order, then the tails
		rows = append(rows, sr...)
	}
	st, err := PackTails(l, tails, rem, 1<<31, func(r []uint32) error {
		rows = append(rows, slices.Clone(r))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, st
}

func TestPackTails_ShardedProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 300; iter++ {
		docs := randomDocs(r, 1+r.IntN(60))
		l := 1 + r.IntN(64)
		rem := Remainder(r.IntN(2))
		var cuts []int
		for i := 1; i < len(docs); i++ {
			if r.IntN(4) == 0 {
				cuts = append(cuts, i)
			}
		}
		order := r.Perm(len(cuts) + 1)
		inOrder := make([]int, len(cuts)+1)
		for i := range inOrder {
			inOrder[i] = i
		}
		rows, st := packSharded(t, docs, cuts, inOrder, l, rem)

		// Determinism: the same plan run in any order gives the same rows.
		rows2, st2 := packSharded(t, docs, cuts, order, l, rem)
		if !reflect.DeepEqual(rows, rows2) || st != st2 {
			t.Fatalf("iter %d: rows depend on the order shards ran in", iter)
		}

		// Conservation: every input token appears once, in rows or in the dropped remainder;
		// pad ids are exactly the padded count.
		var in []uint32
		for _, d := range docs {
			in = append(in, d...)
		}
		var out []uint32
		pads := int64(0)
		for _, row := range rows {
			if len(row) != l {
				t.Fatalf("row of %d tokens, want %d", len(row), l)
			}
			for _, id := range row {
				if id == 1<<31 {
					pads++
				} else {
					out = append(out, id)
				}
			}
		}
		if pads != st.PaddedTailTokens || int64(len(out))+st.DroppedTailTokens != int64(len(in)) {
			t.Fatalf("iter %d: %d out + %d dropped != %d in; pads %d vs %d", iter, len(out), st.DroppedTailTokens, len(in), pads, st.PaddedTailTokens)
		}
		// The ids of randomDocs are 0..len(in)-1, each once: sorted output must be strictly
		// increasing (no duplicate) and in range (nothing invented); with Pad, all of them.
		slices.Sort(out)
		for i, id := range out {
			if int(id) >= len(in) || i > 0 && out[i-1] >= id {
				t.Fatalf("iter %d: token %d duplicated or invented", iter, id)
			}
		}
		if rem == Pad && len(out) != len(in) {
			t.Fatalf("iter %d: pad lost tokens", iter)
		}

		// Same row count and remainder as one global stream, whatever the shard cuts.
		global, gst := packSharded(t, docs, nil, []int{0}, l, rem)
		if len(global) != len(rows) || gst.RemainderTokens != st.RemainderTokens {
			t.Fatalf("iter %d: %d rows (remainder %d) sharded vs %d (%d) global", iter, len(rows), st.RemainderTokens, len(global), gst.RemainderTokens)
		}
	}
}
