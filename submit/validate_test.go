//go:build linux

package submit_test

import (
	"errors"
	"math"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"golang.org/x/sys/unix"
)

func newPort(t testing.TB, opts ...port.Option) *port.Port {
	t.Helper()
	p, err := port.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func onPort(p *port.Port, cb *aiocb.AIOCB) *aiocb.AIOCB {
	cb.Flags, cb.Version, cb.IOCPFD = aiocb.Extended, aiocb.Vers2, p.Fd()
	return cb
}

// TestValidation: every rule of the contract fails before any I/O with its
// errno; the file is unchanged and no packet is made.
func TestValidation(t *testing.T) {
	orig := testutil.Pattern(10, 8192)
	f, fd := testutil.File(t, t.TempDir(), orig, os.O_RDWR)
	p := newPort(t)
	if err := p.Associate(fd, 1); err != nil {
		t.Fatal(err)
	}
	_, other := testutil.File(t, t.TempDir(), nil, os.O_RDWR) // not associated with p
	closedPort, err := port.New()
	if err != nil {
		t.Fatal(err)
	}
	closedFd := closedPort.Fd()
	closedPort.Close()
	// A closed port's number may be reused by any new fd; make sure the
	// number we test is not a port.
	notPort, _ := unix.Open("/dev/null", unix.O_RDONLY, 0)
	defer unix.Close(notPort)

	w := func(mod func(cb *aiocb.AIOCB)) *aiocb.AIOCB {
		cb := &aiocb.AIOCB{Fildes: fd, Buf: []byte("CLOBBER!"), Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}
		mod(cb)
		return cb
	}
	cases := []struct {
		name string
		cb   *aiocb.AIOCB
		want syscall.Errno
	}{
		{"IOCPFD without Extended", w(func(cb *aiocb.AIOCB) { cb.Flags = 0 }), syscall.EINVAL},
		{"IOCPFD with Vers1", w(func(cb *aiocb.AIOCB) { cb.Version = aiocb.Vers1 }), syscall.EINVAL},
		{"Extended with Version 0", w(func(cb *aiocb.AIOCB) { cb.Version = 0; cb.IOCPFD = 0 }), syscall.EINVAL},
		{"Extended with Version 3", w(func(cb *aiocb.AIOCB) { cb.Version = 3 }), syscall.EINVAL},
		{"unknown flag", w(func(cb *aiocb.AIOCB) { cb.Flags |= 1 << 5 }), syscall.EINVAL},
		{"IOCPFD not a port", w(func(cb *aiocb.AIOCB) { cb.IOCPFD = notPort }), syscall.EBADF},
		{"IOCPFD of a closed port", w(func(cb *aiocb.AIOCB) { cb.IOCPFD = closedFd }), syscall.EBADF},
		{"IOCPFD negative", w(func(cb *aiocb.AIOCB) { cb.IOCPFD = -3 }), syscall.EBADF},
		{"file not associated", w(func(cb *aiocb.AIOCB) { cb.Fildes = other }), syscall.EINVAL},
		{"bad Fildes", w(func(cb *aiocb.AIOCB) { cb.Fildes = -1; cb.IOCPFD = 0; cb.Flags = 0; cb.Version = 0 }), syscall.EBADF},
		{"closed Fildes", w(func(cb *aiocb.AIOCB) { cb.Fildes = 1 << 20; cb.IOCPFD = 0; cb.Flags = 0 }), syscall.EBADF},
		{"negative offset", w(func(cb *aiocb.AIOCB) { cb.Offset = -1 }), syscall.EINVAL},
		{"offset overflow", w(func(cb *aiocb.AIOCB) { cb.Offset = math.MaxInt64 - 2 }), syscall.EINVAL},
		{"reqprio -1", w(func(cb *aiocb.AIOCB) { cb.Reqprio = -1 }), syscall.EINVAL},
		{"reqprio 21", w(func(cb *aiocb.AIOCB) { cb.Reqprio = 21 }), syscall.EINVAL},
		{"unknown opcode", w(func(cb *aiocb.AIOCB) { cb.Opcode = 99 }), syscall.EINVAL},
		{"bad notify", w(func(cb *aiocb.AIOCB) { cb.Sigevent.Notify = 7 }), syscall.EINVAL},
		{"signal 0", w(func(cb *aiocb.AIOCB) { cb.Sigevent.Notify = aiocb.SigevSignal }), syscall.EINVAL},
		{"thread without func", w(func(cb *aiocb.AIOCB) { cb.Sigevent.Notify = aiocb.SigevThread }), syscall.EINVAL},
	}
	for _, c := range cases {
		if err := submit.Write(c.cb); !errors.Is(err, c.want) {
			t.Errorf("%s: Write = %v, want %v", c.name, err, c.want)
		}
	}
	if err := submit.Read(nil); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Read(nil) = %v", err)
	}
	if _, err := p.GetQueuedCompletionStatus(50 * time.Millisecond); err != port.ErrTimeout {
		t.Errorf("a refused request made a packet (%v)", err)
	}
	if i := testutil.Equal(testutil.Contents(t, f), orig); i >= 0 {
		t.Fatalf("the file changed at offset %d", i)
	}
}

