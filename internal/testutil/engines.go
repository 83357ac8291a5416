//go:build linux

package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/goiocp/goiocp/internal/engine"
)

// The whole suite of a package runs once per engine. run runs it on the
// engine GOIOCP_ENGINE names (AIO when it is unset); then, unless the
// variable was set (a run asked for one engine), the test binary runs
// again with GOIOCP_ENGINE=io_uring, the same flags and its output passed
// through, so that every port, File and default context of that run is on
// io_uring. Where the kernel refuses io_uring the second run is skipped,
// saying why. A fuzzing worker (-test.fuzzworker) only ever runs once: its
// coordinator's run already chose its engine.

// OnEachEngine runs the package's tests as described above and returns the
// exit code: non-zero if either run failed.
func OnEachEngine(run func() int) int {
	if _, set := os.LookupEnv(engine.EngineEnv); set || isFuzzWorker() {
		if k, err := engine.DefaultKind(); err == nil {
			fmt.Fprintf(os.Stderr, "goiocp: tests on the %v engine\n", k)
		}
		return run()
	}
	code := run()
	if err := engine.Usable(engine.KindIOURing); err != nil {
		fmt.Fprintf(os.Stderr, "goiocp: SKIP the io_uring run of this package: %v\n", err)
		return code
	}
	fmt.Fprintf(os.Stderr, "goiocp: running this package's tests again on io_uring (%s=io_uring)\n", engine.EngineEnv)
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), engine.EngineEnv+"=io_uring")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "goiocp: the io_uring run failed: %v\n", err)
		return 1
	}
	return code
}

func isFuzzWorker() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.fuzzworker") {
			return true
		}
	}
	return false
}

// Engine returns the engine this run of the tests is on.
func Engine() engine.Kind {
	k, _ := engine.DefaultKind()
	return k
}

// SkipOnIOURing skips a test of something only native AIO has (its
// limits, its per-request eventfd signal, its blocking io_submit), saying
// what.
func SkipOnIOURing(t testing.TB, what string) {
	t.Helper()
	if Engine() == engine.KindIOURing {
		t.Skipf("native AIO only: %s (this run is on io_uring)", what)
	}
}
