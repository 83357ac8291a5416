//go:build linux

package libaio_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/libaio"
)

// TestMain fails the run when the tests leak file descriptors (ports,
// eventfds, files).
func TestMain(m *testing.M) {
	// The runtime's netpoller opens its epoll and wakeup fds on first use
	// and keeps them: start it before counting.
	if q, err := libaio.QueueInit(1); err == nil {
		q.Release()
	}
	os.Exit(testutil.OnEachEngine(func() int {
		before := openFds()
		code := m.Run()
		if after := openFds(); code == 0 && after > before {
			fmt.Fprintf(os.Stderr, "leaked %d file descriptors\n", after-before)
			code = 1
		}
		return code
	}))
}

func openFds() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}
