//go:build linux

package reliability_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"golang.org/x/sys/unix"
)

// wantErrno fails the test unless err satisfies errors.Is(err, want).
func wantErrno(t *testing.T, what string, err error, want syscall.Errno) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

// noPanic runs f and turns a panic into a test failure.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

// TestMisuseResubmit: an AIOCB whose request is in flight, or whose packet
// still waits on its port, cannot be submitted again (EBUSY, no I/O, the
// first request unharmed); once harvested it can.
func TestMisuseResubmit(t *testing.T) {
	data := testutil.Pattern(30, 4*blk)
	_, fd := createFile(t, tempPath(t), data, 0)
	p := newPort(t)
	associate(t, p, fd, 1)
	cb := portCB(p, fd, 0, make([]byte, blk))
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	// Buffered reads finish inside io_submit: the packet now waits.
	wantErrno(t, "resubmit with its packet unharvested", submit.Read(cb), syscall.EBUSY)
	wantErrno(t, "resubmit as a write", submit.Write(cb), syscall.EBUSY)
	wantErrno(t, "resubmit as an fsync", submit.Fsync(unix.O_SYNC, cb), syscall.EBUSY)
	err := submit.ListIO(submit.Wait, []*aiocb.AIOCB{cb}, nil)
	if err == nil {
		t.Error("ListIO with an in-use entry succeeded")
	}
	pkt := next(t, p)
	if pkt.CB != cb || pkt.Err != nil || pkt.Bytes != blk {
		t.Fatalf("the first request: %d %v", pkt.Bytes, pkt.Err)
	}
	noPacket(t, p, 20*time.Millisecond) // the refused resubmits made none
	if n, err := submit.Return(cb); n != blk || err != nil {
		t.Errorf("Return of the first request: %d %v (a refused resubmit overwrote it)", n, err)
	}
	cb.Offset = blk
	if err := submit.Read(cb); err != nil {
		t.Fatalf("resubmit after harvest: %v", err)
	}
	if pkt := next(t, p); pkt.CB != cb || pkt.Bytes != blk || string(cb.Buf) != string(data[blk:2*blk]) {
		t.Fatalf("resubmitted request: %d %v", pkt.Bytes, pkt.Err)
	}
}

// TestMisuseResubmitInFlight: the same for a request really in flight (an
// O_DIRECT read on the default context).
func TestMisuseResubmitInFlight(t *testing.T) {
	_, fd := createFile(t, tempPath(t), testutil.Pattern(31, 256*blk), unix.O_DIRECT)
	buf := testutil.Aligned(t, 256*blk)
	cb := &aiocb.AIOCB{Fildes: fd, Buf: buf}
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	if err := submit.Read(cb); err != nil && !errors.Is(err, syscall.EBUSY) {
		t.Errorf("resubmit in flight: %v, want EBUSY", err)
	} else if err == nil {
		// The first had already been final and unreturned; POSIX lets it
		// be reused then, and it was.
		t.Log("first request finished before the resubmit")
	}
	if n, err := final(t, cb); n != 256*blk || err != nil {
		t.Errorf("Return: %d %v", n, err)
	}
}

// TestMisuseReturn: Return twice, before any submit, while in flight, and
// on nil: each a clear error, never a second result.
func TestMisuseReturn(t *testing.T) {
	_, fd := createFile(t, tempPath(t), testutil.Pattern(32, blk), 0)
	cb := &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, blk)}
	n, err := submit.Return(cb)
	wantErrno(t, "Return never submitted", err, syscall.EINVAL)
	if n != -1 {
		t.Errorf("Return never submitted: n = %d, want -1", n)
	}
	wantErrno(t, "Error never submitted", submit.Error(cb), syscall.EINVAL)
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	if n, err := final(t, cb); n != blk || err != nil {
		t.Fatalf("first Return: %d %v", n, err)
	}
	n, err = submit.Return(cb)
	wantErrno(t, "Return twice", err, syscall.EINVAL)
	if n != -1 {
		t.Errorf("Return twice: n = %d, want -1", n)
	}
	_, err = submit.Return(nil)
	wantErrno(t, "Return(nil)", err, syscall.EINVAL)
	wantErrno(t, "Error(nil)", submit.Error(nil), syscall.EINVAL)
	// Waitcomplete hands a request out and performs its Return.
	cb2 := &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, blk)}
	if err := submit.Read(cb2); err != nil {
		t.Fatal(err)
	}
	got, n, err := submit.Waitcomplete(deadline)
	if got != cb2 || n != blk || err != nil {
		t.Fatalf("Waitcomplete: %p %d %v", got, n, err)
	}
	_, err = submit.Return(cb2)
	wantErrno(t, "Return after Waitcomplete", err, syscall.EINVAL)
}