// TestReqprioHint: a valid priority reaches the kernel and the I/O works.
func TestReqprioHint(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 4096), os.O_RDWR)
	for _, prio := range []int{0, 1, 10, 20} {
		cb := &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, 512), Reqprio: prio}
		if err := submit.Read(cb); err != nil {
			t.Fatalf("reqprio %d: %v", prio, err)
		}
		if err := submit.Suspend([]*aiocb.AIOCB{cb}, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if n, err := submit.Return(cb); n != 512 || err != nil {
			t.Errorf("reqprio %d: Return %d, %v", prio, n, err)
		}
	}
}

// TestEBADFReadOnly: a write to a file open only for reading is refused by
// the kernel at submit: EBADF, no I/O.
func TestEBADFReadOnly(t *testing.T) {
	orig := []byte("original")
	f, fd := testutil.File(t, t.TempDir(), orig, os.O_RDONLY)
	cb := &aiocb.AIOCB{Fildes: fd, Buf: []byte("CLOBBER!")}
	if err := submit.Write(cb); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("Write to O_RDONLY: %v", err)
	}
	if err := submit.Error(cb); !errors.Is(err, syscall.EBADF) {
		t.Errorf("status %v", err)
	}
	if string(testutil.Contents(t, f)) != string(orig) {
		t.Error("file changed")
	}
}

// TestBusy: an AIOCB in flight, or whose packet is not harvested, cannot
// be submitted again.
func TestBusy(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 4096), os.O_RDWR)
	p := newPort(t)
	p.Associate(fd, 0)
	cb := onPort(p, &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, 16)})
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	if err := submit.Read(cb); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("resubmit in flight or unharvested: %v, want EBUSY", err)
	}
	// Final but unharvested: still busy.
	for submit.Error(cb) == syscall.EINPROGRESS {
		time.Sleep(time.Millisecond)
	}
	if err := submit.Write(cb); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("resubmit unharvested: %v, want EBUSY", err)
	}
	if _, err := p.GetQueuedCompletionStatus(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := submit.Read(cb); err != nil {
		t.Errorf("resubmit after harvest: %v", err)
	}
	if _, err := p.GetQueuedCompletionStatus(10 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestErrorReturn: aio_error and aio_return semantics.
func TestErrorReturn(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 4096), os.O_RDWR)
	never := &aiocb.AIOCB{Fildes: fd}
	if err := submit.Error(never); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Error(never submitted) = %v", err)
	}
	if n, err := submit.Return(never); n != -1 || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Return(never submitted) = %d, %v", n, err)
	}
	if err := submit.Error(nil); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Error(nil) = %v", err)
	}
	cb := &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, 100), Offset: 10}
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	if err := submit.Suspend([]*aiocb.AIOCB{cb}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := submit.Error(cb); err != nil {
		t.Errorf("Error(done) = %v", err)
	}
	if n, err := submit.Return(cb); n != 100 || err != nil {
		t.Errorf("Return = %d, %v", n, err)
	}
	if n, err := submit.Return(cb); n != -1 || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("second Return = %d, %v; want EINVAL", n, err)
	}
	// Reuse makes Return valid again.
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	if err := submit.Suspend([]*aiocb.AIOCB{cb}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n, err := submit.Return(cb); n != 100 || err != nil {
		t.Errorf("Return after reuse = %d, %v", n, err)
	}
}

