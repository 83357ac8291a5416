//go:build linux

package port_test

import (
	"os"
	"testing"

	"github.com/goiocp/goiocp/internal/testutil"
)

// TestMain fails the package when a test leaked an fd, a kernel AIO
// context or a goroutine.
func TestMain(m *testing.M) {
	os.Exit(testutil.RunChecked(m))
}
