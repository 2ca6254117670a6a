#!/usr/bin/env bash
# Generates the Go code of proto/tokenmill/v1/*.proto (`make proto`), or checks that the
# committed code is what generation makes (`make proto-check`, part of `make lint`).
#
# Usage: scripts/proto.sh [--check]
#
# The generators are pinned: protoc is Debian's protobuf-compiler (PROTOC_VERSION below; its
# version is written into every .pb.go), protoc-gen-go and protoc-gen-go-grpc are built from
# the module versions in go.mod (internal/tools pins them) into a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC_VERSION="libprotoc 3.21.12"
GO=${GO:-go}
check=false
if [ "${1:-}" = "--check" ]; then check=true; fi

if ! command -v protoc >/dev/null; then
  echo "proto: protoc not found; install Debian's protobuf-compiler (apt-get install protobuf-compiler)" >&2
  exit 1
fi
if [ "$(protoc --version)" != "$PROTOC_VERSION" ]; then
  echo "proto: protoc is '$(protoc --version)', the committed code was made by '$PROTOC_VERSION'" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$GO build -o "$tmp/bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
$GO build -o "$tmp/bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc

out=proto
if $check; then out="$tmp/out"; mkdir -p "$out"; fi
protoc -I proto \
  --plugin=protoc-gen-go="$tmp/bin/protoc-gen-go" --go_out="$out" --go_opt=paths=source_relative \
  --plugin=protoc-gen-go-grpc="$tmp/bin/protoc-gen-go-grpc" --go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
  proto/tokenmill/v1/*.proto

if $check; then
  if ! diff -r -u proto/tokenmill/v1 "$out/tokenmill/v1" -x '*.proto' -x doc.go >"$tmp/diff"; then
    cat "$tmp/diff"
    echo "proto: the generated code under proto/tokenmill/v1 is not what 'make proto' makes; run make proto and commit" >&2
    exit 1
  fi
fi
