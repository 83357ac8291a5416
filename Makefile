# goiocp: `make test` is what CI runs; `make demo` shows the main job.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
PKGS        := ./...

.PHONY: all test vet staticcheck unit benchonce demo bench gobench fmt

all: test

## test: gofmt, vet, staticcheck, the race-enabled tests, every benchmark once
test: fmt vet staticcheck unit benchonce

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) run $(STATICCHECK) $(PKGS)

unit:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## benchonce: run every Go benchmark once so they never rot
benchonce:
	$(GO) test -run '^$$' -bench . -benchtime=1x -count=1 $(PKGS)

## demo: a quick comparison (about 55 s) on temporary files on tmpfs and on
## the disk: own ports vs the global waiter (both shapes) vs os.File.ReadAt,
## G 1,4,16,64, new OS threads per engine, a verdict line per target
demo:
	$(GO) run ./cmd/iocpbench -quick

## bench: the full suite (about 25 min on 2 cores); installs fio where apt-get
## works; writes bench/results/full.json and full.svg
bench:
	@command -v fio >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && apt-get install -y -qq fio) >/dev/null 2>&1; } || \
		echo "fio not installed: apt-get install -y fio (fio engines skipped)"
	$(GO) run ./cmd/iocpbench -engines all -workloads all -g 1,2,4,8,16,64 -qd 8 -rounds 3 -duration 1s -name full

## gobench: the Go benchmarks with allocation counts
gobench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS)
