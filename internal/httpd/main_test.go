//go:build linux

package httpd_test

import (
	"os"
	"testing"

	"github.com/goiocp/goiocp/internal/testutil"
)

// TestMain fails the package when a test leaked an fd, a kernel AIO
// context or a goroutine: a server that is shut down leaves nothing.
func TestMain(m *testing.M) {
	os.Exit(testutil.RunChecked(m))
}
