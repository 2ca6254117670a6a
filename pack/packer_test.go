package pack

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// collector records emitted rows per length, copying them.
type collector map[int][][]uint32

func (c collector) emit(l int, row []uint32) error {
	c[l] = append(c[l], slices.Clone(row))
	return nil
}

func seq(from, n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(from + i)
	}
	return out
}

func TestNewPacker_Refuses(t *testing.T) {
	emit := func(int, []uint32) error { return nil }
	tests := []struct {
		name    string
		lengths []int
		emit    EmitFunc
	}{
		{"no lengths", nil, emit},
		{"zero", []int{0}, emit},
		{"negative", []int{4, -1}, emit},
		{"duplicate", []int{4, 8, 4}, emit},
		{"nil emit", []int{4}, nil},
	}
	for _, tt := range tests {
		if _, err := NewPacker(tt.lengths, tt.emit); err == nil {
			t.Errorf("%s: NewPacker succeeded", tt.name)
		}
	}
}

func TestPacker_Rows(t *testing.T) {
	tests := []struct {
		name string
		docs [][]uint32
		l    int
		rows [][]uint32
		tail []uint32
	}{
		{"empty stream", nil, 3, nil, []uint32{}},
		{"short docs join", [][]uint32{{1, 2}, {3, 4}, {5}}, 3, [][]uint32{{1, 2, 3}}, []uint32{4, 5}},
		{"exact fit", [][]uint32{{1, 2, 3}}, 3, [][]uint32{{1, 2, 3}}, []uint32{}},
		{"long doc", [][]uint32{seq(0, 7)}, 3, [][]uint32{{0, 1, 2}, {3, 4, 5}}, []uint32{6}},
		{"carry then long", [][]uint32{{9}, seq(0, 6)}, 3, [][]uint32{{9, 0, 1}, {2, 3, 4}}, []uint32{5}},
		{"empty docs", [][]uint32{{}, {1}, {}, {2}}, 2, [][]uint32{{1, 2}}, []uint32{}},
		{"length one", [][]uint32{{1, 2}, {3}}, 1, [][]uint32{{1}, {2}, {3}}, []uint32{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := collector{}
			p, err := NewPacker([]int{tt.l}, c.emit)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range tt.docs {
				if err := p.Add(d); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(c[tt.l], tt.rows) {
				t.Errorf("rows = %v, want %v", c[tt.l], tt.rows)
			}
			if got := p.Tail(tt.l); len(got) != len(tt.tail) || len(got) > 0 && !reflect.DeepEqual(got, tt.tail) {
				t.Errorf("tail = %v, want %v", got, tt.tail)
			}
			if p.Rows(tt.l) != int64(len(tt.rows)) || p.Docs() != int64(len(tt.docs)) {
				t.Errorf("Rows %d Docs %d", p.Rows(tt.l), p.Docs())
			}
		})
	}
}

func TestPacker_UnknownLength(t *testing.T) {
	p, _ := NewPacker([]int{4}, collector{}.emit)
	if p.Tail(5) != nil || p.Rows(5) != 0 || !reflect.DeepEqual(p.Lengths(), []int{4}) {
		t.Fatal("unknown length not reported as absent")
	}
}

func TestPacker_EmitErrorStops(t *testing.T) {
	boom := errors.New("disk full")
	p, _ := NewPacker([]int{2}, func(int, []uint32) error { return boom })
	if err := p.Add([]uint32{1}); err != nil {
		t.Fatal(err)
	}
	if err := p.Add([]uint32{2, 3, 4}); !errors.Is(err, boom) {
		t.Fatalf("Add error = %v", err)
	}
}

func TestPacker_TailIsCopy(t *testing.T) {
	p, _ := NewPacker([]int{4}, collector{}.emit)
	p.Add([]uint32{1, 2})
	tail := p.Tail(4)
	tail[0] = 99
	if p.Tail(4)[0] != 1 {
		t.Fatal("Tail aliases the carry buffer")
	}
}

// randomDocs returns n documents of random sizes (some empty, some longer than every length)
// whose ids are consecutive, so that order and identity can be checked.
func randomDocs(r *rand.Rand, n int) [][]uint32 {
	docs := make([][]uint32, n)
	next := 0
	for i := range docs {
		size := r.IntN(40)
		if r.IntN(10) == 0 {
			size = r.IntN(300)
		}
		docs[i] = seq(next, size)
		next += size
	}
	return docs
}

func TestPacker_ConservationProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 300; iter++ {
		docs := randomDocs(r, r.IntN(50))
		lengths := []int{1 + r.IntN(8), 9 + r.IntN(30), 40 + r.IntN(100)}
		c := collector{}
		p, err := NewPacker(lengths, c.emit)
		if err != nil {
			t.Fatal(err)
		}
		var in []uint32
		for _, d := range docs {
			in = append(in, d...)
			if err := p.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		if p.Tokens() != int64(len(in)) {
			t.Fatalf("Tokens = %d, want %d", p.Tokens(), len(in))
		}
		for _, l := range lengths {
			var out []uint32
			for _, row := range c[l] {
				if len(row) != l {
					t.Fatalf("row of %d tokens for length %d", len(row), l)
				}
				out = append(out, row...)
			}
			tail := p.Tail(l)
			if len(tail) >= l {
				t.Fatalf("tail of %d tokens for length %d", len(tail), l)
			}
			out = append(out, tail...)
			if !slices.Equal(out, in) {
				t.Fatalf("iter %d length %d: rows+tail != input (%d vs %d tokens)", iter, l, len(out), len(in))
			}
		}
	}
}
