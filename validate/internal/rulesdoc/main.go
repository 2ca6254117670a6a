// Command rulesdoc writes the validation rules page (validate.RulesMarkdown) to the file named
// by its argument, or to stdout without one. `make rules-doc` runs it through go generate.
package main

import (
	"fmt"
	"os"

	"github.com/tokenmill/tokenmill/validate"
)

func main() {
	if len(os.Args) > 2 {
		fmt.Fprintln(os.Stderr, "usage: rulesdoc [OUT.md]")
		os.Exit(2)
	}
	out := validate.RulesMarkdown()
	if len(os.Args) == 1 {
		os.Stdout.Write(out)
		return
	}
	if err := os.WriteFile(os.Args[1], out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "rulesdoc:", err)
		os.Exit(1)
	}
}
