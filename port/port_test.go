//go:build linux

package port_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
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

// kernelWait makes the ports of the tests (newPort, mkPort) kernel-wait
// ports; TestKernelWait sets it while it runs other tests again.
var kernelWait bool

// mkPort is port.New with WithKernelWait added while kernelWait is set.
func mkPort(opts ...port.Option) (*port.Port, error) {
	if kernelWait {
		opts = append(opts, port.WithKernelWait())
	}
	return port.New(opts...)
}

// newPort makes a port closed at cleanup.
func newPort(t testing.TB, opts ...port.Option) *port.Port {
	t.Helper()
	p, err := mkPort(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// cbFor returns an AIOCB on fd completing to p.
func cbFor(p *port.Port, fd int, off int64, buf []byte) *aiocb.AIOCB {
	return &aiocb.AIOCB{Fildes: fd, Offset: off, Buf: buf, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}
}

// get dequeues one packet within a generous deadline.
func get(t testing.TB, p *port.Port) completion.Packet {
	t.Helper()
	pkt, err := p.GetQueuedCompletionStatus(10 * time.Second)
	if err != nil {
		t.Fatalf("GetQueuedCompletionStatus: %v", err)
	}
	return pkt
}

func TestCreate(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), []byte("x"), os.O_RDWR)

	p, err := port.Create(-1, nil, 0, 0)
	if err != nil {
		t.Fatalf("Create(-1, nil): %v", err)
	}
	defer p.Close()
	if p.Fd() < 3 {
		t.Errorf("Fd() = %d, want >= 3", p.Fd())
	}

	q, err := port.Create(fd, p, 42, 0)
	if err != nil || q != p {
		t.Fatalf("Create(fd, existing) = %p, %v; want the existing port %p", q, err, p)
	}
	cb := cbFor(p, fd, 0, make([]byte, 1))
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	if pkt := get(t, p); pkt.Key != 42 || pkt.CB != cb {
		t.Errorf("packet key %d cb %p, want 42 %p", pkt.Key, pkt.CB, cb)
	}

	if _, err := port.Create(fd, nil, 0, -1); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("concurrency -1: %v, want EINVAL", err)
	}
	if _, err := port.Create(1<<20, nil, 0, 0); !errors.Is(err, syscall.EBADF) {
		t.Errorf("bad fd: %v, want EBADF", err)
	}
	if _, err := port.New(port.WithDepth(0)); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("WithDepth(0): %v, want EINVAL", err)
	}

	// A new port associated in one call.
	r, err := port.Create(fd, nil, 7, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r == p || r.Fd() == p.Fd() {
		t.Error("Create(fd, nil) returned an existing port")
	}
}

func TestCreateLimitNamesKnob(t *testing.T) {
	testutil.SkipOnIOURing(t, "the limit is /proc/sys/fs/aio-max-nr")
	b, err := os.ReadFile("/proc/sys/fs/aio-max-nr")
	if err != nil {
		t.Skip("no /proc/sys/fs/aio-max-nr")
	}
	var max int
	if _, err := fmtSscan(string(b), &max); err != nil {
		t.Fatal(err)
	}
	_, err = port.New(port.WithDepth(max + 1))
	if !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("depth above aio-max-nr: %v, want EAGAIN", err)
	}
	if !containsStr(err.Error(), "/proc/sys/fs/aio-max-nr") {
		t.Errorf("error %q does not name /proc/sys/fs/aio-max-nr", err)
	}
}

