package members

import (
	"bytes"
	"context"
	"log/slog"
)

// logWriter passes memberlist's log lines ("[LEVEL] memberlist: message") to a slog.Logger
// at the line's level, without the level and package prefixes.
type logWriter struct{ log *slog.Logger }

var levels = []struct {
	tag   []byte
	level slog.Level
}{
	{[]byte("[DEBUG]"), slog.LevelDebug},
	{[]byte("[INFO]"), slog.LevelInfo},
	{[]byte("[WARN]"), slog.LevelWarn},
	{[]byte("[ERR]"), slog.LevelError},
	{[]byte("[ERROR]"), slog.LevelError},
}

func (w *logWriter) Write(p []byte) (int, error) {
	if w.log == nil {
		return len(p), nil
	}
	line := bytes.TrimSpace(p)
	level := slog.LevelInfo
	for _, l := range levels {
		if i := bytes.Index(line, l.tag); i >= 0 {
			level = l.level
			line = bytes.TrimSpace(line[i+len(l.tag):])
			break
		}
	}
	line = bytes.TrimPrefix(line, []byte("memberlist: "))
	w.log.Log(context.Background(), level, string(line))
	return len(p), nil
}
