package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/input"
	"github.com/tokenmill/tokenmill/internal/outdir"
	"github.com/tokenmill/tokenmill/tokenizer"
	"github.com/tokenmill/tokenmill/validate"
)

// harmonyTokenizer is the encoding GPT-OSS trains with.
const harmonyTokenizer = "o200k_harmony"

// harmonyEncodeHelp is the part of `tokenmill harmony encode --help` after the summary.
const harmonyEncodeHelp = `Encodes the "messages" of every record of IN (JSONL or a JSON array) with the data formats
document's encode_harmony_messages and writes an HF save_to_disk dataset with a "text" column
(and, with --tokenize, an "input_ids" column of o200k_harmony token ids).
`

// cmdHarmony implements `tokenmill harmony SUBCOMMAND`; encode is the one subcommand.
func cmdHarmony(args []string, stdout, stderr io.Writer) int {
	return runSubcommand("harmony", "Work with chat data in the Harmony format of GPT-OSS.", []subcommand{
		{"encode", "encode the messages of chat records as Harmony text (and token ids), as an HF dataset",
			func(args []string) int { return cmdHarmonyEncode(args, stdout, stderr) }},
	}, args, stdout, stderr)
}

// cmdHarmonyEncode implements `tokenmill harmony encode`. No job kind encodes Harmony, so
// the command is the one implementation: it shares the readers, the HF writer and the
// output's guard (outdir.Guard: the lock, the overlap and replace checks, the leftovers)
// with the job path, not a copy of them. Input records are read from their raw
// JSON, not from decoded maps, so that tool-call arguments keep their key order, which
// json.dumps (and so the encoded text) depends on. A record whose messages cannot be encoded
// stops the command with its location (exit 1): a training set must not silently lose
// trajectories. OUT_DIR is refused when it overlaps IN, and replaced (--overwrite) only when it
// holds nothing but an HF dataset's files.
func cmdHarmonyEncode(args []string, stdout, stderr io.Writer) int {
	c := newCommand("harmony encode", "[flags] IN.jsonl OUT_DIR",
		"Encode the messages of chat records in the Harmony format into an HF dataset.",
		harmonyEncodeHelp, stdout, stderr)
	fs := c.fs
	dev := fs.String("developer-instructions", "", "`TEXT` written first in every text, as developer instructions")
	tokenize := fs.Bool("tokenize", false, "add an input_ids column tokenized with "+harmonyTokenizer)
	overwrite := fs.Bool("overwrite", false, "replace an existing OUT_DIR")
	if done, code := c.parse(args); done {
		return code
	}
	switch {
	case fs.NArg() == 0:
		return c.usageError("missing IN.jsonl and OUT_DIR")
	case fs.NArg() == 1:
		return c.usageError("missing OUT_DIR")
	case fs.NArg() > 2:
		return c.usageError("unexpected argument %q: one IN.jsonl and one OUT_DIR", fs.Arg(2))
	}
	var tk *tokenizer.Tokenizer
	if *tokenize {
		var err error
		if tk, err = tokenizer.Load(harmonyTokenizer); err != nil {
			fmt.Fprintln(stderr, "tokenmill harmony encode:", err)
			return 1
		}
	}
	lock, removed, err := outdir.Guard(fs.Arg(1), []string{fs.Arg(0)}, outdir.KindHF, *overwrite)
	if len(removed) > 0 {
		fmt.Fprintf(stderr, "removed the temporary files of an earlier run that did not finish: %s\n", outdir.Describe(removed))
	}
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill harmony encode:", err)
		return 1
	}
	defer lock.Release()
	n, err := harmonyEncodeFile(fs.Arg(0), fs.Arg(1), *dev, tk, *overwrite)
	if err != nil {
		err = namedWriterErr(err, fs.Arg(1))
		fmt.Fprintln(stderr, "tokenmill harmony encode:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d records\n", fs.Arg(1), n)
	return 0
}

// harmonyEncodeFile writes the Harmony texts of in's records to the HF directory out.
// Special tokens in the text are encoded as such (AllowSpecial): the text is produced by the
// encoder, not by users, and the trainer's tokenizer matches <|endoftext|> the same way.
func harmonyEncodeFile(in, out, dev string, tk *tokenizer.Tokenizer, overwrite bool) (int64, error) {
	fields := []arrow.Field{{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true}}
	if tk != nil {
		fields = append(fields, arrow.Field{Name: "input_ids", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true})
	}
	r, err := input.Open(in, formats.Options{})
	if err != nil {
		return 0, err
	}
	defer r.Close()
	w, err := hf.CreateTable(out, arrow.NewSchema(fields, nil), hf.Options{Overwrite: overwrite})
	if err != nil {
		return 0, err
	}
	var ids []uint32
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil && rec.Raw == nil {
			err = fmt.Errorf("%s: harmony encode reads JSONL or JSON arrays", in)
		}
		if err != nil {
			w.Abort()
			return 0, err
		}
		var v struct {
			Messages *[]validate.Message `json:"messages"`
		}
		if err := json.Unmarshal(rec.Raw, &v); err != nil || v.Messages == nil {
			if err == nil {
				err = errors.New("Missing required field 'messages'")
			}
			w.Abort()
			return 0, fmt.Errorf("%s: %v", rec.Where(), err)
		}
		text, err := validate.EncodeHarmony(*v.Messages, dev)
		if err != nil {
			w.Abort()
			return 0, fmt.Errorf("%s: %v", rec.Where(), err)
		}
		row := map[string]any{"text": text}
		if tk != nil {
			ids = tk.Append(ids[:0], text, tokenizer.Options{AllowSpecial: true})
			row["input_ids"] = toInt64s(ids)
		}
		if err := w.WriteRecord(row); err != nil {
			w.Abort()
			return 0, err
		}
	}
	return w.Rows(), w.Close()
}

func toInt64s(ids []uint32) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}