func TestTimeouts(t *testing.T) {
	p := newPort(t)
	if _, err := p.GetQueuedCompletionStatus(0); err != port.ErrTimeout {
		t.Errorf("poll: %v, want ErrTimeout", err)
	}
	if !errors.Is(port.ErrTimeout, os.ErrDeadlineExceeded) {
		t.Error("ErrTimeout is not os.ErrDeadlineExceeded")
	}
	start := time.Now()
	_, err := p.GetQueuedCompletionStatus(50 * time.Millisecond)
	if err != port.ErrTimeout {
		t.Errorf("timeout: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Errorf("50ms timeout took %v", d)
	}
	pkts := make([]completion.Packet, 4)
	if n, err := p.GetQueuedCompletionStatusEx(pkts, 20*time.Millisecond); n != 0 || err != port.ErrTimeout {
		t.Errorf("Ex timeout: %d, %v", n, err)
	}

	// Infinite blocks until a packet comes.
	go func() {
		time.Sleep(20 * time.Millisecond)
		p.PostQueuedCompletionStatus(5, 6, nil)
	}()
	pkt, err := p.GetQueuedCompletionStatus(port.Infinite)
	if err != nil || pkt.Bytes != 5 || pkt.Key != 6 || pkt.CB != nil {
		t.Errorf("Infinite: %+v, %v", pkt, err)
	}
}

func TestPostRoundTrip(t *testing.T) {
	p := newPort(t)
	cb := &aiocb.AIOCB{Fildes: 123}
	if err := p.PostQueuedCompletionStatus(-1, ^uintptr(0), cb); err != nil {
		t.Fatal(err)
	}
	if err := p.PostQueuedCompletionStatus(0, 0, nil); err != nil {
		t.Fatal(err)
	}
	pkt := get(t, p)
	if pkt.Bytes != -1 || pkt.Key != ^uintptr(0) || pkt.CB != cb || pkt.Err != nil {
		t.Errorf("posted packet came back as %+v", pkt)
	}
	if pkt := get(t, p); pkt.CB != nil || pkt.Key != 0 {
		t.Errorf("second packet %+v", pkt)
	}
}

// TestFIFO: posted and I/O packets share one FIFO.
func TestFIFO(t *testing.T) {
	p := newPort(t)
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 4096), os.O_RDWR)
	if err := p.Associate(fd, 9); err != nil {
		t.Fatal(err)
	}
	p.PostQueuedCompletionStatus(1, 1, nil)
	cb := cbFor(p, fd, 0, make([]byte, 16))
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	// Wait until the read is final, then post again.
	for submit.Error(cb) == syscall.EINPROGRESS {
		time.Sleep(time.Millisecond)
	}
	p.PostQueuedCompletionStatus(3, 3, nil)
	keys := []uintptr{get(t, p).Key, get(t, p).Key, get(t, p).Key}
	if keys[0] != 1 || keys[1] != 9 || keys[2] != 3 {
		t.Errorf("packet order by key %v, want [1 9 3]", keys)
	}
}

func TestGetQueuedCompletionStatusEx(t *testing.T) {
	p := newPort(t)
	for i := range 10 {
		p.PostQueuedCompletionStatus(i, uintptr(i), nil)
	}
	pkts := make([]completion.Packet, 4)
	n, err := p.GetQueuedCompletionStatusEx(pkts, port.Infinite)
	if err != nil || n != 4 {
		t.Fatalf("Ex = %d, %v; want 4", n, err)
	}
	for i := range n {
		if pkts[i].Bytes != i {
			t.Errorf("pkts[%d].Bytes = %d", i, pkts[i].Bytes)
		}
	}
	big := make([]completion.Packet, 100)
	n, err = p.GetQueuedCompletionStatusEx(big, port.Infinite)
	if err != nil || n != 6 {
		t.Fatalf("Ex with 6 queued = %d, %v; must not block once it has one", n, err)
	}
	if n, err := p.GetQueuedCompletionStatusEx(nil, 0); n != 0 || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Ex(nil) = %d, %v; want EINVAL", n, err)
	}
}

func TestWaitContext(t *testing.T) {
	p := newPort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait past deadline: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait cancelled: %v", err)
	}
	p.PostQueuedCompletionStatus(1, 2, nil)
	if pkt, err := p.Wait(context.Background()); err != nil || pkt.Key != 2 {
		t.Errorf("Wait: %+v %v", pkt, err)
	}
}

