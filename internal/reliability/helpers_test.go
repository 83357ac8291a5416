//go:build linux

package reliability_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// deadline bounds every single wait of these tests: nothing may hang.
const deadline = 10 * time.Second

// newPort makes a port closed at cleanup (a test may close it first).
func newPort(t testing.TB, opts ...port.Option) *port.Port {
	t.Helper()
	p, err := port.New(opts...)
	if err != nil {
		t.Fatalf("new port: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil && !errors.Is(err, port.ErrClosed) {
			t.Errorf("close port: %v", err)
		}
	})
	return p
}

// associate associates fd with p under key.
func associate(t testing.TB, p *port.Port, fd int, key uintptr) {
	t.Helper()
	if err := p.Associate(fd, key); err != nil {
		t.Fatalf("associate %d: %v", fd, err)
	}
}

// portCB returns a request on fd at off with buf, completing to p.
func portCB(p *port.Port, fd int, off int64, buf []byte) *aiocb.AIOCB {
	return &aiocb.AIOCB{Fildes: fd, Offset: off, Buf: buf, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}
}

// next dequeues one packet from p, failing the test after deadline.
func next(t testing.TB, p *port.Port) completion.Packet {
	t.Helper()
	pkt, err := p.GetQueuedCompletionStatus(deadline)
	if err != nil {
		t.Fatalf("GetQueuedCompletionStatus: %v", err)
	}
	return pkt
}

// collect dequeues n packets from p and returns them by AIOCB.
func collect(t testing.TB, p *port.Port, n int) map[*aiocb.AIOCB]completion.Packet {
	t.Helper()
	got := make(map[*aiocb.AIOCB]completion.Packet, n)
	for range n {
		pkt := next(t, p)
		if _, dup := got[pkt.CB]; dup {
			t.Fatalf("two packets for one request (offset %d)", pkt.CB.Offset)
		}
		got[pkt.CB] = pkt
	}
	return got
}

// noPacket checks that p has no packet within d.
func noPacket(t testing.TB, p *port.Port, d time.Duration) {
	t.Helper()
	if pkt, err := p.GetQueuedCompletionStatus(d); err == nil {
		t.Fatalf("unexpected packet: offset %d bytes %d err %v", pkt.CB.Offset, pkt.Bytes, pkt.Err)
	} else if !errors.Is(err, port.ErrTimeout) {
		t.Fatalf("GetQueuedCompletionStatus: %v, want ErrTimeout", err)
	}
}

// final waits (at most deadline) until cb's request is final and returns
// its Return.
func final(t testing.TB, cb *aiocb.AIOCB) (int, error) {
	t.Helper()
	end := time.Now().Add(deadline)
	for submit.Error(cb) == syscall.EINPROGRESS {
		if time.Now().After(end) {
			t.Fatalf("request at offset %d still in flight after %v", cb.Offset, deadline)
		}
		if err := submit.Suspend([]*aiocb.AIOCB{cb}, 10*time.Millisecond); err != nil && !errors.Is(err, syscall.EAGAIN) {
			// Suspend harvests nothing; a port request is final once its
			// context is reaped, which Error does.
			time.Sleep(time.Millisecond)
		}
	}
	return submit.Return(cb)
}

// createFile creates path holding data, opened with flag|O_RDWR, closed at
// cleanup. It returns the file and its fd.
func createFile(t testing.TB, path string, data []byte, flag int) (*os.File, int) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return openFile(t, path, flag)
}

// openFile opens path with flag|O_RDWR, closed at cleanup.
func openFile(t testing.TB, path string, flag int) (*os.File, int) {
	t.Helper()
	f, err := os.OpenFile(path, flag|os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, int(f.Fd())
}

// tempPath returns a path for a new file in a temporary directory on disk.
func tempPath(t testing.TB) string { return filepath.Join(t.TempDir(), "data") }

// within runs f and fails the test if it does not return within d.
func within(t testing.TB, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// fmtCB describes cb's fields, without its buffers' contents.
func fmtCB(cb *aiocb.AIOCB) string {
	return fmt.Sprintf("{Fildes:%d Offset:%d len(Buf):%d len(Iov):%d Reqprio:%d Opcode:%v Flags:%d Version:%d IOCPFD:%d Notify:%d Signo:%d Func:%v}",
		cb.Fildes, cb.Offset, len(cb.Buf), len(cb.Iov), cb.Reqprio, cb.Opcode, cb.Flags, cb.Version, cb.IOCPFD,
		cb.Sigevent.Notify, cb.Sigevent.Signo, cb.Sigevent.Func != nil)
}

// sprintf is fmt.Sprintf.
func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
