package main

import (
	"strings"
	"testing"
)

// TestNodeCommands_CheckFlags runs `tokenmill coordinator|worker --check-flags ...`: the flags
// are parsed and checked as for a real start, their values printed, and no node starts.
func TestNodeCommands_CheckFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // lines that must be printed
		stderr   string   // substring of the usage error
		noStdout bool
	}{
		{name: "coordinator",
			args: []string{"coordinator", "--check-flags", "--id", "c1", "--data-dir", "/var/lib/tm", "--bind", "0.0.0.0",
				"--advertise", "10.0.0.7", "--bootstrap-expect", "3", "--join", "a:7002", "--join", "b:7002", "--http-port", "7003"},
			stdout: []string{"--id=c1", "--data-dir=/var/lib/tm", "--bind=0.0.0.0", "--advertise=10.0.0.7",
				"--bootstrap-expect=3", "--join=a:7002", "--join=b:7002", "--http-port=7003", "--grpc-port=7000", "--raft-port=7001"}},
		{name: "worker",
			args: []string{"worker", "--id=w1", "--data-dir=/tmp/w", "--bind=127.0.0.1", "--join=c:7002",
				"--slots=4", "--tag=gpu=h100", "--drain-timeout=2m", "--check-flags"},
			stdout: []string{"--id=w1", "--slots=4", "--tag=gpu=h100", "--drain-timeout=2m0s", "--gossip-port=7102"}},
		{name: "unknown flag", code: exitUsage, noStdout: true,
			args:   []string{"coordinator", "--check-flags", "--id=c1", "--data-dir=d", "--bind=127.0.0.1", "--bootstrap-expect=3", "--advertize=1.2.3.4"},
			stderr: "tokenmill coordinator: unknown flag --advertize"},
		{name: "missing required flag", code: exitUsage, noStdout: true,
			args:   []string{"coordinator", "--check-flags", "--id=", "--data-dir=d", "--bind=127.0.0.1", "--bootstrap-expect=3"},
			stderr: "tokenmill coordinator: missing --id"},
		{name: "bad value", code: exitUsage, noStdout: true,
			args:   []string{"worker", "--check-flags", "--id=w1", "--data-dir=d", "--bind=127.0.0.1", "--join=c:7002", "--slots=four"},
			stderr: "tokenmill worker: --slots: invalid value"},
		{name: "bad tag", code: exitUsage, noStdout: true,
			args:   []string{"worker", "--check-flags", "--id=w1", "--data-dir=d", "--bind=127.0.0.1", "--join=c:7002", "--tag=gpu"},
			stderr: `tokenmill worker: --tag: tag "gpu": want key=value`},
		{name: "advertise not an IP address", code: exitUsage, noStdout: true,
			args:   []string{"worker", "--id=w1", "--data-dir=d", "--bind=0.0.0.0", "--join=c:7002", "--advertise=w1"},
			stderr: `tokenmill worker: advertise address "w1": want the IP address other nodes reach this one at`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBinary(t, t.TempDir(), "", tt.args...)
			if r.Code != tt.code {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", r.Code, tt.code, r.Stdout, r.Stderr)
			}
			lines := strings.Split(r.Stdout, "\n")
			for _, want := range tt.stdout {
				if !containsLine(lines, want) {
					t.Errorf("stdout lacks the line %q:\n%s", want, r.Stdout)
				}
			}
			if tt.noStdout && r.Stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.Stdout)
			}
			if !strings.Contains(r.Stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.Stderr, tt.stderr)
			}
			if tt.code == 0 && strings.Contains(r.Stdout, "check-flags") {
				t.Errorf("stdout lists --check-flags itself:\n%s", r.Stdout)
			}
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