// TestMisuseClosedPort: every operation on a closed port is a clear error.
func TestMisuseClosedPort(t *testing.T) {
	_, fd := createFile(t, tempPath(t), testutil.Pattern(33, blk), 0)
	p, err := port.Create(fd, nil, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	pfd := p.Fd()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); !errors.Is(err, port.ErrClosed) {
		t.Errorf("Close twice: %v, want ErrClosed", err)
	}
	if _, err := p.GetQueuedCompletionStatus(0); !errors.Is(err, port.ErrClosed) {
		t.Errorf("GetQueuedCompletionStatus: %v", err)
	}
	if _, err := p.GetQueuedCompletionStatus(port.Infinite); !errors.Is(err, port.ErrClosed) {
		t.Errorf("GetQueuedCompletionStatus(Infinite): %v", err)
	}
	if _, err := p.GetQueuedCompletionStatusEx(make([]completion.Packet, 4), time.Second); !errors.Is(err, port.ErrClosed) {
		t.Errorf("GetQueuedCompletionStatusEx: %v", err)
	}
	if _, err := p.Wait(context.Background()); !errors.Is(err, port.ErrClosed) {
		t.Errorf("Wait: %v", err)
	}
	if err := p.PostQueuedCompletionStatus(1, 2, nil); !errors.Is(err, port.ErrClosed) {
		t.Errorf("PostQueuedCompletionStatus: %v", err)
	}
	if err := p.Associate(fd, 3); !errors.Is(err, port.ErrClosed) {
		t.Errorf("Associate: %v", err)
	}
	if q, err := port.Create(fd, p, 4, 0); err == nil && q != p {
		t.Errorf("Create with a closed existing port made another")
	}
	if !fcntlOK(pfd) {
		cb := &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, blk), Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: pfd}
		wantErrno(t, "submit naming a closed port", submit.Read(cb), syscall.EBADF)
		wantErrno(t, "fsync naming a closed port", submit.Fsync(unix.O_SYNC, cb), syscall.EBADF)
	}
}

// TestMisuseNil: nil AIOCBs, lists and sigevents.
func TestMisuseNil(t *testing.T) {
	_, fd := createFile(t, tempPath(t), testutil.Pattern(34, blk), 0)
	noPanic(t, "nil AIOCB", func() {
		wantErrno(t, "Read(nil)", submit.Read(nil), syscall.EINVAL)
		wantErrno(t, "Write(nil)", submit.Write(nil), syscall.EINVAL)
		wantErrno(t, "Fsync(nil)", submit.Fsync(unix.O_SYNC, nil), syscall.EINVAL)
		if err := submit.Suspend([]*aiocb.AIOCB{nil}, 0); err == nil {
			t.Error("Suspend of only nil entries succeeded")
		}
		if err := submit.Suspend(nil, 0); err == nil {
			t.Error("Suspend(nil) succeeded")
		}
		if err := submit.ListIO(submit.Wait, []*aiocb.AIOCB{nil, nil}, nil); err != nil {
			t.Errorf("ListIO of nil entries: %v (they are skipped)", err)
		}
		if err := submit.ListIO(submit.NoWait, nil, nil); err != nil {
			t.Errorf("ListIO(nil): %v", err)
		}
		if r, err := submit.Cancel(fd, nil); err != nil || r != submit.AllDone {
			t.Errorf("Cancel(fd, nil) with nothing in flight: %v %v", r, err)
		}
		if n, err := submit.Nwait(make([]*aiocb.AIOCB, 2), 0, 0); err != nil && !errors.Is(err, syscall.EAGAIN) || n != 0 {
			t.Errorf("Nwait with nothing in flight: %d %v", n, err)
		}
		p := newPort(t)
		if err := p.PostQueuedCompletionStatus(0, 0, nil); err != nil {
			t.Errorf("posting a nil AIOCB: %v", err)
		}
		if pkt := next(t, p); pkt.CB != nil {
			t.Error("posted nil came back non-nil")
		}
	})
}

