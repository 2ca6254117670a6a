package worker

import (
	"os"
	"path/filepath"

	"github.com/tokenmill/tokenmill/job"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// startCleanup runs a cleanup order in the background, unless the worker already runs one
// for the job: the heartbeats list it as cleaning while it runs, then as cleaned until a
// heartbeat is answered.
func (w *Worker) startCleanup(o *pb.CleanupOrder) {
	w.mu.Lock()
	if w.cleaning[o.JobId] || w.stopped {
		w.mu.Unlock()
		return
	}
	w.cleaning[o.JobId] = true
	w.tasks.Add(1)
	w.mu.Unlock()
	go func() {
		defer w.tasks.Done()
		err := cleanJob(o)
		w.mu.Lock()
		delete(w.cleaning, o.JobId)
		if err == nil {
			w.cleaned = append(w.cleaned, o.JobId)
		}
		w.mu.Unlock()
		if err != nil {
			w.log.Warn("removing the staged files of a job that did not succeed", "job", o.JobId, "err", err)
			return
		}
		w.log.Info("removed the staged files of a job that did not succeed", "job", o.JobId)
		w.kick()
	}()
}

// cleanJob removes what a failed or canceled job left under and beside its output
// directory: its staging area (and the staging directory, when no other job stages there)
// and its finalize attempts' temporary directories. What another job wrote is not touched.
func cleanJob(o *pb.CleanupOrder) error {
	spec, err := job.Parse(o.JobSpec)
	if err != nil {
		return err
	}
	root := stagingRoot(spec, o.JobId)
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	removeIfEmpty(filepath.Dir(root))
	removeStaleTemps(spec.Output.Dir, "tmp", o.JobId, "")
	removeStaleTemps(spec.Output.Dir, "old", o.JobId, "")
	return nil
}

// pruneStaging removes the directories of a shard's staging that a stopped or refused
// attempt left empty: the shard's, the job's staging root and the staging directory. A
// cleanup of the job may have run while the attempt staged.
func pruneStaging(root, shardID string) {
	removeIfEmpty(filepath.Join(root, shardID))
	removeIfEmpty(root)
	removeIfEmpty(filepath.Dir(root))
}
