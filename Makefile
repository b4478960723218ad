# Patron build targets. `make demo` and `make test` are all a fresh machine needs.
GO        ?= go
BIN       := bin/patron
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
PKGS      := ./...
PROTO_DIR := proto/patron/v1
FUZZTIME  ?= 20000x

.PHONY: all build test lint fuzz proto proto-tools demo bench bench-ingest bench-gen bench-train bench-train-10m bench-serve clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/patron

# test: formatting and vet, the unit and end-to-end tests, and short fuzz runs.
test: lint
	$(GO) test -count=1 $(PKGS)
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# fuzz: short runs of each fuzz target: 20,000 inputs each by default (0.4-15 s here, FuzzREST the longest), FUZZTIME=10m for a long
# run. A count, not a duration, because with a duration Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when a starved worker is mid-input at the deadline (golang/go#75804, fixed in
# Go 1.27); it failed a CI run here once.
fuzz:
	$(GO) test ./features -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME)
	$(GO) test ./features -run '^$$' -fuzz '^FuzzCSVSplit$$' -fuzztime $(FUZZTIME)
	$(GO) test ./models/profiles -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./models/recommend -run '^$$' -fuzz '^FuzzDecodeHistory$$' -fuzztime $(FUZZTIME)
	$(GO) test ./serving -run '^$$' -fuzz '^FuzzREST$$' -fuzztime $(FUZZTIME)
	$(GO) test ./serving -run '^$$' -fuzz '^FuzzValidation$$' -fuzztime $(FUZZTIME)
	$(GO) test ./serving -run '^$$' -fuzz '^FuzzRESTJSON$$' -fuzztime $(FUZZTIME)

# proto: regenerate the committed Go code and OpenAPI document from $(PROTO_DIR).
proto: proto-tools
	protoc -I $(PROTO_DIR) -I /usr/include \
	  --plugin=protoc-gen-go=.bin/protoc-gen-go \
	  --plugin=protoc-gen-go-grpc=.bin/protoc-gen-go-grpc \
	  --plugin=protoc-gen-grpc-gateway=.bin/protoc-gen-grpc-gateway \
	  --plugin=protoc-gen-openapiv2=.bin/protoc-gen-openapiv2 \
	  --go_out=$(PROTO_DIR) --go_opt=paths=source_relative \
	  --go-grpc_out=$(PROTO_DIR) --go-grpc_opt=paths=source_relative \
	  --grpc-gateway_out=$(PROTO_DIR) --grpc-gateway_opt=paths=source_relative \
	  --grpc-gateway_opt=grpc_api_configuration=$(PROTO_DIR)/patron_http.yaml \
	  --openapiv2_out=$(PROTO_DIR) \
	  --openapiv2_opt=grpc_api_configuration=$(PROTO_DIR)/patron_http.yaml \
	  --openapiv2_opt=allow_merge=true,merge_file_name=patron \
	  $(PROTO_DIR)/patron.proto

# proto-tools: protoc from Debian, the plugins at the versions pinned in go.mod.
proto-tools:
	@command -v protoc >/dev/null || { echo "installing protoc (Debian protobuf-compiler)"; \
	  (apt-get install -y protobuf-compiler || (apt-get update && apt-get install -y protobuf-compiler)) >/dev/null; }
	@test -f /usr/include/google/protobuf/struct.proto || { echo "need libprotobuf-dev well-known protos"; \
	  apt-get install -y libprotobuf-dev >/dev/null; }
	$(GO) build -o .bin/ tool

demo: build
	./$(BIN) demo

bench: bench-ingest bench-train bench-serve

bench-ingest: build
	$(GO) test ./benchmarks -run '^$$' -bench 'Ingest' -benchtime 3x -timeout 30m

bench-train: build
	$(GO) test ./benchmarks -run '^$$' -bench 'TrainOnlineRetail' -benchtime 3x -timeout 30m

# bench-serve: in-process serving latency and allocations (issue 3 targets).
bench-serve:
	$(GO) test ./serving -run '^$$' -bench . -benchtime 2s -timeout 30m

bench-train-10m: build
	$(GO) test ./benchmarks -run '^$$' -bench 'Train10M' -benchtime 1x -timeout 60m

bench-gen: build
	$(GO) test ./benchmarks -run '^$$' -bench 'Gen10M' -benchtime 1x -timeout 60m

clean:
	rm -rf bin .bin

# bench-load: REST and gRPC load against `patron serve` and bare net/http / gRPC baselines
# (issue 6), unpinned and pinned; LOADFLAGS="--duration 10s --json" to change. Not part of `make test`.
.PHONY: bench-load
LOADFLAGS ?= --duration 5s --pin both
bench-load:
	$(GO) run ./benchmarks/load $(LOADFLAGS)