// TestReadWrite covers the packet of a write and a read on disk and tmpfs,
// buffered and O_DIRECT.
func TestReadWrite(t *testing.T) {
	for _, fs := range testutil.FileSystems(t) {
		for _, direct := range []bool{false, true} {
			name := fs.Name
			if direct {
				name += "/direct"
			}
			t.Run(name, func(t *testing.T) {
				flag := os.O_RDWR
				if direct {
					flag |= syscall.O_DIRECT
				}
				f, fd := testutil.File(t, fs.Dir, make([]byte, 64<<10), flag)
				p := newPort(t)
				if err := p.Associate(fd, 1); err != nil {
					t.Fatal(err)
				}
				want := testutil.Pattern(1, 8192)
				wbuf := testutil.Aligned(t, 8192)
				copy(wbuf, want)
				w := cbFor(p, fd, 4096, wbuf)
				if err := submit.Write(w); err != nil {
					if direct && errors.Is(err, syscall.EINVAL) {
						t.Skipf("%s does not support O_DIRECT: %v", fs.Name, err)
					}
					t.Fatal(err)
				}
				pkt := get(t, p)
				if pkt.Err != nil || pkt.Bytes != 8192 || pkt.CB != w || pkt.Key != 1 {
					t.Fatalf("write packet %+v", pkt)
				}
				if n, err := submit.Return(w); n != 8192 || err != nil {
					t.Errorf("Return(write) = %d, %v", n, err)
				}
				rbuf := testutil.Aligned(t, 8192)
				r := cbFor(p, fd, 4096, rbuf)
				if err := submit.Read(r); err != nil {
					t.Fatal(err)
				}
				if pkt := get(t, p); pkt.Err != nil || pkt.Bytes != 8192 {
					t.Fatalf("read packet %+v", pkt)
				}
				if i := testutil.Equal(rbuf, want); i >= 0 {
					t.Fatalf("read back differs at %d", i)
				}
				if i := testutil.Equal(testutil.Contents(t, f)[4096:12288], want); i >= 0 {
					t.Fatalf("file differs at %d", i)
				}
			})
		}
	}
}

// TestShortReadAndEOF: a read crossing end of file is short, one past it
// reads 0 bytes; both are successes.
func TestShortReadAndEOF(t *testing.T) {
	data := testutil.Pattern(2, 1000)
	_, fd := testutil.File(t, t.TempDir(), data, os.O_RDONLY)
	p := newPort(t)
	p.Associate(fd, 0)
	short := cbFor(p, fd, 500, make([]byte, 1024))
	past := cbFor(p, fd, 5000, make([]byte, 1024))
	if err := submit.ListIO(submit.NoWait, []*aiocb.AIOCB{short, past}, nil); err != nil {
		t.Fatal(err)
	}
	got := map[*aiocb.AIOCB]completion.Packet{}
	for range 2 {
		pkt := get(t, p)
		got[pkt.CB] = pkt
	}
	if pkt := got[short]; pkt.Err != nil || pkt.Bytes != 500 || testutil.Equal(short.Buf[:500], data[500:]) >= 0 {
		t.Errorf("short read packet %+v", pkt)
	}
	if pkt := got[past]; pkt.Err != nil || pkt.Bytes != 0 {
		t.Errorf("read past EOF packet %+v", pkt)
	}
}

// TestEFAULT: a buffer the kernel cannot write makes a packet carrying
// EFAULT, and a nil error from the wait.
func TestEFAULT(t *testing.T) {
	_, fd := testutil.File(t, t.TempDir(), make([]byte, 8192), os.O_RDWR)
	p := newPort(t)
	p.Associate(fd, 0)
	cb := cbFor(p, fd, 0, testutil.Faulting(t, 4096))
	err := submit.Read(cb)
	if err != nil {
		// The kernel may refuse the iocb at once (access_ok); either way the
		// request performs no I/O and reports EFAULT.
		if !errors.Is(err, syscall.EFAULT) {
			t.Fatalf("Read into PROT_NONE: %v", err)
		}
		return
	}
	pkt, werr := p.GetQueuedCompletionStatus(10 * time.Second)
	if werr != nil || !errors.Is(pkt.Err, syscall.EFAULT) || pkt.Bytes != 0 {
		t.Fatalf("packet %+v, err %v; want Err EFAULT and a nil error", pkt, werr)
	}
	if err := submit.Error(cb); !errors.Is(err, syscall.EFAULT) {
		t.Errorf("Error = %v", err)
	}
	if n, err := submit.Return(cb); n != -1 || !errors.Is(err, syscall.EFAULT) {
		t.Errorf("Return = %d, %v", n, err)
	}
}

