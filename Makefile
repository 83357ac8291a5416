# goiocp: `make test` is what CI runs; `make demo` shows the main job.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
PKGS        := ./...

.PHONY: all test vet staticcheck unit benchonce demo bench fmt

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

## demo: the main job on a temporary file: own ports vs one global waiter
demo:
	$(GO) run ./cmd/iocpdemo

## bench: the Go benchmarks with allocation counts
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS)
