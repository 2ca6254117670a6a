// Package testutil holds what the tests of several packages share: WaitFor, which polls a
// condition instead of sleeping, and fixtures (the demo corpus, a NumPy interpreter, reading
// and comparing output trees, compressing bytes). Only tests import it (DESIGN.md's table
// enforces that).
//
// The helpers hold no state between calls and are safe for concurrent use by parallel tests.
package testutil
