package validate

import (
	"regexp"
	"unicode/utf8"
)

var (
	// testAttr matches a #[test] attribute in a Rust skeleton (comments and literals blanked).
	testAttr = regexp.MustCompile(`#\s*\[\s*test\s*\]`)
	// fnHead matches the head of a function item, after any further attributes.
	fnHead = regexp.MustCompile(`^(?:pub(?:\s*\([^)]*\))?\s+)?(?:(?:async|unsafe|const)\s+)*fn\s+[A-Za-z_][A-Za-z0-9_]*\s*[(<]`)
)

// CheckRustTests reports whether src looks like Rust test code, as GRPO and eval tasks need:
// at least one #[test] attribute followed by a function, every #[test] attribute followed by a
// function, balanced (), [] and {}, and no unterminated string or comment. It is a lexical
// check (comments, strings, raw strings, chars and lifetimes are told apart), not a parser.
// The issues carry no field; their messages name the field 'tests'.
func CheckRustTests(src string) []Issue {
	var is issues
	skel, terminated := rustSkeleton(src)
	if !terminated {
		is.add("", msgTestsUnterminated)
	} else if !balanced(skel) {
		is.add("", msgTestsUnbalanced)
	}
	fns, orphans := 0, 0
	for _, loc := range testAttr.FindAllIndex(skel, -1) {
		if fnHead.Match(skipAttrs(skel, loc[1])) {
			fns++
		} else {
			orphans++
		}
	}
	if fns == 0 {
		is.add("", msgNoTestFn)
	} else if orphans > 0 {
		is.add("", msgTestAttrNoFn)
	}
	return is
}

// skipAttrs returns skel from i on, past white space and any further #[...] attributes.
func skipAttrs(skel []byte, i int) []byte {
	for {
		for i < len(skel) && isSpaceByte(skel[i]) {
			i++
		}
		if i+1 >= len(skel) || skel[i] != '#' || skel[i+1] != '[' {
			return skel[i:]
		}
		depth := 0
		for ; i < len(skel); i++ {
			if skel[i] == '[' {
				depth++
			} else if skel[i] == ']' {
				if depth--; depth == 0 {
					i++
					break
				}
			}
		}
	}
}

func isSpaceByte(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// balanced reports whether the brackets of a skeleton nest properly.
func balanced(skel []byte) bool {
	var stack []byte
	for _, b := range skel {
		switch b {
		case '(', '[', '{':
			stack = append(stack, b)
		case ')', ']', '}':
			if len(stack) == 0 || stack[len(stack)-1] != opener(b) {
				return false
			}
			stack = stack[:len(stack)-1]
		}
	}
	return len(stack) == 0
}

func opener(closer byte) byte {
	switch closer {
	case ')':
		return '('
	case ']':
		return '['
	}
	return '{'
}

// rustSkeleton returns a copy of src with the insides of comments and string, raw string and
// char literals replaced by spaces, and whether every one of them was terminated.
func rustSkeleton(src string) ([]byte, bool) {
	out := []byte(src)
	blank := func(from, to int) {
		for k := from; k < to && k < len(out); k++ {
			out[k] = ' '
		}
	}
	n := len(src)
	for i := 0; i < n; {
		c := src[i]
		switch {
		case c == '/' && i+1 < n && src[i+1] == '/':
			j := i
			for j < n && src[j] != '\n' {
				j++
			}
			blank(i, j)
			i = j
		case c == '/' && i+1 < n && src[i+1] == '*':
			j, depth := i+2, 1
			for j < n && depth > 0 {
				switch {
				case src[j] == '/' && j+1 < n && src[j+1] == '*':
					depth, j = depth+1, j+2
				case src[j] == '*' && j+1 < n && src[j+1] == '/':
					depth, j = depth-1, j+2
				default:
					j++
				}
			}
			blank(i, j)
			if depth > 0 {
				return out, false
			}
			i = j
		case c == '"':
			j := i + 1
			for j < n && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= n {
				blank(i+1, n)
				return out, false
			}
			blank(i+1, j)
			i = j + 1
		case c == 'r' && (i == 0 || !isIdentByte(src[i-1]) || (src[i-1] == 'b' && (i == 1 || !isIdentByte(src[i-2])))):
			j, ok := rawStringEnd(src, i)
			if !ok {
				blank(i+1, n)
				return out, false
			}
			if j > i {
				blank(i+1, j)
				i = j
			} else {
				i++
			}
		case c == '\'':
			i = charLiteralEnd(src, i, blank)
		default:
			i++
		}
	}
	return out, true
}

// rawStringEnd returns the index just past the raw string r#"..."# starting at src[i] == 'r',
// or i when src[i:] does not start a raw string; ok is false for an unterminated one.
func rawStringEnd(src string, i int) (int, bool) {
	j := i + 1
	for j < len(src) && src[j] == '#' {
		j++
	}
	if j >= len(src) || src[j] != '"' {
		return i, true
	}
	hashes := j - i - 1
	for k := j + 1; k < len(src); k++ {
		if src[k] != '"' {
			continue
		}
		m := 0
		for m < hashes && k+1+m < len(src) && src[k+1+m] == '#' {
			m++
		}
		if m == hashes {
			return k + 1 + m, true
		}
	}
	return i, false
}

// charLiteralEnd returns the index past a char literal whose opening quote is src[i], blanking
// its inside, or i+1 when the quote starts a lifetime or label instead.
func charLiteralEnd(src string, i int, blank func(int, int)) int {
	if i+1 < len(src) && src[i+1] == '\\' {
		for j := i + 3; j < len(src) && j < i+14; j++ {
			if src[j] == '\'' {
				blank(i+1, j)
				return j + 1
			}
		}
		return i + 1
	}
	_, size := utf8.DecodeRuneInString(src[min(i+1, len(src)):])
	if end := i + 1 + size; size > 0 && end < len(src) && src[end] == '\'' {
		blank(i+1, end)
		return end + 1
	}
	return i + 1
}

func isIdentByte(b byte) bool {
	return b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b >= 0x80
}
