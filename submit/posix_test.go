//go:build linux

package submit_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
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

// drainDefault hands out (and returns) every final default-context request
// other tests left behind, so Nwait and Waitcomplete see only this test's.
func drainDefault() {
	for {
		if cb, _, _ := submit.Waitcomplete(0); cb == nil {
			return
		}
	}
}

func waitFinal(t testing.TB, cb *aiocb.AIOCB) {
	t.Helper()
	if err := submit.Suspend([]*aiocb.AIOCB{cb}, 10*time.Second); err != nil {
		t.Fatalf("Suspend: %v", err)
	}
}

// blocked is a default-context request that stays in flight until release:
// a read of an empty pipe, which waits for its data holding its slot (with
// a POLL in the kernel, and no thread).
type blocked struct {
	cb   *aiocb.AIOCB
	r, w *os.File
	done chan error
}

func startBlocked(t *testing.T) *blocked {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &blocked{r: r, w: w, done: make(chan error, 1)}
	b.cb = &aiocb.AIOCB{Fildes: int(r.Fd()), Buf: make([]byte, 3)}
	go func() { b.done <- submit.Read(b.cb) }()
	for submit.Error(b.cb) != syscall.EINPROGRESS {
		time.Sleep(time.Millisecond)
	}
	t.Cleanup(func() { b.release(t); r.Close(); w.Close() })
	return b
}

// release feeds the pipe so the read finishes, and waits for it.
func (b *blocked) release(t *testing.T) {
	if b.w == nil {
		return
	}
	b.w.Write([]byte("abc"))
	b.w = nil
	if err := <-b.done; err != nil {
		t.Errorf("blocked read: %v", err)
	}
	waitFinal(t, b.cb)
}

func TestSuspend(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 4096), os.O_RDWR)
	cb := &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, 8)}
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	// nil entries are ignored.
	if err := submit.Suspend([]*aiocb.AIOCB{nil, cb, nil}, submit.Infinite); err != nil {
		t.Fatal(err)
	}
	if err := submit.Error(cb); err != nil {
		t.Errorf("after Suspend: %v", err)
	}
	// Already final: returns at once, even with a zero timeout.
	if err := submit.Suspend([]*aiocb.AIOCB{cb}, 0); err != nil {
		t.Errorf("Suspend on final, 0: %v", err)
	}
	submit.Return(cb)
	if err := submit.Suspend([]*aiocb.AIOCB{nil, {Fildes: fd}}, time.Millisecond); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Suspend with nothing submitted: %v", err)
	}
}

// TestSuspendHeldFsync: an fsync behind a request still in flight is not
// final; Suspend times out with EAGAIN, concurrently in several goroutines.
func TestSuspendHeldFsync(t *testing.T) {
	b := startBlocked(t)
	fs := &aiocb.AIOCB{Fildes: int(b.r.Fd())}
	if err := submit.Fsync(unix.O_SYNC, fs); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			start := time.Now()
			if err := submit.Suspend([]*aiocb.AIOCB{fs}, 30*time.Millisecond); !errors.Is(err, syscall.EAGAIN) {
				t.Errorf("Suspend on held fsync: %v, want EAGAIN", err)
			}
			if d := time.Since(start); d < 30*time.Millisecond {
				t.Errorf("returned after %v", d)
			}
		})
	}
	wg.Wait()
	if err := submit.Suspend([]*aiocb.AIOCB{fs}, 0); !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("Suspend poll: %v", err)
	}
	if err := submit.Error(fs); err != syscall.EINPROGRESS {
		t.Errorf("held fsync status %v", err)
	}
	b.release(t)
	// Now it goes to the kernel; a pipe has no fsync, so it fails EINVAL.
	waitFinal(t, fs)
	if err := submit.Error(fs); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("fsync of a pipe: %v, want EINVAL", err)
	}
}

