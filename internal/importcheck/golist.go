package importcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// List runs `go list -json ./...` in dir (the module's root) with the go command goCmd and
// returns the module path and its packages with their imports.
func List(goCmd, dir string) (module string, pkgs []Package, err error) {
	mod, err := run(goCmd, dir, "list", "-m")
	if err != nil {
		return "", nil, err
	}
	out, err := run(goCmd, dir, "list", "-json", "./...")
	if err != nil {
		return "", nil, err
	}
	pkgs, err = decodePackages(out)
	return strings.TrimSpace(string(mod)), pkgs, err
}

// decodePackages decodes the stream of JSON objects that `go list -json` prints.
func decodePackages(b []byte) ([]Package, error) {
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var p Package
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			return pkgs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decoding go list -json: %w", err)
		}
		pkgs = append(pkgs, p)
	}
}

func run(goCmd, dir string, args ...string) ([]byte, error) {
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w\n%s", goCmd, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}
