//go:build linux

package file

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/goiocp/goiocp/internal/sys"
	"golang.org/x/sys/unix"
)

// TestRingReadsMisses reads a buffered file whose pages were dropped from
// the cache (fadvise DONTNEED) from 64 goroutines: every byte must be the
// file's, and the misses must have gone through the ring, where io_uring is
// allowed.
func TestRingReadsMisses(t *testing.T) {
	if err := sys.ProbeIOURing(); err != nil {
		t.Skipf("io_uring: %v", err)
	}
	f, data := coldFile(t, 8<<20)
	before := ringReads.Load()
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 64 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 3))
			b := make([]byte, 4096+512)
			for range 40 {
				off := int64(r.IntN(len(data) - len(b)))
				n, err := f.ReadAt(b, off)
				if err != nil || n != len(b) || !bytes.Equal(b, data[off:off+int64(len(b))]) {
					errs <- "a read returned other bytes than the file's"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if ringReads.Load() == before {
		t.Error("no read went through the ring, though the pages were not cached")
	}
}

// TestLoneMissIsPlain reads pages not cached from one goroutine, with
// readahead off (FADV_RANDOM): with nothing else in flight each miss must
// be one plain pread, never a ring read, which costs a lone caller a
// hand-off and a wake-up (0.6× os.File on the 2-core VM's disk before this
// path). Whether a read misses is asked of the kernel (mincore) before it;
// the bytes must be the file's.
func TestLoneMissIsPlain(t *testing.T) {
	if err := sys.ProbeIOURing(); err != nil {
		t.Skipf("io_uring: %v (without the ring every miss is a plain pread)", err)
	}
	f, data := coldFile(t, 4<<20)
	fd := int(f.Fd())
	if sys.InMemory(fd) {
		t.Skip("the temp dir is in memory: reads never miss")
	}
	if n, _ := sys.CachedPages(fd, 0, len(data)); n > 0 && os.Geteuid() == 0 {
		os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0)
	}
	if err := unix.Fadvise(fd, 0, 0, unix.FADV_RANDOM); err != nil {
		t.Fatal(err)
	}
	ring0, lone0 := ringReads.Load(), loneCalls.Load()
	b := make([]byte, 4096)
	misses := 0
	for i := range 64 {
		off := int64(i*61%(len(data)/4096)) * 4096
		if n, err := sys.CachedPages(fd, off, 4096); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			misses++
		}
		if n, err := f.ReadAt(b, off); err != nil || n != len(b) || !bytes.Equal(b, data[off:off+4096]) {
			t.Fatalf("read at %d: %d, %v, or other bytes than the file's", off, n, err)
		}
	}
	if misses == 0 {
		t.Skip("the file's pages stayed cached (fadvise DONTNEED dropped none): no miss to look at")
	}
	if got := ringReads.Load() - ring0; got != 0 {
		t.Errorf("%d of %d lone misses went through the ring", got, misses)
	}
	// A miss is not always a plain pread: on Linux 6.18's ext4 the
	// preadv2(RWF_NOWAIT) tried first sometimes waits for the device read
	// itself (about 70 µs) and succeeds, for every page of some files.
	if loneCalls.Load() == lone0 {
		t.Skipf("none of the %d misses ran as a lone plain pread (read inside preadv2(RWF_NOWAIT), or a file system without the page-cache try)", misses)
	}
}

// coldFile writes size bytes of a pattern to a new file in the test's temp
// dir, opens it as a File (closed at the test's end) and drops its pages
// from the page cache (fadvise DONTNEED).
func coldFile(t *testing.T, size int) (*File, []byte) {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*131 + i>>9)
	}
	path := filepath.Join(t.TempDir(), "cold")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	unix.Fdatasync(int(f.Fd()))
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	return f, data
}
