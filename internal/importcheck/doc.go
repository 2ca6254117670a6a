// Package importcheck enforces the package table of the repository's DESIGN.md: which
// packages of the module, and which third-party packages, each package may import, and that
// imports point down the table. The table is parsed from DESIGN.md itself (ParseTable), so the
// document and the rule cannot drift; the packages and their imports come from `go list`
// (List); Check compares the two. `make imports` runs the check on the repository. The
// imports are those of the files built on the platform that runs the check: a file excluded
// by its build constraints there (another OS's, a build tag's) is not checked.
//
// The functions hold no state and are safe for concurrent use.
package importcheck