// TestCancel: the kernel cannot cancel regular-file I/O (NotCanceled or
// AllDone, honestly reported); a held fsync is really cancelled: ECANCELED,
// Return -1, its notification fires, no packet.
func TestCancel(t *testing.T) {
	if _, err := submit.Cancel(-1, nil); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Cancel(-1) = %v", err)
	}
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 4096), os.O_RDWR)
	if res, err := submit.Cancel(fd, nil); res != submit.AllDone || err != nil {
		t.Errorf("Cancel with nothing in flight = %v, %v", res, err)
	}
	if _, err := submit.Cancel(fd, &aiocb.AIOCB{Fildes: fd + 1}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Cancel with cb of another fd: %v", err)
	}
	done := &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, 4)}
	submit.Read(done)
	waitFinal(t, done)
	if res, _ := submit.Cancel(fd, done); res != submit.AllDone {
		t.Errorf("Cancel(done) = %v", res)
	}

	b := startBlocked(t)
	pfd := int(b.r.Fd())
	p := newPort(t)
	p.Associate(pfd, 5)
	fired := make(chan any, 1)
	fs := onPort(p, &aiocb.AIOCB{Fildes: pfd, Sigevent: aiocb.Sigevent{
		Notify: aiocb.SigevThread, Value: "fsync", Func: func(v any) { fired <- v },
	}})
	if err := submit.Fsync(unix.O_DSYNC, fs); err != nil {
		t.Fatal(err)
	}
	res, err := submit.Cancel(pfd, fs)
	if err != nil || res != submit.Canceled {
		t.Fatalf("Cancel(held fsync) = %v, %v; want AIO_CANCELED", res, err)
	}
	if err := submit.Error(fs); !errors.Is(err, syscall.ECANCELED) {
		t.Errorf("cancelled status %v", err)
	}
	if n, err := submit.Return(fs); n != -1 || !errors.Is(err, syscall.ECANCELED) {
		t.Errorf("Return(cancelled) = %d, %v", n, err)
	}
	select {
	case v := <-fired:
		if v != "fsync" {
			t.Errorf("notification value %v", v)
		}
	case <-time.After(10 * time.Second):
		t.Error("a cancelled request's notification did not fire")
	}
	// The pipe read waits for its stream in user space and a kernel POLL:
	// really cancelled, final when Cancel returns, and it took no bytes.
	if res, _ := submit.Cancel(pfd, nil); res != submit.Canceled {
		t.Errorf("Cancel(pipe, nil) with a read waiting for data = %v, want AIO_CANCELED", res)
	}
	if n, err := submit.Return(b.cb); n != -1 || !errors.Is(err, syscall.ECANCELED) {
		t.Errorf("cancelled pipe read: Return %d, %v", n, err)
	}
	b.w.Write([]byte("abc"))
	b.w.Close()
	b.w = nil
	if got, err := io.ReadAll(b.r); string(got) != "abc" || err != nil {
		t.Errorf("after the cancelled read the pipe holds %q, %v; want all of abc", got, err)
	}
	if pkt, err := p.GetQueuedCompletionStatus(50 * time.Millisecond); err != port.ErrTimeout {
		t.Errorf("a cancelled request made a packet: %+v", pkt)
	}
}

