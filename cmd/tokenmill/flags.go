package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// exitUsage is the exit status of a usage error (a missing argument, an unknown or bad flag),
// as for the go tool and flag.ExitOnError.
const exitUsage = 2

// command is one tokenmill command or subcommand ("validate", "harmony encode"): its
// synopsis, help text and flags. parse reads its arguments the same way for every command:
// -h and --help print the help on stdout (exit 0); a usage error prints one line saying what
// is wrong and a pointer to --help on stderr (exit 2); flags may come before or after the
// positional arguments; a flag not on the command line takes the value of its environment
// variable (envName) when that is set and not empty.
type command struct {
	name     string // as typed after "tokenmill": "validate", "tokenizer info"
	synopsis string // what follows "tokenmill NAME" in the usage line: "--stage STAGE [flags] PATH..."
	summary  string // one sentence saying what the command does
	help     string // more text (arguments, exit statuses), printed after the summary; may be ""
	fs       *flag.FlagSet
	sections []flagSection
	stdout   io.Writer
	stderr   io.Writer
}

// flagSection is a titled group of flags in the help, in registration order.
type flagSection struct {
	title string
	names []string
}

// newCommand returns a command whose flags are registered on c.fs; flags registered outside
// c.section are listed under "flags:".
func newCommand(name, synopsis, summary, help string, stdout, stderr io.Writer) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors itself, in one line
	fs.Usage = func() {}
	return &command{name: name, synopsis: synopsis, summary: summary, help: help, fs: fs,
		stdout: stdout, stderr: stderr}
}

// section lists the flags that register adds on c.fs under their own title in the help, and
// returns their names.
func (c *command) section(title string, register func()) []string {
	before := map[string]bool{}
	c.fs.VisitAll(func(f *flag.Flag) { before[f.Name] = true })
	register()
	s := flagSection{title: title}
	c.fs.VisitAll(func(f *flag.Flag) {
		if !before[f.Name] {
			s.names = append(s.names, f.Name)
		}
	})
	c.sections = append(c.sections, s)
	return s.names
}

// anySet reports whether one of the flags names was given on the command line.
func (c *command) anySet(names []string) bool {
	set := false
	c.fs.Visit(func(f *flag.Flag) { set = set || slices.Contains(names, f.Name) })
	return set
}

// parse parses args (flags anywhere, see interleaveFlags), then sets the flags that args
// lack from their environment variables. When done is true the command must return code at
// once: help was printed (0) or a usage error was (2).
func (c *command) parse(args []string) (done bool, code int) {
	err := c.fs.Parse(interleaveFlags(c.fs, args))
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.printHelp(c.stdout)
		return true, 0
	case err != nil:
		return true, c.usageError("%s", flagError(err))
	}
	if err := setFromEnv(c.fs, os.LookupEnv); err != nil {
		return true, c.usageError("%s", err)
	}
	return false, 0
}

// envPrefix begins the name of every flag's environment variable.
const envPrefix = "TOKENMILL_"

// envName is the environment variable of the flag name: TOKENMILL_ and the name in upper
// case with "-" as "_" (--grpc-port: TOKENMILL_GRPC_PORT).
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// repeatable is a flag that may be given more than once (--join, --tag); its environment
// variable holds its values separated by commas.
type repeatable interface {
	flag.Value
	repeatable()
}

// setFromEnv sets every flag of fs that the command line did not set from its environment
// variable, read by lookup; an empty variable counts as unset. A bad value is an error that
// names the variable and the flag.
func setFromEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := lookup(envName(f.Name))
		if err != nil || given[f.Name] || !ok || v == "" {
			return
		}
		values := []string{v}
		if _, ok := f.Value.(repeatable); ok {
			values = strings.Split(v, ",")
		}
		for _, one := range values {
			if e := fs.Set(f.Name, strings.TrimSpace(one)); e != nil {
				err = fmt.Errorf("%s=%s: invalid value for %s: %v", envName(f.Name), v, dashed(f.Name), e)
				return
			}
		}
	})
	return err
}

// usageError prints what is wrong with the command line and where to read the usage, and
// returns the exit status of a usage error.
func (c *command) usageError(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "tokenmill %s: %s\nRun 'tokenmill %s --help' for usage.\n", c.name, fmt.Sprintf(format, args...), c.name)
	return exitUsage
}

// positiveInt refuses a value below 1 of the flag named name (a usage error); ok is true when
// v is fine.
func (c *command) positiveInt(name string, v int) (ok bool, code int) {
	if v < 1 {
		return false, c.usageError("--%s must be at least 1, got %d", name, v)
	}
	return true, 0
}

// printHelp writes the usage line, summary, help text and the flags with their placeholders
// and defaults.
func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", strings.TrimSpace("tokenmill "+c.name+" "+c.synopsis), c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s", c.help)
		if !strings.HasSuffix(c.help, "\n") {
			fmt.Fprintln(w)
		}
	}
	inSection := map[string]bool{}
	for _, s := range c.sections {
		for _, n := range s.names {
			inSection[n] = true
		}
	}
	var own []string
	c.fs.VisitAll(func(f *flag.Flag) {
		if !inSection[f.Name] {
			own = append(own, f.Name)
		}
	})
	sections := append([]flagSection{{title: "flags", names: own}}, c.sections...)
	for _, s := range sections {
		if len(s.names) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", s.title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, n := range s.names {
			fmt.Fprintln(tw, flagLine(c.fs.Lookup(n)))
		}
		tw.Flush()
	}
	c.printEnv(w)
}

