package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tokenmill/tokenmill/tokenizer"
)

// cmdTokenizer implements `tokenmill tokenizer SUBCOMMAND`; info is the one subcommand.
func cmdTokenizer(args []string, stdout, stderr io.Writer) int {
	return runSubcommand("tokenizer", "Look at a tokenizer.", []subcommand{
		{"info", "print a tokenizer's vocabulary size, specials, EOS/BOS and split pattern",
			func(args []string) int { return cmdTokenizerInfo(args, stdout, stderr) }},
	}, args, stdout, stderr)
}

// cmdTokenizerInfo implements `tokenmill tokenizer info NAME|PATH`.
func cmdTokenizerInfo(args []string, stdout, stderr io.Writer) int {
	c := newCommand("tokenizer info", "NAME|PATH",
		"Print a tokenizer's name, kind, vocabulary size, sha256, EOS/BOS, split pattern and special tokens.",
		"NAME|PATH: a built-in encoding ("+strings.Join(tokenizer.BuiltinNames(), ", ")+"),\n"+
			"a .tiktoken rank file, a Hugging Face tokenizer.json (or its directory) or a\nSentencePiece BPE model (a .model file).\n", stdout, stderr)
	if done, code := c.parse(args); done {
		return code
	}
	switch {
	case c.fs.NArg() == 0:
		return c.usageError("missing NAME|PATH")
	case c.fs.NArg() > 1:
		return c.usageError("unexpected argument %q: one tokenizer at a time", c.fs.Arg(1))
	}
	tk, err := tokenizer.Load(c.fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill tokenizer info:", err)
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
