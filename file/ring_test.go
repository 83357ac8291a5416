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
	data := make([]byte, 8<<20)
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
	defer f.Close()
	unix.Fdatasync(int(f.Fd()))
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
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
