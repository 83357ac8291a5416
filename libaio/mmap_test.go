//go:build linux

package libaio_test

import (
	"testing"

	"golang.org/x/sys/unix"
)

// alignedBuf returns n bytes of page-aligned anonymous memory, for
// O_DIRECT, unmapped at the end of the test (after the queues are
// released: cleanups run last-in first-out, so call it before newQueue).
func alignedBuf(t *testing.T, n int) []byte {
	t.Helper()
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap %d bytes: %v", n, err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	return b
}
