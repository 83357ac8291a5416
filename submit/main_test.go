//go:build linux

package submit_test

import (
	"os"
	"testing"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/submit"
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
	os.Exit(testutil.RunChecked(m))
}
