package auth_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/auth"
	"github.com/tokenmill/tokenmill/internal/auth/authtest"
)

func TestRoots_Check(t *testing.T) {
	base := t.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(root, "data", "sub"), filepath.Join(outside, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "data", "a.jsonl"), nil, 0o644)
	os.WriteFile(filepath.Join(outside, "secret.jsonl"), nil, 0o644)
	links := map[string]string{
		"root/out":        outside,                                // a directory out
		"root/file":       filepath.Join(outside, "secret.jsonl"), // a file out
		"root/in":         filepath.Join(root, "data"),            // a link that stays inside
		"root/data/deep":  filepath.Join(outside, "sub"),          // dir/link/.. is outside/, not root/data
		"root/data/loose": filepath.Join(base, "root-sibling"),    // a dangling link out
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := auth.NewRoots([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		ok   bool
	}{
		{root, true},
		{root + "/data/a.jsonl", true},
		{root + "/data/new/out", true}, // not yet existing, inside
		{root + "/data/*.jsonl", true}, // a glob
		{root + "/in/a.jsonl", true},
		{root + "/data/../data/a.jsonl", true},
		{root + "/../outside/secret.jsonl", false},
		{root + "/../root-other", false},
		{outside + "/secret.jsonl", false},
		{"/etc/passwd", false},
		{root + "/out/secret.jsonl", false},
		{root + "/out/new/dir", false},
		{root + "/file", false},
		{root + "/data/deep/../secret.jsonl", false},
		{root + "/data/loose/x", false},
		{"relative/path", false},
	}
	for _, tt := range tests {
		err := r.Check(tt.path)
		if (err == nil) != tt.ok {
			t.Errorf("Check(%s) = %v, want ok %v", tt.path, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), tt.path) {
			t.Errorf("Check(%s): the error %q does not name the path", tt.path, err)
		}
	}
	if err := (auth.Roots{}).Check("/etc/passwd"); err != nil {
		t.Errorf("no roots: %v", err)
	}
	if _, err := auth.NewRoots([]string{filepath.Join(base, "missing")}); err == nil {
		t.Error("a missing root was accepted")
	}
}

func TestGossipKey(t *testing.T) {
	dir := t.TempDir()
	k := auth.NewGossipKey()
	if b, err := base64.StdEncoding.DecodeString(k); err != nil || len(b) != 32 {
		t.Fatalf("NewGossipKey = %q (%d bytes, %v)", k, len(b), err)
	}
	if k == auth.NewGossipKey() {
		t.Error("two keys are equal")
	}
	tests := []struct {
		name, content, wantErr string
	}{
		{"good", k + "\n", ""},
		{"short", base64.StdEncoding.EncodeToString(make([]byte, 16)), "16 bytes, want 32"},
		{"not base64", "not a key!", "not base64"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		os.WriteFile(path, []byte(tt.content), 0o600)
		_, err := auth.ReadGossipKey(path)
		if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestLoadTLS(t *testing.T) {
	pki := authtest.New(t, t.TempDir())
	tests := []struct {
		name    string
		files   auth.TLSFiles
		role    auth.Role
		wantErr string
	}{
		{"coordinator", pki.Coordinator, auth.RoleCoordinator, ""},
		{"worker", pki.Worker, auth.RoleWorker, ""},
		{"person", pki.Person, auth.RolePerson, ""},
		{"no key", auth.TLSFiles{Cert: pki.Person.Cert, CA: pki.CA}, 0, "missing [--tls-key]"},
		{"no CA", auth.TLSFiles{Cert: pki.Person.Cert, Key: pki.Person.Key}, 0, "missing [--tls-ca]"},
		{"key of another certificate", auth.TLSFiles{Cert: pki.Person.Cert, Key: pki.Worker.Key, CA: pki.CA}, 0, "private key does not match"},
		{"CA not PEM", auth.TLSFiles{Cert: pki.Person.Cert, Key: pki.Person.Key, CA: pki.Person.Key}, 0, "no PEM certificate"},
	}
	for _, tt := range tests {
		c, err := auth.LoadTLS(tt.files)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.wantErr)
		case err == nil && c.Role() != tt.role:
			t.Errorf("%s: role %s, want %s", tt.name, c.Role(), tt.role)
		}
	}
}

func TestPolicy_Validate(t *testing.T) {
	tests := []struct {
		name    string
		p       auth.Policy
		wantErr string
	}{
		{"off", auth.Policy{}, ""},
		{"tokens", auth.Policy{PersonToken: []byte("a"), WorkerToken: []byte("b")}, ""},
		{"TLS and a person token", auth.Policy{TLS: true, PersonToken: []byte("a")}, ""},
		{"the same token", auth.Policy{PersonToken: []byte("a"), WorkerToken: []byte("a")}, "must differ"},
		{"a person token alone", auth.Policy{PersonToken: []byte("a")}, "needs --worker-token-file"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
