package planner

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

// MaxShards bounds the shards of one plan; a larger plan asks for a larger shard_size.
const MaxShards = 1 << 20

// Plan returns the shards of a job, in order. It is pure: it reads no file, and equal
// arguments give equal plans, whatever the order of inputs. It checks what it relies on (a
// name, shard_size > 0, resolved formats, no path twice), not the whole spec: validate the
// spec first.
func Plan(spec *job.Spec, inputs []shard.Input) ([]shard.Spec, error) {
	if spec == nil {
		return nil, errors.New("nil spec")
	}
	if spec.Name == "" {
		return nil, errors.New("the job has no name")
	}
	if spec.ShardSize <= 0 {
		return nil, fmt.Errorf("shard_size must be > 0, got %d", spec.ShardSize)
	}
	ins := slices.Clone(inputs)
	slices.SortStableFunc(ins, func(a, b shard.Input) int { return cmp.Compare(a.Path, b.Path) })
	for i, in := range ins {
		if i > 0 && ins[i-1].Path == in.Path {
			return nil, fmt.Errorf("input %q listed twice", in.Path)
		}
	}
	return plan(spec, ins)
}

// PlanInOrder returns the shards of a validate or convert job whose inputs are read in the
// order given (ListEntry's, entry by entry), a file listed twice being read twice: the
// order of `tokenmill convert`'s and `tokenmill validate`'s arguments. Otherwise it is Plan.
func PlanInOrder(spec *job.Spec, inputs []shard.Input) ([]shard.Spec, error) {
	if spec == nil {
		return nil, errors.New("nil spec")
	}
	if spec.Kind != job.KindValidate && spec.Kind != job.KindConvert {
		return nil, fmt.Errorf("PlanInOrder plans validate and convert jobs, not %s", spec.Kind)
	}
	return plan(spec, inputs)
}

// plan shards inputs in their order.
func plan(spec *job.Spec, ins []shard.Input) ([]shard.Spec, error) {
	if spec.Name == "" {
		return nil, errors.New("the job has no name")
	}
	size := int64(spec.ShardSize)
	if size <= 0 {
		return nil, fmt.Errorf("shard_size must be > 0, got %d", size)
	}
	for _, in := range ins {
		if err := checkInput(in); err != nil {
			return nil, err
		}
	}
	units := groupSmall(spec, ins, size)
	total := 0
	for _, u := range units {
		if len(u) > 1 {
			total++
		} else {
			total += shardCount(u[0], size)
		}
		if total > MaxShards {
			return nil, fmt.Errorf("more than %d shards; raise shard_size (now %s)", MaxShards, spec.ShardSize)
		}
	}
	shards := make([]shard.Spec, 0, total)
	for _, u := range units {
		if len(u) == 1 {
			shards = appendShards(shards, u[0], size)
			continue
		}
		s := shard.WholeFile(u[0])
		s.Kind, s.Files = shard.KindFiles, u
		shards = append(shards, s)
	}
	for i := range shards {
		shards[i].Index = i
		shards[i].ID = ShardID(i, len(shards))
		shards[i].Job = spec.Name
	}
	return shards, nil
}

// Small files are planned together. A shard costs a fraction of a millisecond whatever its
// size (its staging, its result, its place in the assembly; a round trip to the coordinator
// on a cluster), which is nothing beside a shard of megabytes but most of the work of a
// document of a few kilobytes. So runs of consecutive (in plan order) files smaller than a
// 64th of shard_size (1 MiB by default), none of them Parquet or HF, become one
// shard.KindFiles shard of about that size and at most maxGroupFiles files. A megabyte is
// tens of milliseconds of work, against which a shard's cost is under one percent; and
// shards that small leave a job of many small files many shards for its workers (whose idle
// ones also help tokenize a running shard's documents). Larger files are planned alone, and
// so is a run of one. Validate and convert jobs, whose shards carry line-numbered reports of
// one file each, are planned file by file.
const (
	smallDivisor  = 64
	maxGroupFiles = 4096
)

// groupSmall cuts the sorted inputs into planning units: a run of small files to plan as one
// shard.KindFiles shard, or one input to plan by itself.
func groupSmall(spec *job.Spec, ins []shard.Input, size int64) [][]shard.Input {
	target := max(size/smallDivisor, 1)
	// A file under target (<= size) that is not empty is one shard by itself: a byte range
	// or a whole file.
	groupable := func(in shard.Input) bool {
		return (spec.Kind == job.KindPretrain || spec.Kind == "") && in.Size < target &&
			in.Format != job.FormatParquet && in.Format != job.FormatHF
	}
	var units [][]shard.Input
	var run []shard.Input
	var acc int64
	flush := func() {
		if len(run) > 0 {
			units = append(units, run)
			run, acc = nil, 0
		}
	}
	for _, in := range ins {
		if empty(in) {
			continue // no shard, and no reason to end a run
		}
		if !groupable(in) {
			flush()
			units = append(units, []shard.Input{in})
			continue
		}
		run = append(run, in)
		acc += in.Size
		if acc >= target || len(run) == maxGroupFiles {
			flush()
		}
	}
	flush()
	return units
}

// ShardID returns the id of shard i of a plan of n shards: i zero-padded to the width of n-1,
// at least 6 digits.
func ShardID(i, n int) string {
	width := max(6, len(strconv.Itoa(n-1)))
	return fmt.Sprintf("%0*d", width, i)
}