// TestFsyncOrdering: an fsync's packet never precedes those of the writes
// queued before it on its file, though the kernel's fsync alone does not
// wait for them.
func TestFsyncOrdering(t *testing.T) {
	for _, fs := range testutil.FileSystems(t) {
		t.Run(fs.Name, func(t *testing.T) {
			const N, size = 32, 256 << 10
			f, fd := testutil.File(t, fs.Dir, nil, os.O_RDWR|syscall.O_DIRECT)
			p := newPort(t)
			p.Associate(fd, 0)
			var list []*aiocb.AIOCB
			want := testutil.Pattern(11, N*size)
			for i := range N {
				buf := testutil.Aligned(t, size)
				copy(buf, want[i*size:])
				list = append(list, onPort(p, &aiocb.AIOCB{Fildes: fd, Offset: int64(i * size), Buf: buf, Opcode: aiocb.OpWrite}))
			}
			if err := submit.ListIO(submit.NoWait, list, nil); err != nil {
				t.Fatal(err)
			}
			fsync := onPort(p, &aiocb.AIOCB{Fildes: fd})
			if err := submit.Fsync(unix.O_SYNC, fsync); err != nil {
				t.Fatal(err)
			}
			var writes int
			for range N + 1 {
				pkt, err := p.GetQueuedCompletionStatus(10 * time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if pkt.Err != nil {
					t.Fatalf("packet error %v", pkt.Err)
				}
				if pkt.CB == fsync {
					if writes != N {
						t.Fatalf("fsync final after %d of %d earlier writes", writes, N)
					}
					for _, w := range list {
						if err := submit.Error(w); err != nil {
							t.Fatalf("earlier write not final: %v", err)
						}
					}
					continue
				}
				writes++
			}
			if testutil.Equal(testutil.Contents(t, f), want) >= 0 {
				t.Fatal("file contents differ")
			}
		})
	}
}

// TestFsyncArgs: bad op EINVAL, bad fd EBADF, at the call; fields other
// than Fildes, Sigevent and the extended ones are ignored.
func TestFsyncArgs(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 10), os.O_RDWR)
	if err := submit.Fsync(-1, &aiocb.AIOCB{Fildes: fd}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("op -1: %v", err)
	}
	if err := submit.Fsync(unix.O_SYNC, &aiocb.AIOCB{Fildes: -1}); !errors.Is(err, syscall.EBADF) {
		t.Errorf("fd -1: %v", err)
	}
	if err := submit.Fsync(unix.O_SYNC, &aiocb.AIOCB{Fildes: 1 << 20}); !errors.Is(err, syscall.EBADF) {
		t.Errorf("closed fd: %v", err)
	}
	if err := submit.Fsync(unix.O_SYNC, nil); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("nil: %v", err)
	}
	for _, op := range []int{unix.O_SYNC, unix.O_DSYNC} {
		cb := &aiocb.AIOCB{Fildes: fd, Offset: -1, Reqprio: -1, Buf: nil, Opcode: 77 % 7}
		if err := submit.Fsync(op, cb); err != nil {
			t.Fatalf("fsync with junk in ignored fields: %v", err)
		}
		waitFinal(t, cb)
		if n, err := submit.Return(cb); n != 0 || err != nil {
			t.Errorf("fsync Return = %d, %v", n, err)
		}
	}
}

func TestListIO(t *testing.T) {
	data := testutil.Pattern(12, 4096)
	f, fd := testutil.File(t, t.TempDir(), data, os.O_RDWR)
	if err := submit.ListIO(submit.Mode(9), nil, nil); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("bad mode: %v", err)
	}
	if err := submit.ListIO(submit.Wait, make([]*aiocb.AIOCB, submit.ListIOMax+1), nil); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("too long: %v", err)
	}
	if submit.ListIOMax < 1024 {
		t.Errorf("ListIOMax = %d", submit.ListIOMax)
	}
	rd := &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpRead, Buf: make([]byte, 100), Offset: 100}
	wr := &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpWrite, Buf: []byte("hello"), Offset: 2000}
	nop := &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpNop, Buf: []byte("NOPNOP"), Offset: 3000}
	if err := submit.ListIO(submit.Wait, []*aiocb.AIOCB{nil, rd, nop, wr, nil}, nil); err != nil {
		t.Fatal(err)
	}
	for _, cb := range []*aiocb.AIOCB{rd, wr} {
		if err := submit.Error(cb); err != nil {
			t.Errorf("after Wait: %v", err)
		}
	}
	if testutil.Equal(rd.Buf, data[100:200]) >= 0 {
		t.Error("read bytes differ")
	}
	if err := submit.Error(nop); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("nop entry was touched: status %v", err)
	}
	got := testutil.Contents(t, f)
	if string(got[2000:2005]) != "hello" || string(got[3000:3006]) == "NOPNOP" {
		t.Error("file contents wrong")
	}
	submit.Return(rd)
	submit.Return(wr)

	// One invalid entry: it alone fails with its errno, the call with EIO.
	bad := &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.Opcode(-1), Buf: make([]byte, 4)}
	badOff := &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpWrite, Offset: -1, Buf: []byte("x")}
	good := &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpWrite, Buf: []byte("good"), Offset: 10}
	if err := submit.ListIO(submit.Wait, []*aiocb.AIOCB{bad, good, badOff}, nil); !errors.Is(err, syscall.EIO) {
		t.Errorf("ListIO with invalid entries: %v, want EIO", err)
	}
	for _, cb := range []*aiocb.AIOCB{bad, badOff} {
		if err := submit.Error(cb); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("invalid entry status %v", err)
		}
		if n, err := submit.Return(cb); n != -1 || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("invalid entry Return %d, %v", n, err)
		}
	}
	if n, err := submit.Return(good); n != 4 || err != nil {
		t.Errorf("good entry Return %d, %v", n, err)
	}
}

