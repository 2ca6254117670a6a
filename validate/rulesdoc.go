package validate

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
)

//go:generate go run ./internal/rulesdoc ../docs/validation-rules.md

// WriteRules writes the rules of each stage as text for a terminal (`tokenmill validate
// --rules`): a heading per stage, then per rule its id and field, what it checks, and its
// message.
func WriteRules(w io.Writer, stages []Stage) error {
	var b bytes.Buffer
	for i, st := range stages {
		if i > 0 {
			b.WriteString("\n")
		}
		info := stageInfo(st)
		fmt.Fprintf(&b, "stage %s: %s, in %s; a record holds %s\n", st, info.Name, info.Dir, info.Fields)
		for _, r := range StageRules(st) {
			field := r.Field
			if field == "" {
				field = "(the record)"
			}
			fmt.Fprintf(&b, "\n  %s  %s\n      checks:  %s\n      message: %s", r.ID, field, r.Check, r.Message)
			if r.Source != "" {
				fmt.Fprintf(&b, "  (the %s's words)", r.Source)
			}
			b.WriteString("\n")
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// stageInfo returns the overview entry of stage (the zero StageInfo with Stage set when it has
// none).
func stageInfo(st Stage) StageInfo {
	for _, in := range StageInfos() {
		if in.Stage == st {
			return in
		}
	}
	return StageInfo{Stage: st}
}

// RulesMarkdown renders the whole rule table as the page docs/validation-rules.md: an
// overview of the stages, a table of rules per stage, and the rules of check-lora.
func RulesMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString(`# Validation rules

<!-- Generated from the rule table of the validate package (validate/rules.go) by
     "make rules-doc"; do not edit by hand. -->

` + "`tokenmill validate --stage STAGE PATH...`" + ` checks every record of a dataset against the rules
of its stage, as the data formats document of the training pipeline describes the stage. A
record that breaks a rule gets an issue: the field at fault (a path such as
` + "`messages[2].role`" + `, empty for the record as a whole) and a message. A record with at least one
issue is invalid; the report counts records, invalid ones and issues per message, and lists
the first issues with their file and line (or row).

The messages are the data formats document's words where it has words for the rule (marked
*document*), or those of the pipeline's ` + "`validate_harmony_format`" + ` (*pipeline*); the other
messages are tokenmill's own, in the same style. In a message or field, ` + "`<f>`" + `, ` + "`<i>`" + `,
` + "`<n>`" + ` and the like stand for the value filled in: a field name, an index, a token id.
Each rule has an example: a record that breaks it (it may break others too).

` + "`tokenmill validate --rules`" + ` prints these rules (` + "`--stage STAGE`" + ` for one stage).

## Stages

| stage | data formats document | data | a record holds | rules |
| --- | --- | --- | --- | --- |
`)
	for _, in := range StageInfos() {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | `%s` | %s | %d |\n", in.Stage, in.Stage, in.Name, in.Dir,
			mdText(in.Fields), len(StageRules(in.Stage)))
	}
	for _, in := range StageInfos() {
		fmt.Fprintf(&b, "\n## %s\n\n%s: records in `%s` hold %s.\n\n", in.Stage, in.Name, in.Dir, mdText(in.Fields))
		writeRuleTable(&b, StageRules(in.Stage))
	}
	b.WriteString("\n## check-lora\n\n`tokenmill check-lora CONFIG.yaml...` checks the LoRA section of a training config\n" +
		"(the examples are configs as JSON).\n\n")
	writeRuleTable(&b, LoRAConfigRules())
	return b.Bytes()
}

// writeRuleTable writes rules as one Markdown table.
func writeRuleTable(b *bytes.Buffer, rules []Rule) {
	b.WriteString("| rule | field | checks | message | words | example |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rules {
		field := "(record)"
		if r.Field != "" {
			field = mdCode(r.Field)
		}
		example := mdCode(r.Example)
		if r.SeqLen > 0 {
			example += fmt.Sprintf(" in `train_%d/`", r.SeqLen)
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s |\n", r.ID, field, mdText(r.Check), mdCode(r.Message), r.Source, example)
	}
}

// mdCode renders s as a code span inside a Markdown table cell.
func mdCode(s string) string { return "`" + strings.ReplaceAll(s, "|", `\|`) + "`" }

// mdText renders prose for a Markdown table cell: Harmony tokens (and <|...|>) as code spans,
// other pipes escaped and angle brackets as entities.
func mdText(s string) string {
	esc := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")
	var b strings.Builder
	last := 0
	for _, loc := range tokenLike.FindAllStringIndex(s, -1) {
		b.WriteString(esc.Replace(s[last:loc[0]]))
		b.WriteString(mdCode(s[loc[0]:loc[1]]))
		last = loc[1]
	}
	b.WriteString(esc.Replace(s[last:]))
	return b.String()
}

// tokenLike matches a Harmony token, or the <|...|> that stands for any, in prose.
var tokenLike = regexp.MustCompile(`<\|/?(?:[A-Za-z_][A-Za-z0-9_]*|\.\.\.)\|>`)