func checkInput(in shard.Input) error {
	switch in.Format {
	case job.FormatJSONL, job.FormatJSON, job.FormatText, job.FormatLines, job.FormatCSV:
	case job.FormatAuto:
		if in.Compression == shard.CompressionNone {
			return fmt.Errorf("%s: unresolved format auto for an uncompressed file", in.Path)
		}
	case job.FormatParquet, job.FormatHF:
		if in.Compression != shard.CompressionNone {
			return fmt.Errorf("%s: compressed %s files are not supported", in.Path, in.Format)
		}
	default:
		return fmt.Errorf("%s: unresolved format %q", in.Path, in.Format)
	}
	switch in.Compression {
	case shard.CompressionNone, shard.CompressionGzip, shard.CompressionZstd:
	default:
		return fmt.Errorf("%s: unknown compression %q", in.Path, in.Compression)
	}
	if in.Size < 0 {
		return fmt.Errorf("%s: negative size %d", in.Path, in.Size)
	}
	for i, rg := range in.RowGroups {
		if rg.Rows < 0 || rg.Bytes < 0 {
			return fmt.Errorf("%s: row group %d has negative counts", in.Path, i)
		}
	}
	return nil
}

// byteRanges reports whether an input is split by byte ranges.
func byteRanges(in shard.Input) bool {
	return in.LineOriented() && in.Compression == shard.CompressionNone
}

// shardCount is the number of shards appendShards makes for in.
// empty reports whether in holds no bytes, so no document, and gets no shard (an empty
// compressed file is no valid stream: its shard fails, naming it).
func empty(in shard.Input) bool {
	return in.Size == 0 && in.Compression == shard.CompressionNone
}

func shardCount(in shard.Input, size int64) int {
	switch {
	case empty(in):
		return 0
	case byteRanges(in):
		n := (in.Size + size - 1) / size
		return int(min(n, MaxShards+1))
	case in.Format == job.FormatParquet && len(in.RowGroups) > 0:
		return len(groupRowGroups(in.RowGroups, size))
	}
	return 1
}

func appendShards(out []shard.Spec, in shard.Input, size int64) []shard.Spec {
	base := shard.Spec{Path: in.Path, Format: in.Format, Compression: in.Compression,
		TextField: in.TextField, FileSize: in.Size, Kind: shard.KindFile}
	n := shardCount(in, size)
	switch {
	case n == 0:
	case byteRanges(in):
		// Even cuts: range k is [floor(k*Size/n), floor((k+1)*Size/n)), computed without
		// overflow as k*q + k*r/n with Size = q*n + r.
		q, r, nn := in.Size/int64(n), in.Size%int64(n), int64(n)
		cut := func(k int64) int64 { return k*q + k*r/nn }
		for k := int64(0); k < nn; k++ {
			s := base
			s.Kind, s.ByteStart, s.ByteEnd = shard.KindBytes, cut(k), cut(k+1)
			if k == 0 {
				s.StartLine = 1
			}
			out = append(out, s)
		}
	case in.Format == job.FormatParquet && len(in.RowGroups) > 0:
		var row int64
		groups := groupRowGroups(in.RowGroups, size)
		wins := digestWindows(in, groups)
		for k, g := range groups {
			s := base
			s.Kind, s.RowGroupStart, s.RowGroupEnd, s.StartRow = shard.KindRowGroups, g[0], g[1], row
			s.DigestStart, s.DigestEnd = wins[k][0], wins[k][1]
			for _, rg := range in.RowGroups[g[0]:g[1]] {
				row += rg.Rows
				s.RowGroupBytes += rg.Bytes
			}
			out = append(out, s)
		}
	default:
		out = append(out, shard.WholeFile(in))
	}
	return out
}

// digestWindows returns the bytes of the file that each run of row groups fingerprints. The
// runs tile the file in order: the first from byte 0 (the magic), each up to where the next
// run's first row group starts, the last to the end (the footer). So every shard digests its
// share, mostly bytes it has just read, and the file is read once more in all, spread over
// the shards, not whole by the first shard while the others wait on it. When the row groups'
// offsets are unknown or out of order, the first run digests the whole file, as it must.
func digestWindows(in shard.Input, groups [][2]int) [][2]int64 {
	wins := make([][2]int64, len(groups))
	prev := int64(0)
	known := true
	for _, rg := range in.RowGroups {
		if rg.Offset <= prev || rg.Offset >= in.Size {
			known = false
			break
		}
		prev = rg.Offset
	}
	if !known {
		wins[0] = [2]int64{0, in.Size}
		return wins
	}
	for k, g := range groups {
		if k > 0 {
			wins[k][0] = in.RowGroups[g[0]].Offset
		}
		wins[k][1] = in.Size
		if k+1 < len(groups) {
			wins[k][1] = in.RowGroups[groups[k+1][0]].Offset
		}
	}
	return wins
}

// groupRowGroups cuts row groups into runs [start, end) of about size bytes: a run takes the
// next row group unless it holds at least one and the addition would pass size.
func groupRowGroups(rgs []shard.RowGroup, size int64) [][2]int {
	var out [][2]int
	start, acc := 0, int64(0)
	for i, rg := range rgs {
		if i > start && acc+rg.Bytes > size {
			out = append(out, [2]int{start, i})
			start, acc = i, 0
		}
		acc += rg.Bytes
	}
	return append(out, [2]int{start, len(rgs)})
}
