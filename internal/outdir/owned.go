package outdir

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Names that every job output directory may hold besides what its manifest lists.
const (
	ManifestName = "manifest.json"
	RunInfoName  = "run.json"
)

// manifestShape is what outdir reads of a manifest.json to decide whether tokenmill wrote it
// and which outputs it lists: the pretraining manifest lists its buckets' paths and its
// rejects file, the validate and convert manifest its outputs.
type manifestShape struct {
	FormatVersion  *int            `json:"format_version"`
	Job            json.RawMessage `json:"job"`
	JobFingerprint string          `json:"job_fingerprint"`
	Buckets        []struct {
		Paths []string `json:"paths"`
	} `json:"buckets"`
	Rejects *struct {
		Path string `json:"path"`
	} `json:"rejects"`
	Outputs []string `json:"outputs"`
}

// hfFile matches the files of an HF save_to_disk directory as tokenmill writes them.
var hfFile = regexp.MustCompile(`^(data-[0-9]{5}-of-[0-9]{5}\.arrow|state\.json|dataset_info\.json)$`)

// checkJobDir refuses a job output directory that tokenmill did not write all of.
func checkJobDir(out string, entries []os.DirEntry) error {
	listed, err := readManifest(out, entries)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == ManifestName || name == RunInfoName || name == StagingName:
		case !listed[name]:
			return strayError(out, filepath.Join(out, name))
		case e.IsDir():
			// A listed directory is an HF dataset (a bucket, or a convert job's output).
			sub, err := os.ReadDir(filepath.Join(out, name))
			if err != nil {
				return fmt.Errorf("output %s: %w", out, err)
			}
			for _, s := range sub {
				if s.IsDir() || !hfFile.MatchString(s.Name()) {
					return strayError(out, filepath.Join(out, name, s.Name()))
				}
			}
		}
	}
	return nil
}

func strayError(out, stray string) error {
	return fmt.Errorf("output %s holds %s, which tokenmill did not write; refusing to replace the directory (move that file away or choose another output)", out, stray)
}

// readManifest reads out's manifest.json and returns the entry names it lists as outputs;
// it refuses a directory without one or with one tokenmill did not write.
func readManifest(out string, entries []os.DirEntry) (map[string]bool, error) {
	path := filepath.Join(out, ManifestName)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("output %s is not a tokenmill output (it holds %s and no %s); refusing to replace it: choose another output",
			out, filepath.Join(out, firstEntry(entries)), ManifestName)
	}
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", out, err)
	}
	var m manifestShape
	if err := json.Unmarshal(b, &m); err != nil || m.FormatVersion == nil || m.JobFingerprint == "" ||
		!strings.HasPrefix(strings.TrimSpace(string(m.Job)), "{") {
		return nil, fmt.Errorf("output %s: %s is not a tokenmill manifest; refusing to replace the directory: choose another output", out, path)
	}
	listed := map[string]bool{}
	add := func(p string) {
		if p != "" && filepath.IsLocal(p) && !strings.ContainsRune(filepath.Clean(p), filepath.Separator) {
			listed[filepath.Clean(p)] = true
		}
	}
	for _, bk := range m.Buckets {
		for _, p := range bk.Paths {
			add(p)
		}
	}
	if m.Rejects != nil {
		add(m.Rejects.Path)
	}
	for _, p := range m.Outputs {
		add(p)
	}
	return listed, nil
}

// firstEntry names the first entry of a directory other than the staging area.
func firstEntry(entries []os.DirEntry) string {
	for _, e := range entries {
		if e.Name() != StagingName {
			return e.Name()
		}
	}
	return ""
}

// checkHFDir refuses a directory that holds anything but the files of an HF dataset.
func checkHFDir(out string, entries []os.DirEntry) error {
	for _, e := range entries {
		if e.IsDir() || !hfFile.MatchString(e.Name()) {
			return fmt.Errorf("output %s holds %s, which is not part of a dataset tokenmill writes; refusing to replace the directory (move that file away or choose another output)",
				out, filepath.Join(out, e.Name()))
		}
	}
	return nil
}
