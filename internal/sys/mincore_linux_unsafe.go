//go:build linux

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// CachedPages returns how many of the pages of fd's [off, off+n) are in
// the page cache (mincore over a shared mapping), for tests that need to
// know whether a read will miss. off must be page aligned.
func CachedPages(fd int, off int64, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	m, err := unix.Mmap(fd, off, n, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(m)
	vec := make([]byte, (n+unix.Getpagesize()-1)/unix.Getpagesize())
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(n), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		return 0, e
	}
	cached := 0
	for _, v := range vec {
		cached += int(v & 1)
	}
	return cached, nil
}