// TestListIONoWaitNotify: NoWait returns once queued and notifies sev when
// every entry is final, by signal and by goroutine.
func TestListIONoWaitNotify(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 1<<20), os.O_RDWR)
	var list []*aiocb.AIOCB
	for i := range 16 {
		list = append(list, &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpRead, Offset: int64(i) << 16, Buf: make([]byte, 1<<16)})
	}
	var calls atomic.Int32
	fired := make(chan any, 2)
	err := submit.ListIO(submit.NoWait, list, &aiocb.Sigevent{Notify: aiocb.SigevThread, Value: 7, Func: func(v any) {
		calls.Add(1)
		for _, cb := range list {
			if submit.Error(cb) == syscall.EINPROGRESS {
				fired <- "early"
				return
			}
		}
		fired <- v
	}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-fired:
		if v != 7 {
			t.Errorf("list notification %v", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("list notification never came")
	}
	for _, cb := range list {
		if n, err := submit.Return(cb); n != 1<<16 || err != nil {
			t.Errorf("Return %d, %v", n, err)
		}
	}

	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1)
	defer signal.Stop(sig)
	if err := submit.ListIO(submit.NoWait, list[:2], &aiocb.Sigevent{Notify: aiocb.SigevSignal, Signo: syscall.SIGUSR1}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sig:
	case <-time.After(10 * time.Second):
		t.Fatal("list signal never came")
	}
	if err := submit.ListIO(submit.NoWait, nil, &aiocb.Sigevent{Notify: aiocb.SigevSignal, Signo: 0}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("bad sev: %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("list notified %d times", calls.Load())
	}
}

// TestRequestSignal: SigevSignal raises the signal in this process, and
// os/signal sees it.
func TestRequestSignal(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 10), os.O_RDWR)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR2)
	defer signal.Stop(sig)
	cb := &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, 1), Sigevent: aiocb.Sigevent{Notify: aiocb.SigevSignal, Signo: syscall.SIGUSR2}}
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-sig:
		if s != syscall.SIGUSR2 {
			t.Errorf("got %v", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no signal")
	}
	waitFinal(t, cb)
	submit.Return(cb)
}

// TestNwait: the single global waiter; a concurrent caller gets EBUSY at
// once.
func TestNwait(t *testing.T) {
	drainDefault()
	if _, err := submit.Nwait(make([]*aiocb.AIOCB, 1), 2, 0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("nwait > len(list): %v", err)
	}
	b := startBlocked(t)
	first := make(chan int, 1)
	go func() {
		list := make([]*aiocb.AIOCB, 4)
		n, err := submit.Nwait(list, 1, 10*time.Second)
		if err != nil || n < 1 || list[0] != b.cb {
			t.Errorf("Nwait = %d, %v, %v", n, err, list[0])
		}
		first <- n
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if _, err := submit.Nwait(make([]*aiocb.AIOCB, 1), 1, 10*time.Second); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("second Nwait: %v, want EBUSY", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("EBUSY took %v, want at once", d)
	}
	b.w.Write([]byte("abc"))
	b.w = nil
	<-b.done
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		t.Fatal("Nwait never returned")
	}
	// Handed out once: Return still works once.
	if n, err := submit.Return(b.cb); n != 3 || err != nil {
		t.Errorf("Return after Nwait = %d, %v", n, err)
	}
	if n, err := submit.Nwait(make([]*aiocb.AIOCB, 4), 1, 20*time.Millisecond); n != 0 || err != nil {
		// Nothing in flight: AIX returns what there is.
		t.Errorf("Nwait with nothing pending = %d, %v", n, err)
	}
}

