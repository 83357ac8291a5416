//go:build linux

package port_test

import (
	"bytes"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/engine"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"golang.org/x/sys/unix"
)

// TestColdBufferedReads reads a buffered file on the disk that is not in
// the page cache (fadvise DONTNEED), 64 reads of 64 KiB in flight at once
// through one port, on each engine: every byte must be right. On AIO a
// buffered read of a page not cached would block inside io_submit, so
// RWF_NOWAIT sends it back and the engine's workers perform it with
// blocking preads; on io_uring the kernel reads it asynchronously itself,
// and no worker runs at all.
func TestColdBufferedReads(t *testing.T) {
	const n, size = 64, 64 << 10
	data := testutil.Pattern(77, n*size)
	for _, e := range port.Engines() {
		t.Run(e.String(), func(t *testing.T) {
			f, fd := testutil.File(t, t.TempDir(), data, os.O_RDONLY)
			if err := unix.Fdatasync(fd); err != nil {
				t.Fatal(err)
			}
			if err := unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED); err != nil {
				t.Fatal(err)
			}
			p := newPort(t, port.WithEngine(e), port.WithDepth(n))
			if err := p.Associate(fd, 1); err != nil {
				t.Fatal(err)
			}
			runs := engine.WorkerRuns()
			cbs := make([]*aiocb.AIOCB, n)
			for i := range cbs {
				cbs[i] = &aiocb.AIOCB{Fildes: fd, Offset: int64(i * size), Buf: make([]byte, size), Opcode: aiocb.OpRead,
					Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}
			}
			if err := submit.ListIO(submit.NoWait, cbs, nil); err != nil {
				t.Fatal(err)
			}
			pkts := make([]completion.Packet, n)
			for got := 0; got < n; {
				k, err := p.GetQueuedCompletionStatusEx(pkts, 10*time.Second)
				if err != nil {
					t.Fatalf("after %d packets: %v", got, err)
				}
				for _, pkt := range pkts[:k] {
					off := int(pkt.CB.Offset)
					if pkt.Err != nil || pkt.Bytes != size || !bytes.Equal(pkt.CB.Buf, data[off:off+size]) {
						t.Fatalf("read at %d: %d bytes, %v", off, pkt.Bytes, pkt.Err)
					}
				}
				got += k
			}
			ran := engine.WorkerRuns() - runs
			t.Logf("%v: %d of %d reads performed by workers; io-wq workers now %d", e, ran, n, testutil.IOWorkers(t))
			if e == port.EngineIOURing && ran != 0 {
				t.Errorf("io_uring: %d cold buffered reads went to user-space workers, want none", ran)
			}
			if e == port.EngineAIO && ran == 0 && !slices.Contains([]string{"tmpfs"}, fsType(t, f)) {
				t.Errorf("AIO: no cold read went to a worker; was the page cache dropped?")
			}
		})
	}
}

// fsType names f's file system as far as the test needs: "tmpfs" or "".
func fsType(t *testing.T, f *os.File) string {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == unix.TMPFS_MAGIC {
		return "tmpfs"
	}
	return ""
}

// TestFsyncOfAFileClosedAtOnce: an fsync whose file the program closes
// right after the call still syncs that file and succeeds, on each engine:
// io_submit takes the file at the call, and an io_uring fsync, which
// always runs in an io-wq worker that looks its fd up only when it starts,
// holds it through the ring's file table. (Without that, 176 of 200
// ended with EBADF.)
func TestFsyncOfAFileClosedAtOnce(t *testing.T) {
	dir := t.TempDir()
	for _, e := range port.Engines() {
		t.Run(e.String(), func(t *testing.T) {
			p := newPort(t, port.WithEngine(e), port.WithDepth(8))
			for i := range 200 {
				f, err := os.CreateTemp(dir, "fsync-")
				if err != nil {
					t.Fatal(err)
				}
				fd, err := unix.Dup(int(f.Fd()))
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Associate(fd, 5); err != nil {
					t.Fatal(err)
				}
				cb := &aiocb.AIOCB{Fildes: fd, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}
				if err := submit.Fsync(unix.O_SYNC, cb); err != nil {
					t.Fatal(err)
				}
				unix.Close(fd)
				pkt, err := p.GetQueuedCompletionStatus(10 * time.Second)
				if err != nil || pkt.CB != cb || pkt.Err != nil {
					t.Fatalf("fsync %d of a file closed after the call: %+v %v", i, pkt, err)
				}
			}
		})
	}
}
