package worker

import (
	"context"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// SetShardStart makes the worker of cfg call f before each shard task executes, with the
// task's context (done when the task ends): tests slow a worker down with it. An error
// fails the attempt.
func SetShardStart(cfg *Config, f func(ctx context.Context, a *pb.Assignment) error) {
	cfg.hooks.shardStart = f
}
