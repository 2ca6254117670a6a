package importcheck

import (
	"fmt"
	"slices"
	"strings"
)

// Package is what Check needs of a package of the module: its import path and its imports,
// those of its tests apart (both test forms: package p and package p_test).
type Package struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// Exception lets one package import another that its row does not allow, for the time a
// known change needs to land; Why names that change.
type Exception struct {
	From, To string // package paths relative to the module
	Why      string
}

// Check returns one message per broken rule, in package order, for the packages of module
// (their import paths start with module). An import that an exception allows is not reported;
// an exception that allows no import of pkgs is reported, so that it is deleted once the
// change it waits for has landed.
func Check(tb *Table, module string, pkgs []Package, exceptions []Exception) []string {
	c := checker{tb: tb, module: module, used: map[Exception]bool{}, exceptions: exceptions}
	for _, p := range pkgs {
		c.checkPackage(p)
	}
	for _, e := range exceptions {
		if !c.used[e] {
			c.problems = append(c.problems, fmt.Sprintf("the exception %s -> %s (%s) allows no import any more: delete it", e.From, e.To, e.Why))
		}
	}
	return c.problems
}

type checker struct {
	tb         *Table
	module     string
	exceptions []Exception
	used       map[Exception]bool
	problems   []string
}

func (c *checker) checkPackage(p Package) {
	rel, ok := c.relative(p.ImportPath)
	if !ok {
		c.addf("%s is not a package of module %s", p.ImportPath, c.module)
		return
	}
	row, ok := c.tb.rowOf(rel)
	if !ok {
		c.addf("%s has no row in the package table of DESIGN.md: add one saying what it may import", rel)
		return
	}
	for _, imp := range p.Imports {
		c.checkImport(rel, rel, row, imp, false)
	}
	for _, imp := range slices.Concat(p.TestImports, p.XTestImports) {
		if imp != p.ImportPath {
			c.checkImport(rel, rel+" (tests)", row, imp, true)
		}
	}
}

// checkImport checks one import of the package rel (called who in messages) of row.
func (c *checker) checkImport(rel, who string, row *Row, imp string, test bool) {
	if to, ok := c.relative(imp); ok {
		c.checkProjectImport(rel, who, row, to, test)
		return
	}
	if isStandard(imp) {
		return
	}
	group, ok := c.tb.groupOf(imp)
	switch {
	case !ok:
		c.addf("%s imports %s, which is in no third-party group of DESIGN.md", who, imp)
	case !row.Groups[group] && !(test && row.TestGroups[group]):
		c.addf("%s imports %s (%s): its row in DESIGN.md does not allow %s", who, imp, group, group)
	}
}

func (c *checker) checkProjectImport(rel, who string, row *Row, to string, test bool) {
	target, ok := c.tb.rowOf(to)
	if !ok || target.Index == row.Index {
		return // a package without a row is reported by itself; a row's packages import each other
	}
	if e, ok := c.exception(rel, to); ok {
		c.used[e] = true
		return
	}
	switch {
	case target.Index < row.Index && !(test && row.TestPackages[target.Index]):
		c.addf("%s imports %s, whose row is above its own in DESIGN.md: imports point down the table", who, to)
	case !row.Packages[target.Index] && !(test && row.TestPackages[target.Index]):
		c.addf("%s imports %s: its row in DESIGN.md does not allow %s", who, to, target.Name())
	}
}

func (c *checker) exception(from, to string) (Exception, bool) {
	for _, e := range c.exceptions {
		if e.From == from && e.To == to {
			return e, true
		}
	}
	return Exception{}, false
}

// relative returns path relative to the module, and whether it is in the module.
func (c *checker) relative(path string) (string, bool) {
	return strings.CutPrefix(path, c.module+"/")
}

func (c *checker) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// rowOf returns the row that covers the package rel: the one with the longest pattern.
func (tb *Table) rowOf(rel string) (*Row, bool) {
	var best *Row
	for i := range tb.Rows {
		r := &tb.Rows[i]
		if r.Covers(rel) && (best == nil || len(r.Pattern) > len(best.Pattern)) {
			best = r
		}
	}
	return best, best != nil
}

// groupOf returns the third-party group whose patterns match the import path.
func (tb *Table) groupOf(path string) (string, bool) {
	for name, patterns := range tb.Groups {
		for _, p := range patterns {
			if matchPattern(p, path) {
				return name, true
			}
		}
	}
	return "", false
}

// isStandard reports whether path is in the standard library: its first element has no dot
// (and "C", cgo's pseudo-package).
func isStandard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
