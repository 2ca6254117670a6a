package importcheck

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

// Table is the parsed import rule: the package rows in order from the top of the table down,
// and the third-party groups by name.
type Table struct {
	Rows   []Row
	Groups map[string][]string // group name -> import path patterns
}

// Row is one line of the package table.
type Row struct {
	// Pattern is the package path relative to the module: "shard", or "proto/..." for proto
	// and every package below it.
	Pattern string
	// Index is the row's position, 0 at the top; a row may only name rows of greater index.
	Index int
	// Packages and Groups are the rows (by index) and third-party groups the row's packages
	// may import; their tests may also import TestPackages and TestGroups.
	Packages, TestPackages map[int]bool
	Groups, TestGroups     map[string]bool
}

// Name is the row as other rows name it: its pattern without a trailing "/...".
func (r Row) Name() string { return strings.TrimSuffix(r.Pattern, "/...") }

// Covers reports whether the package at path rel (relative to the module) belongs to the row.
func (r Row) Covers(rel string) bool { return matchPattern(r.Pattern, rel) }

const (
	keyEverything = "everything"
	keyNothing    = "-"
)

var remark = regexp.MustCompile(`\([^)]*\)`)

// ParseTable reads the package table (header "| package | ... | may import | its tests may
// also import |") and the group table (header "| group | import paths |") from a markdown
// document. Every name in a row must be a row below it or a group; an error names the line.
func ParseTable(doc string) (*Table, error) {
	tb := &Table{Groups: map[string][]string{}}
	var pkgLines []numbered
	var cols map[string]int
	sc := bufio.NewScanner(strings.NewReader(doc))
	n, mode := 0, ""
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			mode = ""
			continue
		}
		cells := splitRow(line)
		switch {
		case mode == "" && cells[0] == "package":
			mode, cols = "package", columns(cells)
		case mode == "" && cells[0] == "group":
			mode = "group"
		case strings.HasPrefix(cells[0], "---"):
		case mode == "package":
			pkgLines = append(pkgLines, numbered{n, cells})
		case mode == "group":
			if len(cells) < 2 {
				return nil, fmt.Errorf("DESIGN.md:%d: a group row needs a name and import paths", n)
			}
			tb.Groups[cells[0]] = splitList(cells[1])
		}
	}
	if len(pkgLines) == 0 {
		return nil, fmt.Errorf("DESIGN.md: no package table (a header starting \"| package |\")")
	}
	for _, c := range []string{"may import", "its tests may also import"} {
		if _, ok := cols[c]; !ok {
			return nil, fmt.Errorf("DESIGN.md: the package table has no column %q", c)
		}
	}
	if err := tb.addRows(pkgLines, cols); err != nil {
		return nil, err
	}
	return tb, nil
}

type numbered struct {
	line  int
	cells []string
}

// addRows creates the rows first (so names can refer to rows further down), then resolves
// each row's lists.
func (tb *Table) addRows(lines []numbered, cols map[string]int) error {
	byName := map[string]int{}
	for i, l := range lines {
		r := Row{Pattern: l.cells[0], Index: i}
		if _, dup := byName[r.Name()]; dup {
			return fmt.Errorf("DESIGN.md:%d: package %s has two rows", l.line, r.Name())
		}
		if _, clash := tb.Groups[r.Name()]; clash {
			return fmt.Errorf("DESIGN.md:%d: %s is both a package row and a third-party group", l.line, r.Name())
		}
		byName[r.Name()] = i
		tb.Rows = append(tb.Rows, r)
	}
	for i, l := range lines {
		r := &tb.Rows[i]
		var err error
		cell := func(c string) string {
			if cols[c] < len(l.cells) {
				return l.cells[cols[c]]
			}
			return ""
		}
		if r.Packages, r.Groups, err = tb.resolve(i, byName, cell("may import"), false); err == nil {
			r.TestPackages, r.TestGroups, err = tb.resolve(i, byName, cell("its tests may also import"), true)
		}
		if err != nil {
			return fmt.Errorf("DESIGN.md:%d: row %s: %w", l.line, r.Name(), err)
		}
	}
	return nil
}

// resolve turns a cell's names into row indexes and group names. A package's own imports must
// name rows below it; its tests (tests) may also name rows above it, since a test binary is
// imported by nothing (a test cluster of coordinators and workers, used by their own tests).
func (tb *Table) resolve(self int, byName map[string]int, cell string, tests bool) (map[int]bool, map[string]bool, error) {
	pkgs, groups := map[int]bool{}, map[string]bool{}
	for _, name := range splitList(cell) {
		if name == keyEverything {
			for i := self + 1; i < len(tb.Rows); i++ {
				pkgs[i] = true
			}
			for g := range tb.Groups {
				groups[g] = true
			}
			continue
		}
		if _, ok := tb.Groups[name]; ok {
			groups[name] = true
			continue
		}
		i, ok := byName[strings.TrimSuffix(name, "/...")]
		switch {
		case !ok:
			return nil, nil, fmt.Errorf("%q is neither a package row nor a third-party group", name)
		case i == self || i < self && !tests:
			return nil, nil, fmt.Errorf("names %s, which is not below it (imports must point down the table)", name)
		}
		pkgs[i] = true
	}
	return pkgs, groups, nil
}

// splitRow returns the cells of a markdown table line, trimmed, without backquotes.
func splitRow(line string) []string {
	line = strings.Trim(line, "|")
	cells := strings.Split(line, "|")
	for i, c := range cells {
		cells[i] = strings.TrimSpace(strings.ReplaceAll(c, "`", ""))
	}
	return cells
}

// columns maps a header row's cell texts to their positions.
func columns(header []string) map[string]int {
	m := map[string]int{}
	for i, h := range header {
		m[h] = i
	}
	return m
}

// splitList returns the comma-separated names of a cell, remarks in parentheses removed;
// "-" and an empty cell are no names.
func splitList(cell string) []string {
	var names []string
	for _, f := range strings.Split(remark.ReplaceAllString(cell, ""), ",") {
		if f = strings.TrimSpace(f); f != "" && f != keyNothing {
			names = append(names, f)
		}
	}
	return names
}

// matchPattern reports whether path matches pattern: "p/..." matches p and every path below
// it; any other pattern matches only itself.
func matchPattern(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}