// TestVectored reads into 10 iovecs and writes from 10.
func TestVectored(t *testing.T) {
	data := testutil.Pattern(3, 10*512+512)
	f, fd := testutil.File(t, t.TempDir(), data, os.O_RDWR)
	p := newPort(t)
	p.Associate(fd, 0)
	iov := make([][]byte, 10)
	for i := range iov {
		iov[i] = make([]byte, 512)
	}
	cb := cbFor(p, fd, 512, nil)
	cb.Opcode = aiocb.OpReadv
	cb.Iov = iov
	if cb.Nbytes() != 5120 {
		t.Errorf("Nbytes = %d", cb.Nbytes())
	}
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	if pkt := get(t, p); pkt.Err != nil || pkt.Bytes != 5120 {
		t.Fatalf("readv packet %+v", pkt)
	}
	for i, b := range iov {
		if testutil.Equal(b, data[512+512*i:512+512*(i+1)]) >= 0 {
			t.Fatalf("iovec %d differs", i)
		}
	}
	want := testutil.Pattern(4, 5120)
	for i := range iov {
		iov[i] = want[512*i : 512*(i+1)]
	}
	w := cbFor(p, fd, 0, nil)
	w.Opcode = aiocb.OpWritev
	w.Iov = iov
	if err := submit.Write(w); err != nil {
		t.Fatal(err)
	}
	if pkt := get(t, p); pkt.Err != nil || pkt.Bytes != 5120 {
		t.Fatalf("writev packet %+v", pkt)
	}
	if testutil.Equal(testutil.Contents(t, f)[:5120], want) >= 0 {
		t.Fatal("writev wrote the wrong bytes")
	}
}

