//go:build linux

package reliability_test

import (
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/submit"
)

// crashDirEnv names a directory where each test process (fuzzing workers
// included, whose stderr the go command discards) writes what it prints
// when it dies of a panic or a fatal error.
const crashDirEnv = "GOIOCP_CRASH_DIR"

// TestMain fails the package when a test leaked an fd, a kernel AIO
// context or a goroutine. The default context lives as long as the
// process (one ring, one eventfd), so it is made before the baseline; the
// FUSE servers of internal/faultfs run goroutines only until their mount's
// cleanup, so nothing of theirs may be left either.
func TestMain(m *testing.M) {
	if path := os.Getenv(efbigEnv); path != "" {
		os.Exit(efbigChild(path))
	}
	if dir := os.Getenv(crashDirEnv); dir != "" {
		// A fuzzing worker's stderr goes nowhere; keep its dying words.
		if f, err := os.Create(fmt.Sprintf("%s/crash-%d.txt", dir, os.Getpid())); err == nil {
			_ = debug.SetCrashOutput(f, debug.CrashOptions{})
			f.Close()
		}
		hangFile, _ = os.Create(fmt.Sprintf("%s/hang-%d.txt", dir, os.Getpid()))
	}
	warmDefaultContext()
	os.Exit(testutil.RunChecked(m))
}

// warmDefaultContext makes the process-wide default context exist.
func warmDefaultContext() {
	f, err := os.Open("/dev/zero")
	if err != nil {
		return
	}
	defer f.Close()
	cb := &aiocb.AIOCB{Fildes: int(f.Fd()), Buf: make([]byte, 1)}
	if submit.Read(cb) == nil {
		_ = submit.Suspend([]*aiocb.AIOCB{cb}, 10*time.Second)
		_, _ = submit.Return(cb)
	}
}

// hangFile is where watchInput writes, opened by TestMain when crashDirEnv
// is set. It is opened once, before any test, so that a dump written while
// the next input runs does not change that input's open fds.
var hangFile *os.File

// watchInput is a debugging aid for fuzzing runs with crashDirEnv set: if
// one input runs for 8 s (the fuzzing worker kills itself at 10 s, saying
// only "deadlocked!"), it writes the input and every goroutine's stack to
// that directory. The returned func stops the watch.
func watchInput(in []byte) (stop func()) {
	if hangFile == nil {
		return func() {}
	}
	in = append([]byte(nil), in...)
	w := time.AfterFunc(8*time.Second, func() {
		fmt.Fprintf(hangFile, "input %q\n", in)
		_ = pprof.Lookup("goroutine").WriteTo(hangFile, 2)
	})
	return func() { w.Stop() }
}
