//go:build linux

package port_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/goiocp/goiocp/internal/testutil"
	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaked an fd, a kernel AIO
// context or a goroutine.
func TestMain(m *testing.M) {
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