// TestMisuseEmptyBuffers: nil and empty buffers and vectors are 0-byte
// requests that succeed with 0 bytes (POSIX aio_nbytes 0), on ports and the
// default context; they never touch memory.
func TestMisuseEmptyBuffers(t *testing.T) {
	data := testutil.Pattern(35, blk)
	_, fd := createFile(t, tempPath(t), data, 0)
	p := newPort(t)
	associate(t, p, fd, 1)
	noPanic(t, "empty buffers", func() {
		for _, c := range []struct {
			name string
			cb   *aiocb.AIOCB
			op   func(*aiocb.AIOCB) error
		}{
			{"read nil Buf", portCB(p, fd, 0, nil), submit.Read},
			{"write nil Buf", portCB(p, fd, 0, nil), submit.Write},
			{"read empty Buf", portCB(p, fd, 0, []byte{}), submit.Read},
			{"write empty Buf", portCB(p, fd, 0, make([]byte, 10)[10:]), submit.Write},
			{"readv nil Iov", &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpReadv, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}, submit.Read},
			{"writev of empty slices", &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpWritev, Iov: [][]byte{nil, {}}, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}, submit.Write},
		} {
			if err := c.op(c.cb); err != nil {
				t.Errorf("%s: submit %v", c.name, err)
				continue
			}
			if pkt := next(t, p); pkt.CB != c.cb || pkt.Bytes != 0 || pkt.Err != nil {
				t.Errorf("%s: packet %d %v, want 0 bytes", c.name, pkt.Bytes, pkt.Err)
			}
		}
		cb := &aiocb.AIOCB{Fildes: fd}
		if err := submit.Write(cb); err != nil {
			t.Fatalf("default-context empty write: %v", err)
		}
		if n, err := final(t, cb); n != 0 || err != nil {
			t.Errorf("default-context empty write: %d %v", n, err)
		}
	})
	if i := testutil.Equal(preadAll(t, fd, 2*blk), data); i >= 0 {
		t.Fatalf("file changed at %d", i)
	}
}

