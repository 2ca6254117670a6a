# tokenmill — make help lists the targets.
GO        ?= go
BIN       ?= bin/tokenmill
PKGS      ?= ./...
export CGO_ENABLED ?= 0

.PHONY: help build test bench demo lint fmt vet fuzz clean proto proto-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build the tokenmill binary into bin/
	$(GO) build -trimpath -o $(BIN) ./cmd/tokenmill

test: ## run every test (golden, round-trip, pathological, pipeline)
	$(GO) test -count=1 -timeout 30m $(PKGS)

bench: build ## benchmark the tokenizer (and pkoukk/tiktoken-go side by side) and tokenmill run end to end on the Go-source corpus
	./scripts/bench.sh

demo: build ## run the main job on the bundled sample corpus
	./scripts/demo.sh

lint: fmt vet proto-check ## gofmt + go vet + generated protobuf code is current

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

proto: ## regenerate the protobuf and gRPC code under proto/ (Debian's protoc, plugins at go.mod's versions)
	./scripts/proto.sh

proto-check:
	./scripts/proto.sh --check

FUZZTIME ?= 60s
fuzz: ## run the fuzz targets (tokenizer, JSON field extraction, input readers, validators) for FUZZTIME each
	$(GO) test ./tokenizer -run '^$$' -fuzz '^FuzzRoundTrip$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./tokenizer -run '^$$' -fuzz '^FuzzEncodeAny$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./tokenizer -run '^$$' -fuzz '^FuzzScannerMatchesRegex$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./tokenizer -run '^$$' -fuzz '^FuzzHFJSONString$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./formats -run '^$$' -fuzz '^FuzzExtractString$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./formats -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./validate -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s

clean:
	rm -rf bin
