package shard

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tokenmill/tokenmill/internal/atomicfile"
	"github.com/tokenmill/tokenmill/internal/outdir"
	"github.com/tokenmill/tokenmill/job"
)

// CheckOutput refuses an output directory that overlaps the job's inputs, and an existing
// one that is not a previous tokenmill output or, without overwrite, one that is (see
// outdir.Check). A directory holding nothing but the staging area (.staging) does not count
// as an output. The inputs checked are the listed files (inputs) and the spec's absolute
// input paths: relative ones are resolved by the caller that knows their base directory
// (runner.Run checks them before it starts).
func CheckOutput(spec *job.Spec, outDir string, inputs []Input, overwrite bool) error {
	return outdir.Check(outDir, inputPaths(spec, inputs), outdir.KindJob, overwrite)
}

// inputPaths are the paths CheckOutput compares the output with.
func inputPaths(spec *job.Spec, inputs []Input) []string {
	var paths []string
	for _, in := range spec.Inputs {
		if filepath.IsAbs(in.Path) {
			paths = append(paths, in.Path)
		}
	}
	for _, in := range inputs {
		paths = append(paths, in.Path)
	}
	return paths
}

// tempSibling names a hidden directory beside out: .<base>.<kind>-<id>, id being the job's
// name or FinalizeEnv.TempID.
func tempSibling(out, kind, id string) string {
	return outdir.TempPath(out, kind, id)
}

// namedOutput rewrites an error of a job's finalize that names one of the temporary
// directories beside out to name out, the directory the user gave.
func namedOutput(err error, out, tempID string) error {
	return outdir.NameOutput(err, out, tempSibling(out, "tmp", tempID), tempSibling(out, "old", tempID))
}

// publish renames the finished tmp directory to env.OutDir. An existing output (an older
// output, or only the staging area) is first checked again (CheckOutput: a file may have
// appeared in it during the run), moved aside and removed once the new one is in place, so a
// reader sees either the old complete output or the new one, never a mix.
func publish(tmp string, spec *job.Spec, env FinalizeEnv) error {
	out := env.OutDir
	if err := CheckOutput(spec, out, env.Inputs, env.Overwrite); err != nil {
		return err
	}
	if err := atomicfile.ReplaceDir(tmp, out, tempSibling(out, "old", env.tempID(spec.Name))); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

func removeIfEmpty(dir string) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
		os.Remove(dir)
	}
}

// writeJSON writes v as indented JSON to path and syncs it.
func writeJSON(path string, v any) error {
	b, err := encodeJSON(v)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b)
}

// concatRejects writes the shards' rejects, in shard order, to path, adding shifts[i] to the
// line numbers of shard i (see lines.go).
func concatRejects(rs []Result, shifts []int64, staging, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	for i, r := range rs {
		if err := copyStaged(bw, staging, r.Rejects, r.source(), shifts[i]); err != nil {
			return fmt.Errorf("finalize: shard %s: %w", r.Shard, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// copyStaged copies a staged rejects file to w, checking it, with its line numbers (of
// source) shifted by shift.
func copyStaged(w io.Writer, staging string, ref FileRef, source string, shift int64) error {
	if ref.Name == "" && ref.Bytes == 0 { // the shard rejected nothing
		return nil
	}
	f, err := openStaged(staging, ref)
	if err != nil {
		return err
	}
	defer f.Close()
	hr := newCheckingReader(f)
	if shift == 0 {
		_, err = io.Copy(w, hr)
	} else {
		err = copyShiftedRejects(w, hr, source, shift)
	}
	if err != nil {
		return err
	}
	return hr.check(ref)
}

// checkRejects fails the job when the rejected fraction exceeds max_reject_fraction, quoting
// the first few rejects.
func checkRejects(spec *job.Spec, m *Manifest, rs []Result, shifts []int64, staging string) error {
	d := m.Documents
	if d.Read == 0 || float64(d.Rejected)/float64(d.Read) <= spec.MaxRejectFraction {
		return nil
	}
	var first []string
	for i, r := range rs {
		if r.Rejects.Bytes == 0 || len(first) >= 3 {
			continue
		}
		prefix, _ := rejectLinePrefix(r.source())
		if f, err := openStaged(staging, r.Rejects); err == nil {
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for len(first) < 3 && sc.Scan() {
				line := sc.Bytes()
				if shifts[i] != 0 {
					if shifted, err := shiftRejectLine(nil, line, prefix, shifts[i]); err == nil {
						line = shifted
					}
				}
				first = append(first, truncate(string(line), 300))
			}
			f.Close()
		}
	}
	return fmt.Errorf("%d of %d records rejected (%.4g%%), more than max_reject_fraction %g; first rejects:\n  %s",
		d.Rejected, d.Read, 100*float64(d.Rejected)/float64(d.Read), spec.MaxRejectFraction, strings.Join(first, "\n  "))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// writeMetaAndPublish writes run.json (when the run gives one) and then manifest.json, last of
// all the outputs, into tmp, and publishes tmp as the job's output directory.
func writeMetaAndPublish(tmp string, spec *job.Spec, env FinalizeEnv, manifest any) error {
	if env.RunInfo != nil {
		if err := writeJSON(filepath.Join(tmp, "run.json"), env.RunInfo); err != nil {
			return err
		}
	}
	if err := writeJSON(filepath.Join(tmp, "manifest.json"), manifest); err != nil {
		return err
	}
	return publish(tmp, spec, env)
}