// TestMisuseAbsurd: absurd sizes, offsets, numbers and options: each a
// clear errno at the call, no I/O, no panic.
func TestMisuseAbsurd(t *testing.T) {
	data := testutil.Pattern(36, blk)
	_, fd := createFile(t, tempPath(t), data, 0)
	p := newPort(t)
	associate(t, p, fd, 1)
	buf := make([]byte, blk)
	// ext fills in a port request's fields around the absurd ones.
	ext := func(cb *aiocb.AIOCB) *aiocb.AIOCB {
		cb.Fildes, cb.Flags, cb.Version, cb.IOCPFD = fd, aiocb.Extended, aiocb.Vers2, p.Fd()
		if cb.Buf == nil {
			cb.Buf = buf
		}
		return cb
	}
	manyIov := make([][]byte, 1<<16)
	for i := range manyIov {
		manyIov[i] = buf[:1]
	}
	cases := []struct {
		name string
		cb   *aiocb.AIOCB
		want syscall.Errno
	}{
		{"negative offset", ext(&aiocb.AIOCB{Offset: -1}), syscall.EINVAL},
		{"MinInt64 offset", ext(&aiocb.AIOCB{Offset: math.MinInt64}), syscall.EINVAL},
		{"offset+nbytes overflows", ext(&aiocb.AIOCB{Offset: math.MaxInt64 - 10}), syscall.EINVAL},
		{"reqprio 21", ext(&aiocb.AIOCB{Reqprio: 21}), syscall.EINVAL},
		{"reqprio -1", ext(&aiocb.AIOCB{Reqprio: -1}), syscall.EINVAL},
		{"reqprio MaxInt", ext(&aiocb.AIOCB{Reqprio: math.MaxInt}), syscall.EINVAL},
		{"opcode 99", ext(&aiocb.AIOCB{Opcode: 99}), syscall.EINVAL},
		{"opcode -1", ext(&aiocb.AIOCB{Opcode: -1}), syscall.EINVAL},
		{"fildes -1", &aiocb.AIOCB{Fildes: -1, Buf: buf}, syscall.EBADF},
		{"fildes MaxInt32", &aiocb.AIOCB{Fildes: math.MaxInt32, Buf: buf}, syscall.EBADF},
		{"fildes MinInt", &aiocb.AIOCB{Fildes: math.MinInt, Buf: buf}, syscall.EBADF},
		{"IOCPFD -5", &aiocb.AIOCB{Fildes: fd, Buf: buf, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: -5}, syscall.EBADF},
		{"IOCPFD MaxInt", &aiocb.AIOCB{Fildes: fd, Buf: buf, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: math.MaxInt}, syscall.EBADF},
		{"IOCPFD without Extended", &aiocb.AIOCB{Fildes: fd, Buf: buf, Version: aiocb.Vers2, IOCPFD: p.Fd()}, syscall.EINVAL},
		{"IOCPFD with Vers1", &aiocb.AIOCB{Fildes: fd, Buf: buf, Flags: aiocb.Extended, Version: aiocb.Vers1, IOCPFD: p.Fd()}, syscall.EINVAL},
		{"Extended, version 0", &aiocb.AIOCB{Fildes: fd, Buf: buf, Flags: aiocb.Extended}, syscall.EINVAL},
		{"Extended, version MaxUint32", &aiocb.AIOCB{Fildes: fd, Buf: buf, Flags: aiocb.Extended, Version: math.MaxUint32}, syscall.EINVAL},
		{"sigevent notify 7", &aiocb.AIOCB{Fildes: fd, Buf: buf, Sigevent: aiocb.Sigevent{Notify: 7}}, syscall.EINVAL},
		{"SigevThread without Func", &aiocb.AIOCB{Fildes: fd, Buf: buf, Sigevent: aiocb.Sigevent{Notify: aiocb.SigevThread}}, syscall.EINVAL},
		{"SigevSignal 0", &aiocb.AIOCB{Fildes: fd, Buf: buf, Sigevent: aiocb.Sigevent{Notify: aiocb.SigevSignal}}, syscall.EINVAL},
		{"SigevSignal 1000", &aiocb.AIOCB{Fildes: fd, Buf: buf, Sigevent: aiocb.Sigevent{Notify: aiocb.SigevSignal, Signo: 1000}}, syscall.EINVAL},
	}
	for _, c := range cases {
		noPanic(t, c.name, func() {
			wantErrno(t, c.name+" (write)", submit.Write(c.cb), c.want)
			wantErrno(t, c.name+" (read)", submit.Read(c.cb), c.want)
		})
	}
	wantErrno(t, "65536 iovecs (writev)", submit.Write(ext(&aiocb.AIOCB{Opcode: aiocb.OpWritev, Iov: manyIov})), syscall.EINVAL)
	wantErrno(t, "65536 iovecs (readv)", submit.Read(ext(&aiocb.AIOCB{Opcode: aiocb.OpReadv, Iov: manyIov})), syscall.EINVAL)
	noPacket(t, p, 20*time.Millisecond)
	if i := testutil.Equal(preadAll(t, fd, 2*blk), data); i >= 0 {
		t.Fatalf("a refused request wrote: file changed at %d", i)
	}
	// Absurd but valid: reads far past the end are short (0 bytes); a
	// write past the file system's maximum size is EFBIG in its packet.
	far := ext(&aiocb.AIOCB{Offset: math.MaxInt64 - blk})
	if err := submit.Read(far); err != nil {
		t.Fatalf("read at MaxInt64-4096: %v", err)
	}
	if pkt := next(t, p); pkt.Bytes != 0 || pkt.Err != nil {
		t.Errorf("read far past the end: %d %v, want 0 bytes", pkt.Bytes, pkt.Err)
	}
	far2 := ext(&aiocb.AIOCB{Offset: math.MaxInt64 - blk})
	if err := submit.Write(far2); err != nil {
		wantErrno(t, "write at MaxInt64-4096", err, syscall.EFBIG)
	} else if pkt := next(t, p); !errors.Is(pkt.Err, syscall.EFBIG) && !errors.Is(pkt.Err, syscall.EINVAL) {
		t.Errorf("write far past the maximum file size: %d %v, want EFBIG", pkt.Bytes, pkt.Err)
	}
	// Calls with absurd arguments.
	wantErrno(t, "Fsync op 12345", submit.Fsync(12345, ext(&aiocb.AIOCB{})), syscall.EINVAL)
	wantErrno(t, "ListIO mode 9", submit.ListIO(9, nil, nil), syscall.EINVAL)
	wantErrno(t, "ListIO over ListIOMax", submit.ListIO(submit.NoWait, make([]*aiocb.AIOCB, submit.ListIOMax+1), nil), syscall.EINVAL)
	_, err := submit.Nwait(make([]*aiocb.AIOCB, 1), 2, 0)
	wantErrno(t, "Nwait nwait > len", err, syscall.EINVAL)
	_, err = submit.Nwait(nil, -1, 0)
	wantErrno(t, "Nwait nwait < 0", err, syscall.EINVAL)
	_, err = submit.Cancel(-1, nil)
	wantErrno(t, "Cancel(-1)", err, syscall.EBADF)
	other := &aiocb.AIOCB{Fildes: fd, Buf: buf}
	if err := submit.Read(other); err != nil {
		t.Fatal(err)
	}
	final(t, other)
	_, err = submit.Cancel(0, other)
	if err != nil && !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Cancel with a cb of another fd: %v, want EINVAL (or AllDone)", err)
	}
	_, err = port.Create(fd, nil, 0, -1)
	wantErrno(t, "Create concurrency -1", err, syscall.EINVAL)
	_, err = port.Create(-7, nil, 0, 0)
	wantErrno(t, "Create fd -7", err, syscall.EBADF)
	_, err = port.New(port.WithDepth(0))
	wantErrno(t, "WithDepth(0)", err, syscall.EINVAL)
	_, err = port.New(port.WithDepth(-1))
	wantErrno(t, "WithDepth(-1)", err, syscall.EINVAL)
	q, err := port.New(port.WithDepth(1 << 30))
	if err == nil {
		q.Close()
		t.Error("WithDepth(1<<30) succeeded")
	} else if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOMEM) {
		t.Errorf("WithDepth(1<<30): %v, want EAGAIN", err)
	} else if errors.Is(err, syscall.EAGAIN) && !strings.Contains(err.Error(), "/proc/sys/fs/aio-max-nr") {
		t.Errorf("WithDepth(1<<30): %v does not name /proc/sys/fs/aio-max-nr", err)
	}
	// A negative timeout other than Infinite waits as Infinite does (or
	// polls); either way a posted packet ends it.
	time.AfterFunc(50*time.Millisecond, func() { _ = p.PostQueuedCompletionStatus(0, 77, nil) })
	within(t, deadline, "GetQueuedCompletionStatus(-12345)", func() {
		for {
			pkt, err := p.GetQueuedCompletionStatus(-12345)
			if err == nil && pkt.Key == 77 {
				return
			}
			if err != nil && !errors.Is(err, port.ErrTimeout) {
				t.Errorf("GetQueuedCompletionStatus(-12345): %v", err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// TestMisuseBufferReassigned: reassigning or dropping cb.Buf while the
// request is in flight (forbidden, but it happens) does not let the
// collector free the buffer under the kernel: the original buffer gets the
// data and nothing is corrupted.
func TestMisuseBufferReassigned(t *testing.T) {
	const n = 64
	data := testutil.Pattern(37, n*blk)
	_, fd := createFile(t, tempPath(t), data, unix.O_DIRECT)
	p := newPort(t, port.WithDepth(n))
	associate(t, p, fd, 1)
	mem := testutil.Aligned(t, n*blk)
	sums := make([]*aiocb.AIOCB, n)
	for i := range n {
		cb := portCB(p, fd, int64(i*blk), mem[i*blk:(i+1)*blk])
		if err := submit.Read(cb); err != nil {
			t.Fatal(err)
		}
		cb.Buf = make([]byte, blk) // misuse: a new buffer while in flight
		sums[i] = cb
	}
	for range 3 {
		runtime.GC()
	}
	for range n {
		next(t, p)
	}
	if i := testutil.Equal(mem, data); i >= 0 {
		t.Fatalf("the buffers given at submit differ from the file at %d", i)
	}
	_ = sums
}

// TestMisuseExNoRoom: GetQueuedCompletionStatusEx with no room for a packet
// (a nil or empty slice) can never return one; like Windows
// (ERROR_INVALID_PARAMETER for ulCount 0) it must say so with EINVAL rather
// than report success with nothing, which a caller's loop cannot tell from
// a wake-up.
func TestMisuseExNoRoom(t *testing.T) {
	p := newPort(t)
	if err := p.PostQueuedCompletionStatus(1, 2, nil); err != nil {
		t.Fatal(err)
	}
	for _, pkts := range [][]completion.Packet{nil, {}} {
		var n int
		var err error
		noPanic(t, "GetQueuedCompletionStatusEx with no room", func() {
			n, err = p.GetQueuedCompletionStatusEx(pkts, 0)
		})
		if n != 0 {
			t.Fatalf("GetQueuedCompletionStatusEx(len 0) = %d packets", n)
		}
		wantErrno(t, "GetQueuedCompletionStatusEx(len 0)", err, syscall.EINVAL)
	}
	if pkt := next(t, p); pkt.Key != 2 {
		t.Fatalf("the posted packet was lost: %+v", pkt)
	}
}
