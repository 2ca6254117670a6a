# tokenmill — make help lists the targets.
GO        ?= go
BIN       ?= bin/tokenmill
PKGS      ?= ./...
export CGO_ENABLED ?= 0

.PHONY: help build test soak bench demo lint fmt vet imports proto proto-check fuzz rules-doc clean image cluster-up cluster-down e2e

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build the tokenmill binary into bin/
	$(GO) build -trimpath -buildvcs=auto -o $(BIN) ./cmd/tokenmill

# go test -json goes through scripts/testsummary.go, which prints what go test prints (the ok and
# FAIL lines, failed tests' output) and, at the end, the tests that skipped and why (NumPy
# missing, ...); the target exits with go test's status.
test: ## run every test (golden, round-trip, pathological, pipeline); lists the skipped tests
	@rc=$$(mktemp); \
	{ $(GO) test -count=1 -timeout 30m -json $(PKGS); echo $$? > $$rc; } | $(GO) run scripts/testsummary.go; \
	status=$$(cat $$rc); rm -f $$rc; exit $$status

# The soak test (cmd/tokenmill TestSoak_ChaosCluster): 3 coordinators and 4 workers as processes
# on loopback, jobs of every kind submitted for SOAK_DURATION under seeded chaos; `make test` runs
# it for 30 s. SOAK_SEED replays a run's chaos (a failing run prints the command).
SOAK_DURATION ?= 10m
soak: ## the soak test for SOAK_DURATION (default 10m): kills, leader kills and pauses while jobs run; prints its summary
	SOAK_DURATION=$(SOAK_DURATION) $(if $(SOAK_SEED),SOAK_SEED=$(SOAK_SEED)) $(GO) test -count=1 -v -timeout 0 -run '^TestSoak_ChaosCluster$$' ./cmd/tokenmill

IMAGE    ?= tokenmill:dev
CA_CERTS ?= /etc/ssl/certs/ca-certificates.crt

# The image's build context is bin/image: the static binary, the host's CA certificates and the
# two empty directories the Dockerfile copies; nothing else of the checkout is sent.
image: ## build the container image $(IMAGE) (FROM scratch: the static binary and the host's CA certificates)
	rm -rf bin/image && mkdir -p bin/image/data bin/image/tmp
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/image/tokenmill ./cmd/tokenmill
	cp $(CA_CERTS) bin/image/ca-certificates.crt
	docker build -q -t $(IMAGE) -f deploy/Dockerfile bin/image

# The compose cluster: 3 coordinators (gRPC on 127.0.0.1:7010, 7020, 7030) and WORKERS workers;
# SHARED is bind-mounted at the same absolute path in every container.
WORKERS ?= 2
SHARED  ?= $(abspath deploy/shared)
COMPOSE  = TOKENMILL_IMAGE=$(IMAGE) TOKENMILL_SHARED=$(SHARED) docker-compose -p tokenmill -f deploy/compose.yaml

cluster-up: image ## start the compose cluster (3 coordinators, WORKERS workers, SHARED shared); waits until it is healthy
	install -d -m 0777 $(SHARED)
	$(COMPOSE) up -d --scale worker=$(WORKERS)
	WORKERS=$(WORKERS) ./scripts/cluster-wait.sh

cluster-down: ## stop the compose cluster and remove its containers, network and volumes
	$(COMPOSE) down -v --remove-orphans

e2e: image ## chaos end to end on the compose cluster (leader killed, workers killed, cut off and scaled, every coordinator restarted)
	./scripts/e2e.sh

bench: build ## benchmark the tokenizer (and pkoukk/tiktoken-go side by side) and tokenmill run end to end on the Go-source corpus
	./scripts/bench.sh

demo: build ## run the main job on the bundled sample corpus
	./scripts/demo.sh

lint: fmt vet imports proto-check ## gofmt + go vet + the import rules of DESIGN.md + generated protobuf code is current

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

imports: ## check every package's imports against the package table of DESIGN.md
	GO=$(GO) $(GO) test -count=1 -run '^TestRepo_FollowsDesignTable$$' ./internal/importcheck

proto: ## regenerate the protobuf and gRPC code under proto/ (Debian's protoc, plugins at go.mod's versions)
	./scripts/proto.sh

proto-check:
	./scripts/proto.sh --check

FUZZTIME ?= 60s
fuzz: ## run every fuzz target (go test -list '^Fuzz' ./...) for FUZZTIME each
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

rules-doc: ## regenerate docs/validation-rules.md from the validate package's rule table
	$(GO) generate ./validate

clean:
	rm -rf bin
