//go:build linux

package faultfs_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/goiocp/goiocp/internal/testutil"
	"go.uber.org/goleak"
)

// TestMain fails the package if a mount left an fd (the /dev/fuse
// connection, splice pipes) or a goroutine (the server's loops) behind.
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
