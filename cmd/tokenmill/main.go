// Command tokenmill turns raw text corpora into training-ready token data.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: tokenmill COMMAND [ARGS]

commands:
  run         run a job: read, validate, tokenize, pack into length buckets (run JOB.yaml)
  tokenize    encode JSONL documents into token ids, one {"ids":[...]} line per input line
  tokenizer   inspect a tokenizer (tokenizer info NAME|PATH)
  validate    check datasets of a training stage against the data formats document
  convert     convert JSON, JSONL, Parquet, CSV to HF save_to_disk, JSONL or Parquet
  harmony     encode chat messages in the Harmony format (harmony encode IN OUT_DIR)
  check-lora  flag LoRA target_modules that miss MoE expert layers
  inspect     show columns, counts, the first example and its decoded tokens (inspect PATH)
  clean       remove the temporary files that killed runs left beside an output (clean OUT)
  version     print the version and commit tokenmill was built from

cluster:
  coordinator  run a coordinator (a raft node that schedules jobs onto workers)
  worker       run a worker (runs the tasks the coordinators lease to it)
  dev          run a one-coordinator, one-worker cluster in this process, on loopback
  job          submit, follow, list and cancel jobs on a cluster (job submit JOB.yaml --wait)
  members      list the cluster's coordinators and workers
  operator     operate the coordinators' raft cluster (operator raft list-peers)
  keygen       print a new gossip encryption key (for --gossip-key-file)
  health       check a coordinator's or worker's /healthz (for container health checks)

Run 'tokenmill COMMAND --help' for a command's flags.
`

// run dispatches a subcommand and returns the process exit status; it holds no global state so
// that tests can call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "tokenize":
		return cmdTokenize(args[1:], stdin, stdout, stderr)
	case "tokenizer":
		return cmdTokenizer(args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "check-lora":
		return cmdCheckLoRA(args[1:], stdout, stderr)
	case "convert":
		return cmdConvert(args[1:], stdout, stderr)
	case "harmony":
		return cmdHarmony(args[1:], stdout, stderr)
	case "inspect":
		return cmdInspect(args[1:], stdout, stderr)
	case "clean":
		return cmdClean(args[1:], stdout, stderr)
	case "coordinator":
		return cmdCoordinator(args[1:], stdout, stderr)
	case "worker":
		return cmdWorker(args[1:], stdout, stderr)
	case "dev":
		return cmdDev(args[1:], stdout, stderr)
	case "job":
		return cmdJob(args[1:], stdout, stderr)
	case "members":
		return cmdMembers(args[1:], stdout, stderr)
	case "operator":
		return cmdOperator(args[1:], stdout, stderr)
	case "keygen":
		return cmdKeygen(args[1:], stdout, stderr)
	case "health":
		return cmdHealth(args[1:], stdout, stderr)
	case "version", "--version":
		return cmdVersion(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		what := fmt.Sprintf("command %q", args[0])
		if strings.HasPrefix(args[0], "-") {
			what = "flag " + args[0]
		}
		fmt.Fprintf(stderr, "tokenmill: unknown %s\nRun 'tokenmill --help' for usage.\n", what)
		return exitUsage
	}
}
