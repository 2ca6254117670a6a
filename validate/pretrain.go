package validate

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// checkPretrain applies the pretraining rules to one packed sequence: input_ids is present,
// is a non-empty list of integers, every id lies in [0, VocabSize) (only the first offending id
// of a record is reported, as the document words it: "Token ID 50000 out of vocabulary range"),
// and its length equals SeqLen when one is expected.
func checkPretrain(is *issues, rec map[string]any, opt Options) {
	const field = "input_ids"
	v, ok := rec[field]
	if !ok {
		is.add(field, msgMissing(field))
		return
	}
	ids, ok := intList(v)
	if !ok {
		is.add(field, msgMustBeList(field))
		return
	}
	if ids.n == 0 {
		is.add(field, msgEmptyList(field))
		return
	}
	badType, badRange := -1, -1
	var badID int64
	for i := 0; i < ids.n && (badType < 0 || badRange < 0); i++ {
		id, ok := ids.at(i)
		switch {
		case !ok:
			if badType < 0 {
				badType = i
			}
		case badRange < 0 && (id < 0 || (opt.VocabSize > 0 && id >= int64(opt.VocabSize))):
			badRange, badID = i, id
		}
	}
	if badType >= 0 {
		is.add(field+"["+strconv.Itoa(badType)+"]", msgMustBeIntegers(field))
	}
	if badRange >= 0 {
		is.add(field+"["+strconv.Itoa(badRange)+"]", msgTokenRange(badID))
	}
	if opt.SeqLen > 0 && ids.n != opt.SeqLen {
		is.add(field, msgSeqLen(ids.n, opt.SeqLen))
	}
}

// ints is a read-only view of a list of token ids of any element type.
type ints struct {
	n  int
	at func(i int) (int64, bool)
}

// intList views v as a list of integers; ok is false when v is not a list at all.
func intList(v any) (ints, bool) {
	switch l := v.(type) {
	case []any:
		return ints{len(l), func(i int) (int64, bool) { return asInt(l[i]) }}, true
	case []int64:
		return ints{len(l), func(i int) (int64, bool) { return l[i], true }}, true
	case []int32:
		return ints{len(l), func(i int) (int64, bool) { return int64(l[i]), true }}, true
	case []int:
		return ints{len(l), func(i int) (int64, bool) { return int64(l[i]), true }}, true
	case []uint16:
		return ints{len(l), func(i int) (int64, bool) { return int64(l[i]), true }}, true
	case []uint32:
		return ints{len(l), func(i int) (int64, bool) { return int64(l[i]), true }}, true
	}
	if g, ok := asList(v); ok {
		return ints{len(g), func(i int) (int64, bool) { return asInt(g[i]) }}, true
	}
	return ints{}, false
}

// curriculumDir matches a curriculum bucket name of the document ("train_512", "val_2048") and
// the .npy files of the same bucket ("train_512.npy").
var curriculumDir = regexp.MustCompile(`^(?:train|val)_([0-9]+)(?:\.npy)?$`)

// SeqLenFromPath returns the sequence length named by the innermost curriculum directory (or
// .npy file) in path, e.g. 1024 for "data/packed/train_1024/data-00000-of-00002.arrow"; ok is
// false when no path element is a curriculum bucket name. It looks only at the string.
func SeqLenFromPath(path string) (n int, ok bool) {
	parts := strings.Split(filepath.ToSlash(path), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		m := curriculumDir.FindStringSubmatch(parts[i])
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n <= 0 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}
