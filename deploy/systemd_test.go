package deploy

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// maxExposure is the highest overall exposure level systemd-analyze security may give a
// unit (0 is the most locked down, 10 the least; up to 2.0 it calls a unit "OK").
const maxExposure = 2.0

var units = []string{"tokenmill-coordinator.service", "tokenmill-worker.service"}

var exposureLine = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

// TestSystemdUnits_Security runs `systemd-analyze security --offline=true` on every unit and
// fails on an exposure level above maxExposure.
func TestSystemdUnits_Security(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian: apt-get install systemd): the units' security is not checked")
	}
	for _, u := range units {
		t.Run(u, func(t *testing.T) {
			out, err := exec.Command(analyze, "security", "--offline=true", filepath.Join("systemd", u)).CombinedOutput()
			if err != nil {
				t.Fatalf("systemd-analyze security %s: %v\n%s", u, err, out)
			}
			m := exposureLine.FindSubmatch(out)
			if m == nil {
				t.Fatalf("systemd-analyze security %s printed no overall exposure level:\n%s", u, out)
			}
			level, err := strconv.ParseFloat(string(m[1]), 64)
			if err != nil {
				t.Fatal(err)
			}
			if level > maxExposure {
				t.Errorf("%s: exposure level %.1f, want at most %.1f:\n%s", u, level, maxExposure, out)
			}
			t.Logf("%s: exposure level %.1f", u, level)
		})
	}
}

// unitService returns the settings of a unit's [Service] section (a key given twice keeps
// both values, in order).
func unitService(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "["):
			section = l
		case section == "[Service]":
			k, v, _ := strings.Cut(l, "=")
			out[k] = append(out[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// envFile reads KEY=VALUE lines (systemd's EnvironmentFile format without quoting).
func envFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=VALUE", path, l)
		}
		env[k] = v
	}
	return env
}

// execArgs expands ExecStart as systemd does for the forms the units use: ${NAME} is one
// argument, $NAME splits at whitespace into several.
func execArgs(t *testing.T, execStart string, env map[string]string) []string {
	t.Helper()
	var args []string
	for _, w := range strings.Fields(execStart) {
		if name, ok := strings.CutPrefix(w, "$"); ok && !strings.HasPrefix(name, "{") {
			v, ok := env[name]
			if !ok {
				t.Fatalf("ExecStart: $%s is not set", name)
			}
			args = append(args, strings.Fields(v)...)
			continue
		}
		for name, v := range env {
			w = strings.ReplaceAll(w, "${"+name+"}", v)
		}
		if strings.Contains(w, "${") {
			t.Fatalf("ExecStart: %q names a variable that is not set", w)
		}
		args = append(args, w)
	}
	return args
}

// TestSystemdUnits_Flags runs each unit's ExecStart, with the example environment file,
// through `tokenmill coordinator|worker --check-flags`, and checks that the worker's
// TimeoutStopSec outlasts its --drain-timeout and that both stop with SIGTERM.
func TestSystemdUnits_Flags(t *testing.T) {
	bin := buildTokenmill(t)
	example := envFile(t, filepath.Join("systemd", "tokenmill.env.example"))
	for _, u := range units {
		t.Run(u, func(t *testing.T) {
			svc := unitService(t, filepath.Join("systemd", u))
			if got := svc["KillSignal"]; len(got) != 1 || got[0] != "SIGTERM" {
				t.Errorf("KillSignal %q, want SIGTERM (it drains a worker and stops a coordinator cleanly)", got)
			}
			env := map[string]string{"STATE_DIRECTORY": "/var/lib/" + strings.Join(svc["StateDirectory"], "")}
			for k, v := range example {
				env[k] = v
			}
			args := execArgs(t, strings.Join(svc["ExecStart"], ""), env)
			if len(args) < 2 || filepath.Base(args[0]) != "tokenmill" {
				t.Fatalf("ExecStart %q: want the tokenmill binary and a subcommand", args)
			}
			cmd := exec.Command(bin, append([]string{args[1], "--check-flags"}, args[2:]...)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("tokenmill %s --check-flags %s: %v\n%s", args[1], strings.Join(args[2:], " "), err, stderr.String())
			}
			for _, l := range strings.Split(stdout.String(), "\n") {
				v, ok := strings.CutPrefix(l, "--drain-timeout=")
				if !ok {
					continue
				}
				drain, err := time.ParseDuration(v)
				if err != nil {
					t.Fatal(err)
				}
				stop, err := time.ParseDuration(strings.Join(svc["TimeoutStopSec"], ""))
				if err != nil {
					t.Fatalf("TimeoutStopSec: %v", err)
				}
				if stop <= drain {
					t.Errorf("TimeoutStopSec %v is not above --drain-timeout %v: systemd kills a draining worker", stop, drain)
				}
			}
		})
	}
}