// TestNwaitCollects: Nwait hands out each default request once, with
// several batches; it times out with EAGAIN.
func TestNwaitCollects(t *testing.T) {
	drainDefault()
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 1<<16), os.O_RDWR)
	var list []*aiocb.AIOCB
	for i := range 40 {
		list = append(list, &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpRead, Offset: int64(i) * 100, Buf: make([]byte, 100)})
	}
	if err := submit.ListIO(submit.NoWait, list, nil); err != nil {
		t.Fatal(err)
	}
	seen := map[*aiocb.AIOCB]int{}
	out := make([]*aiocb.AIOCB, 16)
	for len(seen) < len(list) {
		n, err := submit.Nwait(out, 1, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, cb := range out[:n] {
			seen[cb]++
		}
	}
	for _, cb := range list {
		if seen[cb] != 1 {
			t.Fatalf("handed out %d times", seen[cb])
		}
	}
	b := startBlocked(t)
	n, err := submit.Nwait(out, 1, 30*time.Millisecond)
	if n != 0 || !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("Nwait timeout = %d, %v; want EAGAIN", n, err)
	}
	b.release(t)
	submit.Return(b.cb)
}

// TestWaitcomplete hands out each request once with its result, performing
// Return.
func TestWaitcomplete(t *testing.T) {
	drainDefault()
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 1000), os.O_RDWR)
	if cb, n, err := submit.Waitcomplete(0); cb != nil || n != 0 || !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("Waitcomplete with nothing final = %v, %d, %v", cb, n, err)
	}
	a := &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, 10)}
	fail := &aiocb.AIOCB{Fildes: fd, Buf: make([]byte, 10)}
	submit.Read(a)
	// A request that fails asynchronously: EFAULT from the kernel.
	fail.Buf = testutil.Faulting(t, 4096)
	if err := submit.Read(fail); err != nil && !errors.Is(err, syscall.EFAULT) {
		t.Fatal(err)
	}
	got := map[*aiocb.AIOCB]bool{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 2 {
		wg.Go(func() {
			cb, n, err := submit.Waitcomplete(200 * time.Millisecond)
			if cb == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			got[cb] = true
			switch cb {
			case a:
				if n != 10 || err != nil {
					t.Errorf("a: %d, %v", n, err)
				}
			case fail:
				if n != -1 || !errors.Is(err, syscall.EFAULT) {
					t.Errorf("fail: %d, %v", n, err)
				}
			}
		})
	}
	wg.Wait()
	if !got[a] {
		t.Error("Waitcomplete never returned a")
	}
	if n, err := submit.Return(a); n != -1 || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Return after Waitcomplete = %d, %v; want EINVAL", n, err)
	}
}

// TestManyPortsOneFile: requests on one file from many ports and the
// default context land on their own ports only.
func TestManyPortsOneFile(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 1<<16), os.O_RDWR)
	ports := make([]*port.Port, 4)
	for i := range ports {
		ports[i] = newPort(t)
		ports[i].Associate(fd, uintptr(i))
	}
	def := &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpRead, Buf: make([]byte, 8)}
	list := []*aiocb.AIOCB{def}
	for i, p := range ports {
		list = append(list, onPort(p, &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpRead, Offset: int64(i), Buf: make([]byte, 8)}))
	}
	if err := submit.ListIO(submit.Wait, list, nil); err != nil {
		t.Fatal(err)
	}
	for i, p := range ports {
		pkts := make([]completion.Packet, 4)
		n, err := p.GetQueuedCompletionStatusEx(pkts, 10*time.Second)
		if err != nil || n != 1 || pkts[0].CB != list[i+1] || pkts[0].Key != uintptr(i) {
			t.Errorf("port %d: %d packets %+v, %v", i, n, pkts[0], err)
		}
	}
	if n, err := submit.Return(def); n != 8 || err != nil {
		t.Errorf("default entry %d, %v", n, err)
	}
}