// TestErrorWithoutWaiter: Error reports a port request final once the
// kernel finished it, though nobody waits on the port.
func TestErrorWithoutWaiter(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 4096), os.O_RDWR)
	p := newPort(t)
	p.Associate(fd, 0)
	cb := onPort(p, &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, 64)})
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for submit.Error(cb) == syscall.EINPROGRESS {
		if time.Now().After(deadline) {
			t.Fatal("request never became final without a waiter")
		}
		time.Sleep(100 * time.Microsecond)
	}
	if err := submit.Error(cb); err != nil {
		t.Errorf("Error = %v", err)
	}
	if n, err := submit.Return(cb); n != 64 || err != nil {
		t.Errorf("Return = %d, %v", n, err)
	}
	// The packet is still there for the port.
	if pkt, err := p.GetQueuedCompletionStatus(0); err != nil || pkt.CB != cb || pkt.Bytes != 64 {
		t.Errorf("packet %+v, %v", pkt, err)
	}
}

// TestPortFull: a port with WithDepth requests in flight refuses the next
// submit with EAGAIN and performs no I/O.
func TestPortFull(t *testing.T) {
	f, fd := testutil.File(t, t.TempDir(), make([]byte, 4096), os.O_RDWR)
	p := newPort(t, port.WithDepth(2))
	p.Associate(fd, 0)
	a := onPort(p, &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, 8)})
	b := onPort(p, &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, 8)})
	c := onPort(p, &aiocb.AIOCB{Fildes: fd, Buf: []byte("CLOBBER!"), Offset: 100})
	if err := submit.Read(a); err != nil {
		t.Fatal(err)
	}
	if err := submit.Read(b); err != nil {
		t.Fatal(err)
	}
	// Both are final but unharvested: they still hold the port's room?
	// No: a request leaves the port's depth when the kernel finishes it.
	// Keep two in flight by not letting the kernel finish is not possible
	// for a buffered file, so check the refusal against ListIO instead.
	_ = c
	for submit.Error(a) == syscall.EINPROGRESS || submit.Error(b) == syscall.EINPROGRESS {
		time.Sleep(time.Millisecond)
	}
	list := []*aiocb.AIOCB{
		onPort(p, &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpWrite, Buf: []byte("11111111"), Offset: 200}),
		onPort(p, &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpWrite, Buf: []byte("22222222"), Offset: 300}),
		onPort(p, &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpWrite, Buf: []byte("33333333"), Offset: 400}),
	}
	err := submit.ListIO(submit.NoWait, list, nil)
	if !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("ListIO of 3 on a port of depth 2: %v, want EAGAIN", err)
	}
	if e := submit.Error(list[2]); !errors.Is(e, syscall.EAGAIN) {
		t.Errorf("third entry status %v, want EAGAIN", e)
	}
	for _, cb := range list[:2] {
		for submit.Error(cb) == syscall.EINPROGRESS {
			time.Sleep(time.Millisecond)
		}
	}
	got := testutil.Contents(t, f)
	if string(got[200:208]) != "11111111" || string(got[300:308]) != "22222222" {
		t.Error("queued entries did not write")
	}
	if string(got[400:408]) == "33333333" {
		t.Error("the refused entry wrote")
	}
	// Nothing already queued was lost: 4 packets (a, b and two writes).
	for i := range 4 {
		if _, err := p.GetQueuedCompletionStatus(10 * time.Second); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	if _, err := p.GetQueuedCompletionStatus(0); err != port.ErrTimeout {
		t.Errorf("extra packet: %v", err)
	}
}
