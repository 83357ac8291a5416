//go:build linux

package submit_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/submit"
	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaked an fd, a kernel AIO
// context or a goroutine. The default context lives as long as the
// process, so it is made before the baseline.
func TestMain(m *testing.M) {
	f, err := os.Open("/dev/zero")
	if err == nil {
		cb := &aiocb.AIOCB{Fildes: int(f.Fd()), Buf: make([]byte, 1)}
		if submit.Read(cb) == nil {
			submit.Suspend([]*aiocb.AIOCB{cb}, submit.Infinite)
			submit.Return(cb)
		}
		f.Close()
	}
	base := testutil.Baseline()
	code := m.Run()
	if code == 0 {
		if leak := base.Check(); leak != "" {
			fmt.Fprintln(os.Stderr, "leak:", leak)
			code = 1
		}
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