// TestAioNr: ports charge their depth to /proc/sys/fs/aio-nr and give it
// back on Close. aio-nr is system-wide and other test binaries run beside
// this one, so the check allows for their noise.
func TestAioNr(t *testing.T) {
	testutil.SkipOnIOURing(t, "contexts are counted in /proc/sys/fs/aio-nr")
	before := testutil.AioNr()
	if before < 0 {
		t.Skip("no /proc/sys/fs/aio-nr")
	}
	const P, depth = 50, 256
	var ps []*port.Port
	for range P {
		p, err := port.New(port.WithDepth(depth))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	during := testutil.AioNr()
	for _, p := range ps {
		p.Close()
	}
	after := testutil.AioNr()
	const noise = 4096
	if during-before < P*depth-noise {
		t.Errorf("aio-nr rose by %d with %d events open", during-before, P*depth)
	}
	if after-before > noise {
		t.Errorf("aio-nr %d before, %d after closing every port", before, after)
	}
}

// TestWaitersRaceReapers: ListIO(Wait) and Suspend park as the default
// context's driver while other goroutines reap the same context (the
// notification reaper, Error, the other waiters). A reap that consumed the
// eventfd's count, or made the awaited request final, after the waiter last
// looked must still wake it: every wait returns within its deadline. The
// reap hook widens the window between a reap taking events off the ring and
// their requests turning final from nanoseconds to 20 µs.
func TestWaitersRaceReapers(t *testing.T) {
	defer engine.SetReapHook(func() { time.Sleep(20 * time.Microsecond) })()
	// O_DIRECT on disk: the events come after io_submit returns, while the
	// waiters look and park.
	_, fd := testutil.File(t, t.TempDir(), testutil.Pattern(7, 64<<10), os.O_RDWR|syscall.O_DIRECT)
	t.Run("default", func(t *testing.T) { waitersRaceReapers(t, fd, nil) })
	t.Run("kernel-wait-port", func(t *testing.T) {
		// The driver sleeps in io_getevents; a reap elsewhere wakes it
		// through the POLL iocb on the eventfd.
		p, err := port.New(port.WithKernelWait(), port.WithDepth(64))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if err := p.Associate(fd, 1); err != nil {
			t.Fatal(err)
		}
		waitersRaceReapers(t, fd, p)
	})
}

// waitersRaceReapers is TestWaitersRaceReapers on the default context (p
// nil) or on port p.
func waitersRaceReapers(t *testing.T, fd int, p *port.Port) {
	const goroutines, rounds = 6, 1000
	var wg sync.WaitGroup
	var stuck atomic.Int32
	for g := range goroutines {
		wg.Go(func() {
			buf := testutil.Aligned(t, 4096)
			for i := range rounds {
				cb := &aiocb.AIOCB{Fildes: fd, Offset: int64(i%16) * 4096, Buf: buf}
				if p != nil {
					cb.Flags, cb.Version, cb.IOCPFD = aiocb.Extended, aiocb.Vers2, p.Fd()
				}
				if g%2 == 0 {
					// A notification keeps the reaper goroutine reaping.
					cb.Sigevent = aiocb.Sigevent{Notify: aiocb.SigevThread, Func: func(any) {}}
				}
				done := make(chan error, 1)
				go func() {
					if g%3 == 0 {
						if err := submit.Read(cb); err != nil {
							done <- fmt.Errorf("Read: %w", err)
							return
						}
						if err := submit.Suspend([]*aiocb.AIOCB{cb}, submit.Infinite); err != nil {
							done <- fmt.Errorf("Suspend: %w (status %v)", err, submit.Error(cb))
							return
						}
						done <- nil
						return
					}
					if err := submit.ListIO(submit.Wait, []*aiocb.AIOCB{cb}, nil); err != nil {
						done <- fmt.Errorf("ListIO: %w (status %v)", err, submit.Error(cb))
						return
					}
					done <- nil
				}()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("goroutine %d round %d: %v", g, i, err)
						return
					}
				case <-time.After(10 * time.Second):
					stuck.Add(1)
					t.Errorf("goroutine %d round %d: the wait never returned (status %v)", g, i, submit.Error(cb))
					return
				}
				if n, err := submit.Return(cb); n != len(buf) || err != nil {
					t.Errorf("Return %d %v", n, err)
					return
				}
				if p != nil {
					// Keep the port's queue short: take one packet (any
					// goroutine's) per round.
					if _, err := p.GetQueuedCompletionStatus(10 * time.Second); err != nil {
						t.Errorf("GetQueuedCompletionStatus: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if stuck.Load() > 0 {
		t.FailNow()
	}
}

// TestListIOWaitMemberFinishedElsewhere: ListIO(Wait) with one entry on
// port p and eight on port q, while another goroutine reaps p. That reap
// can make p's entry final before ListIO picks the contexts it waits on,
// and count it in the ListIO group only after ListIO parked as q's driver.
// The wait must still end. The reap hook holds the reaper for 5 ms between
// the entry turning final and the group count, once per round.
func TestListIOWaitMemberFinishedElsewhere(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), testutil.Pattern(11, 1<<20), os.O_RDWR)
	p, q := newPort(t), newPort(t)
	for _, pt := range []*port.Port{p, q} {
		if err := pt.Associate(fd, 1); err != nil {
			t.Fatal(err)
		}
	}
	// calls counts the hook's calls in a round: the first comes before
	// the reaped requests are final, the second after, before the group
	// counts them.
	var calls atomic.Int32
	defer engine.SetReapHook(func() {
		if calls.Add(1) == 2 {
			time.Sleep(5 * time.Millisecond)
		}
	})()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var pkts [4]completion.Packet
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = p.GetQueuedCompletionStatusEx(pkts[:], 0)
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()

	const rounds = 40
	for i := range rounds {
		list := []*aiocb.AIOCB{onPort(p, &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpRead, Offset: int64(i) * 4096, Buf: make([]byte, 4096)})}
		for j := range 8 {
			list = append(list, onPort(q, &aiocb.AIOCB{Fildes: fd, Opcode: aiocb.OpRead, Offset: int64(j) << 16, Buf: make([]byte, 64<<10)}))
		}
		calls.Store(0)
		done := make(chan error, 1)
		go func() { done <- submit.ListIO(submit.Wait, list, nil) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: ListIO: %v", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: ListIO(Wait) never returned: p's entry %v, q's first %v", i, submit.Error(list[0]), submit.Error(list[1]))
		}
		for j, cb := range list {
			if n, err := submit.Return(cb); n != len(cb.Buf) || err != nil {
				t.Fatalf("round %d entry %d: Return %d, %v", i, j, n, err)
			}
		}
		var pkts [16]completion.Packet
		for got := 0; got < 8; {
			n, err := q.GetQueuedCompletionStatusEx(pkts[:], 5*time.Second)
			if err != nil {
				t.Fatalf("round %d: q: %v after %d packets", i, err, got)
			}
			got += n
		}
	}
}

// TestListIOWaitOverflow: a ListIO(Wait) with more entries than the context
// has room for queues what fits, refuses the rest with EAGAIN (no I/O, no
// packet) and returns EAGAIN once the queued ones are final, on a port and
// on the default context.
func TestListIOWaitOverflow(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), testutil.Pattern(3, 4096), os.O_RDWR)
	p, err := port.New(port.WithDepth(4))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Associate(fd, 9); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		n    int
		pfd  int
	}{{"port", 10, p.Fd()}, {"default", 1500, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			list := make([]*aiocb.AIOCB, tc.n)
			for i := range list {
				list[i] = &aiocb.AIOCB{Fildes: fd, Offset: int64(i % 4096), Buf: make([]byte, 1)}
				if tc.pfd != 0 {
					list[i].Flags, list[i].Version, list[i].IOCPFD = aiocb.Extended, aiocb.Vers2, tc.pfd
				}
			}
			if err := submit.ListIO(submit.Wait, list, nil); !errors.Is(err, syscall.EAGAIN) {
				t.Fatalf("ListIO: %v, want EAGAIN", err)
			}
			queued := 0
			for i, cb := range list {
				switch n, err := submit.Return(cb); {
				case err == nil && n == 1:
					queued++
				case errors.Is(err, syscall.EAGAIN) && n == -1:
				default:
					t.Fatalf("entry %d: Return %d %v", i, n, err)
				}
			}
			if queued == 0 || queued == tc.n {
				t.Fatalf("%d of %d entries queued", queued, tc.n)
			}
			if tc.pfd != 0 {
				var pkts [16]completion.Packet
				n, _ := p.GetQueuedCompletionStatusEx(pkts[:], 0)
				if n != queued {
					t.Fatalf("%d packets for %d queued entries", n, queued)
				}
			}
		})
	}
}
