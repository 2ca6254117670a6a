// Package job defines a tokenmill job specification: what to read, how to tokenize and pack it,
// and where and how to write the result.
//
// A spec is written in YAML (see Spec for every key), decoded strictly by Decode or Parse (unknown
// keys, duplicate keys, wrong types and missing values are refused with an error that names the
// key, e.g. "output.dtype: ..." or "sequence_lengths[1]: must be > 0"), completed with the
// defaults of DefaultSpec, and checked by Validate. The same keys can be set from command-line
// flags through Spec.Set, or through BindFlags and Overrides. Load does what the CLI needs in
// one call: read a job file, make its relative paths absolute against the file's directory
// (ResolvePaths) and those of the flags against the current directory, validate, and name the
// file and line in every error ("job.yaml:5: sequence_lengths[0]: must be > 0, got 0").
// CanonicalJSON gives the deterministic form recorded in the job's manifest (with the paths as
// the run saw them: absolute when the spec came through Load); Parse accepts it back, since
// JSON is YAML.
//
// Kinds: a spec's kind key (Spec.Kind) is pretrain (the default: tokenize and pack), validate
// (check every record against one stage of the data formats document and write a report) or
// convert (rewrite the records as an HF dataset, JSONL or Parquet). All kinds share the planner
// and the shard executor. A validate or convert spec refuses the pretraining keys
// (sequence_lengths, eos, output.formats, ...) with an error naming the key instead of ignoring
// them, needs an explicit output.dir (no data/packed default), and its canonical JSON holds
// only the keys of its kind; a pretrain spec's canonical JSON has no kind key, so pretraining
// fingerprints are unchanged by the addition of kinds. See KindKeys.
//
// Concurrency: the package holds no global mutable state. A Spec is a plain value: safe to read
// from many goroutines, not safe to mutate concurrently. Decoding, validating and encoding are
// pure functions of their arguments.
package job