// printEnv lists the environment variables of the command's flags, wrapped.
func (c *command) printEnv(w io.Writer) {
	var names []string
	c.fs.VisitAll(func(f *flag.Flag) { names = append(names, envName(f.Name)) })
	if len(names) == 0 {
		return
	}
	fmt.Fprint(w, "\nenvironment (a flag on the command line wins; a repeatable flag's values are separated by commas):\n")
	line := " "
	for _, n := range names {
		if len(line)+1+len(n) > 96 {
			fmt.Fprintln(w, line)
			line = " "
		}
		line += " " + n
	}
	fmt.Fprintln(w, line)
}

// flagLine is one flag in the help: "  --name PLACEHOLDER\tusage (default D)".
func flagLine(f *flag.Flag) string {
	dash := "--"
	if len(f.Name) == 1 {
		dash = "-"
	}
	ph, usage := placeholder(f)
	head := "  " + dash + f.Name
	if ph != "" {
		head += " " + ph
	}
	if def := f.DefValue; def != "" && def != "false" && !strings.Contains(usage, "(default") {
		usage += " (default " + def + ")"
	}
	return head + "\t" + usage
}

// placeholder returns the name of a flag's value as the help shows it (flag.UnquoteUsage: a
// back-quoted word of the usage, else the value's type) and the usage without back quotes.
// Bool flags take none. A flag whose value has no type name (a flag.Value such as the job
// flags) is named after the last word of the flag: --output-dir DIR, --shard-size SIZE.
func placeholder(f *flag.Flag) (string, string) {
	name, usage := flag.UnquoteUsage(f)
	if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
		return "", usage
	}
	switch name {
	case "value":
		words := strings.Split(f.Name, "-")
		name = strings.ToUpper(words[len(words)-1])
		switch name {
		case "ERRORS", "SEED":
			name = "N"
		case "TO":
			name = "FORMAT"
		case "INPUT":
			name = "PATH"
		case "TOKENIZER":
			name = "NAME|PATH"
		}
	case "int", "uint", "int64", "uint64":
		name = "N"
	}
	return name, usage
}

// flagError rewrites the flag package's error as one line about the flag, with the flag
// spelled as the help spells it.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag " + dashed(name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return dashed(name) + " needs a value"
	}
	// invalid value "V" for flag -NAME: ERR, invalid boolean value "V" for -NAME: ERR
	for _, sep := range []string{" for flag -", " for -"} {
		before, after, ok := strings.Cut(msg, sep)
		if !ok {
			continue
		}
		name, rest, _ := strings.Cut(after, ": ")
		value := before[strings.IndexByte(before, '"'):]
		if !strings.Contains(rest, value) {
			return fmt.Sprintf("%s: invalid value %s: %s", dashed(name), value, rest)
		}
		// A job flag's error names its key and the value: "seed: expected ..., got "-1"".
		if key, text, ok := strings.Cut(rest, ": "); ok && strings.NewReplacer("_", "-", ".", "-").Replace(key) == name {
			rest = text
		}
		return dashed(name) + ": " + rest
	}
	return msg
}

// dashed spells a flag name as typed: -v, --workers.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// subcommand is one subcommand of a command with subcommands (harmony, tokenizer).
type subcommand struct {
	name, summary string
	run           func(args []string) int
}

// runSubcommand runs the subcommand args[0] of the command name. With no subcommand, or an
// unknown one, it is a usage error; -h and --help list the subcommands on stdout.
func runSubcommand(name, summary string, subs []subcommand, args []string, stdout, stderr io.Writer) int {
	c := &command{name: name, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		return c.usageError("missing subcommand")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stdout, "usage: tokenmill %s SUBCOMMAND [ARGS]\n\n%s\n\nsubcommands:\n", name, summary)
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for _, s := range subs {
			fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.summary)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "\nRun 'tokenmill %s SUBCOMMAND --help' for a subcommand's flags.\n", name)
		return 0
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(args[1:])
		}
	}
	if strings.HasPrefix(args[0], "-") {
		return c.usageError("missing subcommand before %s", args[0])
	}
	return c.usageError("unknown subcommand %q", args[0])
}

// interleaveFlags moves flags in front of the positional arguments so that
// `run job.yaml --workers 4` works for every subcommand; bool flags (by the FlagSet) take no
// separate value.
func interleaveFlags(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	needsDashes := false // a positional argument (after "--") looks like a flag
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			for _, p := range args[i+1:] {
				pos = append(pos, p)
				needsDashes = needsDashes || strings.HasPrefix(p, "-") && p != "-"
			}
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			f := fs.Lookup(name)
			if f == nil {
				continue
			}
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 >= len(args) {
				// The last argument is a flag without its value: flag.Parse says so when
				// nothing follows it.
				return flags
			}
			flags = append(flags, args[i+1])
			i++
		default:
			pos = append(pos, a)
		}
	}
	if needsDashes {
		flags = append(flags, "--")
	}
	return append(flags, pos...)
}