// TestOwnPackets: 48 goroutines, each with its own port, each harvest
// exactly the packets of their own requests.
func TestOwnPackets(t *testing.T) {
	const G, N = 48, 40
	data := testutil.Pattern(5, G*N*64)
	_, fd := testutil.File(t, t.TempDir(), data, os.O_RDONLY)
	var wg sync.WaitGroup
	errs := make(chan error, G)
	for g := range G {
		wg.Go(func() {
			p, err := mkPort()
			if err != nil {
				errs <- err
				return
			}
			defer p.Close()
			if err := p.Associate(fd, uintptr(g)); err != nil {
				errs <- err
				return
			}
			mine := map[*aiocb.AIOCB]bool{}
			var list []*aiocb.AIOCB
			for i := range N {
				cb := cbFor(p, fd, int64((g*N+i)*64), make([]byte, 64))
				list = append(list, cb)
				mine[cb] = true
			}
			if err := submit.ListIO(submit.NoWait, list, nil); err != nil {
				errs <- err
				return
			}
			pkts := make([]completion.Packet, 8)
			for got := 0; got < N; {
				n, err := p.GetQueuedCompletionStatusEx(pkts, 10*time.Second)
				if err != nil {
					errs <- err
					return
				}
				for _, pkt := range pkts[:n] {
					if !mine[pkt.CB] || pkt.Key != uintptr(g) {
						errs <- errorf("goroutine %d got a packet of another port (key %d)", g, pkt.Key)
						return
					}
					delete(mine, pkt.CB)
					off := pkt.CB.Offset
					if pkt.Err != nil || testutil.Equal(pkt.CB.Buf, data[off:off+64]) >= 0 {
						errs <- errorf("goroutine %d: bad packet %+v", g, pkt)
						return
					}
				}
				got += n
			}
			if _, err := p.GetQueuedCompletionStatus(0); err != port.ErrTimeout {
				errs <- errorf("goroutine %d: extra packet (%v)", g, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestLIFO: the most recent waiter is released first.
func TestLIFO(t *testing.T) {
	p := newPort(t)
	const W = 4
	order := make(chan int, W)
	var started sync.WaitGroup
	var wg sync.WaitGroup
	for i := range W {
		started.Add(1)
		wg.Go(func() {
			started.Done()
			pkt, err := p.GetQueuedCompletionStatus(10 * time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			if int(pkt.Key) != W-1-i {
				// Waiter i arrived i-th; LIFO gives it packet W-1-i.
				t.Errorf("waiter %d got packet %d, want %d", i, pkt.Key, W-1-i)
			}
			order <- i
		})
		started.Wait()
		waitParked(t, p, i+1)
	}
	for k := range W {
		p.PostQueuedCompletionStatus(0, uintptr(k), nil)
		if got := <-order; got != W-1-k {
			t.Errorf("packet %d released waiter %d, want %d", k, got, W-1-k)
		}
	}
	wg.Wait()
}

// TestCloseWakesWaiters: Close releases every waiter with ErrClosed.
func TestCloseWakesWaiters(t *testing.T) {
	p, err := mkPort()
	if err != nil {
		t.Fatal(err)
	}
	const W = 8
	errs := make(chan error, W)
	for i := range W {
		go func() {
			if i%2 == 0 {
				_, err := p.GetQueuedCompletionStatus(port.Infinite)
				errs <- err
			} else {
				_, err := p.GetQueuedCompletionStatusEx(make([]completion.Packet, 3), time.Minute)
				errs <- err
			}
		}()
	}
	waitParked(t, p, W)
	start := time.Now()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for range W {
		select {
		case err := <-errs:
			if err != port.ErrClosed {
				t.Errorf("waiter returned %v, want ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a waiter was not released by Close")
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v to release waiters", d)
	}
	if err := p.Close(); err != port.ErrClosed {
		t.Errorf("second Close: %v", err)
	}
	if _, err := p.GetQueuedCompletionStatus(0); err != port.ErrClosed {
		t.Errorf("Get after Close: %v", err)
	}
	if err := p.PostQueuedCompletionStatus(0, 0, nil); err != port.ErrClosed {
		t.Errorf("Post after Close: %v", err)
	}
}

// TestCloseInFlight: requests in flight at Close finish, become final, make
// no packet; the old fd then refuses submits with EBADF.
func TestCloseInFlight(t *testing.T) {
	data := testutil.Pattern(6, 1<<20)
	_, fd := testutil.File(t, t.TempDir(), data, os.O_RDONLY|syscall.O_DIRECT)
	p, err := mkPort(port.WithDepth(256))
	if err != nil {
		t.Fatal(err)
	}
	p.Associate(fd, 0)
	var list []*aiocb.AIOCB
	for i := range 256 {
		list = append(list, cbFor(p, fd, int64(i%256)*4096, testutil.Aligned(t, 4096)))
	}
	if err := submit.ListIO(submit.NoWait, list, nil); err != nil {
		t.Fatal(err)
	}
	oldFd := p.Fd()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for i, cb := range list {
		if err := submit.Error(cb); err != nil {
			t.Fatalf("request %d after Close: status %v, want final success", i, err)
		}
		if n, err := submit.Return(cb); n != 4096 || err != nil {
			t.Fatalf("request %d: Return %d, %v", i, n, err)
		}
		if testutil.Equal(cb.Buf, data[cb.Offset:cb.Offset+4096]) >= 0 {
			t.Fatalf("request %d read wrong bytes", i)
		}
	}
	// The AIOCB is free again, and the closed port's fd refuses it.
	cb := list[0]
	if err := submit.Read(cb); !errors.Is(err, syscall.EBADF) {
		t.Errorf("submit to closed port fd %d: %v, want EBADF", oldFd, err)
	}
}

// TestDepth: more requests than the port's depth. The excess fails with
// EAGAIN and no I/O; nothing queued is lost or duplicated.
func TestDepth(t *testing.T) {
	const depth = 8
	data := testutil.Pattern(7, 64*1024)
	_, fd := testutil.File(t, t.TempDir(), data, os.O_RDONLY|syscall.O_DIRECT)
	p := newPort(t, port.WithDepth(depth))
	p.Associate(fd, 0)
	seen := map[*aiocb.AIOCB]int{}
	var all []*aiocb.AIOCB
	queued := 0
	for i := range 3 * depth {
		cb := cbFor(p, fd, int64(i%16)*4096, testutil.Aligned(t, 4096))
		all = append(all, cb)
		switch err := submit.Read(cb); {
		case err == nil:
			queued++
		case errors.Is(err, syscall.EAGAIN):
			if e := submit.Error(cb); !errors.Is(e, syscall.EAGAIN) {
				t.Errorf("refused request status %v, want EAGAIN", e)
			}
			// Room comes back as requests finish; harvest until it does.
			// Only EAGAIN may refuse the request meanwhile.
			for {
				pkt := get(t, p)
				seen[pkt.CB]++
				err := submit.Read(cb)
				if err == nil {
					break
				}
				if !errors.Is(err, syscall.EAGAIN) {
					t.Fatalf("resubmit: %v", err)
				}
			}
			queued++
		default:
			t.Fatal(err)
		}
	}
	for len(seen) < len(all) {
		pkt := get(t, p)
		seen[pkt.CB]++
		if pkt.Err != nil || pkt.Bytes != 4096 {
			t.Fatalf("packet %+v", pkt)
		}
	}
	for i, cb := range all {
		if seen[cb] != 1 {
			t.Errorf("request %d harvested %d times", i, seen[cb])
		}
	}
	if queued != len(all) {
		t.Errorf("queued %d of %d", queued, len(all))
	}
}

// TestGCStorm: heap buffers stay alive and in place while the collector
// runs flat out and hundreds of requests are in flight.
func TestGCStorm(t *testing.T) {
	const N = 512
	data := testutil.Pattern(8, N*512)
	_, fd := testutil.File(t, t.TempDir(), data, os.O_RDONLY)
	p := newPort(t, port.WithDepth(N))
	p.Associate(fd, 0)
	stop := make(chan struct{})
	var gcs sync.WaitGroup
	gcs.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	})
	for round := range 4 {
		for i := range N {
			// The AIOCB and its buffer are reachable only through the engine
			// once the loop moves on.
			cb := cbFor(p, fd, int64(i)*512, make([]byte, 512))
			if err := submit.Read(cb); err != nil {
				t.Fatal(err)
			}
			_ = make([]byte, 4096) // garbage to collect
		}
		for range N {
			pkt := get(t, p)
			off := pkt.CB.Offset
			if pkt.Err != nil || testutil.Equal(pkt.CB.Buf, data[off:off+512]) >= 0 {
				t.Fatalf("round %d: packet at %d has wrong bytes (%v)", round, off, pkt.Err)
			}
		}
	}
	close(stop)
	gcs.Wait()
}

// waitParked waits until n goroutines are blocked in the port's waits.
func waitParked(t *testing.T, p *port.Port, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Waiters() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters parked, want %d", p.Waiters(), n)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond)
}

func TestAssociate(t *testing.T) {
	p := newPort(t)
	if err := p.Associate(-5, 0); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Associate(-5): %v", err)
	}
	_, fd := testutil.File(t, t.TempDir(), []byte("abc"), os.O_RDWR)
	q := newPort(t)
	// One file on two ports, one port with two files.
	if err := p.Associate(fd, 1); err != nil {
		t.Fatal(err)
	}
	if err := q.Associate(fd, 2); err != nil {
		t.Fatal(err)
	}
	_, fd2 := testutil.File(t, t.TempDir(), []byte("def"), os.O_RDWR)
	if err := p.Associate(fd2, 3); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p   *port.Port
		fd  int
		key uintptr
	}{{p, fd, 1}, {q, fd, 2}, {p, fd2, 3}} {
		cb := cbFor(c.p, c.fd, 0, make([]byte, 3))
		if err := submit.Read(cb); err != nil {
			t.Fatal(err)
		}
		if pkt := get(t, c.p); pkt.Key != c.key || pkt.CB != cb {
			t.Errorf("fd %d on port %d: key %d", c.fd, c.p.Fd(), pkt.Key)
		}
	}
	p.Close()
	if err := p.Associate(fd, 1); err != port.ErrClosed {
		t.Errorf("Associate on closed port: %v", err)
	}
}

func TestOptionsDepth(t *testing.T) {
	p := newPort(t, port.WithDepth(3))
	if p.Depth() != 3 {
		t.Errorf("Depth() = %d", p.Depth())
	}
	_ = unix.O_DIRECT
}
