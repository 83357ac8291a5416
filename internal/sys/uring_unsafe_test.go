//go:build linux

package sys

import (
	"testing"
	"unsafe"
)

// TestURingParamsSize checks struct io_uring_params' size (120 bytes in
// the kernel's uapi header): a wrong layout would have the kernel write
// past it.
func TestURingParamsSize(t *testing.T) {
	if n := unsafe.Sizeof(uringParams{}); n != 120 {
		t.Fatalf("io_uring_params is %d bytes, want 120", n)
	}
}

// TestProbeIOURing reports what the probe says here; it may say no, but
// an error must say why.
func TestProbeIOURing(t *testing.T) {
	if err := ProbeIOURing(); err != nil {
		if err.Error() == "" {
			t.Fatal("an empty reason")
		}
		t.Logf("io_uring not usable here: %v", err)
	}
}
