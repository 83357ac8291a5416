//go:build linux

package faultfs_test

import (
	"os"
	"testing"

	"github.com/goiocp/goiocp/internal/testutil"
)

// TestMain fails the package if a mount left an fd (the /dev/fuse
// connection, splice pipes) or a goroutine (the server's loops) behind.
func TestMain(m *testing.M) {
	os.Exit(testutil.RunChecked(m))
}
