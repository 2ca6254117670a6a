package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tokenmill/tokenmill/tokenizer"
)

// cmdTokenizer implements `tokenmill tokenizer info NAME|PATH`.
func cmdTokenizer(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "info" {
		fmt.Fprintln(stderr, "usage: tokenmill tokenizer info NAME|PATH")
		fmt.Fprintln(stderr, "built-in encodings:", strings.Join(tokenizer.BuiltinNames(), ", "))
		return 2
	}
	tk, err := tokenizer.Load(args[1])
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill tokenizer:", err)
		return 1
	}
	fmt.Fprintf(stdout, "name:        %s\n", tk.Name())
	fmt.Fprintf(stdout, "kind:        %s\n", tk.Kind())
	fmt.Fprintf(stdout, "vocab size:  %d\n", tk.VocabSize())
	fmt.Fprintf(stdout, "sha256:      %s\n", tk.SHA256())
	if id, ok := tk.EOS(); ok {
		fmt.Fprintf(stdout, "eos:         %d\n", id)
	}
	if id, ok := tk.BOS(); ok {
		fmt.Fprintf(stdout, "bos:         %d\n", id)
	}
	if pre, suf := tk.PostProcessorAdds(); len(pre)+len(suf) > 0 {
		fmt.Fprintf(stdout, "post-processor adds: before %v, after %v\n", pre, suf)
	}
	fmt.Fprintf(stdout, "pattern:     %s\n", tk.Pattern())
	specials := tk.SpecialTokens()
	names := make([]string, 0, len(specials))
	for s := range specials {
		names = append(names, s)
	}
	sort.Slice(names, func(i, j int) bool { return specials[names[i]] < specials[names[j]] })
	fmt.Fprintf(stdout, "specials:    %d\n", len(names))
	for _, s := range names {
		fmt.Fprintf(stdout, "  %7d  %s\n", specials[s], s)
	}
	return 0
}
