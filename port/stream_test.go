//go:build linux

package port_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// pipeFds returns a pipe's read and write ends, closed at cleanup.
func pipeFds(t testing.TB) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

// streamPair is a connected pair of stream sockets: mine, the fd the port
// uses, and peer, the other end as a net.Conn (or a raw fd for AF_UNIX).
type streamPair struct {
	name string
	fd   int
	peer net.Conn
}

// socketPairs returns a TCP loopback pair and an AF_UNIX pair.
func socketPairs(t testing.TB) []streamPair {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	t.Cleanup(func() { f.Close(); peer.Close() })

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	uf := os.NewFile(uintptr(fds[1]), "unix-peer")
	upeer, err := net.FileConn(uf)
	uf.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); upeer.Close() })
	return []streamPair{{"tcp", int(f.Fd()), peer}, {"unix", fds[0], upeer}}
}

// getWithin dequeues one packet, failing if it takes longer than d.
func getWithin(t testing.TB, p *port.Port, d time.Duration) completion.Packet {
	t.Helper()
	pkt, err := p.GetQueuedCompletionStatus(d)
	if err != nil {
		t.Fatalf("no packet within %v: %v", d, err)
	}
	return pkt
}

// noPacket fails if p delivers a packet within d.
func noPacket(t testing.TB, p *port.Port, d time.Duration) {
	t.Helper()
	if pkt, err := p.GetQueuedCompletionStatus(d); err != port.ErrTimeout {
		t.Fatalf("unexpected packet %+v, %v", pkt, err)
	}
}

// TestStreamPartialRead: a read of 64 bytes on a socket whose peer sent
// "hello" completes with 5, on TCP and AF_UNIX, as read(2) would.
func TestStreamPartialRead(t *testing.T) {
	for _, sp := range socketPairs(t) {
		t.Run(sp.name, func(t *testing.T) {
			p := newPort(t)
			p.Associate(sp.fd, 7)
			cb := cbFor(p, sp.fd, 1<<40, make([]byte, 64)) // Offset is ignored
			if err := submit.Read(cb); err != nil {
				t.Fatal(err)
			}
			noPacket(t, p, 20*time.Millisecond)
			sp.peer.Write([]byte("hello"))
			pkt := getWithin(t, p, time.Second)
			if pkt.Key != 7 || pkt.CB != cb || pkt.Err != nil || pkt.Bytes != 5 || string(cb.Buf[:5]) != "hello" {
				t.Fatalf("packet %+v, buf %q; want key 7, 5 bytes of hello", pkt, cb.Buf[:5])
			}
			if n, err := submit.Return(cb); n != 5 || err != nil {
				t.Errorf("Return = %d, %v", n, err)
			}
		})
	}
}

// TestStreamPipeEOF: a pipe read of 20 bytes with "abc\n" waiting
// completes with 4 at once; the next completes with 0 once the writer
// closes.
func TestStreamPipeEOF(t *testing.T) {
	r, w := pipeFds(t)
	p := newPort(t)
	p.Associate(r, 1)
	unix.Write(w, []byte("abc\n"))
	cb := cbFor(p, r, 0, make([]byte, 20))
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	if pkt := getWithin(t, p, time.Second); pkt.Bytes != 4 || string(cb.Buf[:4]) != "abc\n" {
		t.Fatalf("packet %+v", pkt)
	}
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	noPacket(t, p, 20*time.Millisecond)
	unix.Close(w)
	if pkt := getWithin(t, p, time.Second); pkt.Bytes != 0 || pkt.Err != nil {
		t.Fatalf("end of stream packet %+v, want 0 bytes, no error", pkt)
	}
}

// TestStreamReadOrder: three pending reads on one pipe complete in the
// order submitted, each taking the next chunk; none splits one.
func TestStreamReadOrder(t *testing.T) {
	r, w := pipeFds(t)
	p := newPort(t)
	p.Associate(r, 1)
	cbs := make([]*aiocb.AIOCB, 3)
	for i := range cbs {
		cbs[i] = cbFor(p, r, 0, make([]byte, 16))
		if err := submit.Read(cbs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i, chunk := range []string{"first", "second", "third"} {
		unix.Write(w, []byte(chunk))
		pkt := getWithin(t, p, time.Second)
		if pkt.CB != cbs[i] || string(cbs[i].Buf[:pkt.Bytes]) != chunk {
			t.Fatalf("chunk %d: packet of read %v with %q", i, pkt.CB == cbs[i], pkt.CB.Buf[:pkt.Bytes])
		}
	}
}

// TestStreamWriteOrder: two 300 KiB writes on one socket, larger than its
// buffer, never interleave; each completes whole, in order.
func TestStreamWriteOrder(t *testing.T) {
	for _, sp := range socketPairs(t) {
		t.Run(sp.name, func(t *testing.T) {
			p := newPort(t)
			p.Associate(sp.fd, 3)
			a := cbFor(p, sp.fd, 0, bytes.Repeat([]byte{'a'}, 300<<10))
			b := cbFor(p, sp.fd, 0, bytes.Repeat([]byte{'b'}, 300<<10))
			a.Opcode, b.Opcode = aiocb.OpWrite, aiocb.OpWrite
			if err := submit.ListIO(submit.NoWait, []*aiocb.AIOCB{a, b}, nil); err != nil {
				t.Fatal(err)
			}
			got := make(chan []byte)
			go func() {
				var all []byte
				buf := make([]byte, 8192)
				for len(all) < 600<<10 {
					n, err := sp.peer.Read(buf)
					if err != nil {
						break
					}
					all = append(all, buf[:n]...)
					time.Sleep(50 * time.Microsecond) // a slow reader
				}
				got <- all
			}()
			for i, want := range []*aiocb.AIOCB{a, b} {
				pkt := getWithin(t, p, 10*time.Second)
				if pkt.CB != want || pkt.Bytes != 300<<10 || pkt.Err != nil {
					t.Fatalf("write %d: packet %+v", i, pkt)
				}
			}
			all := <-got
			if len(all) != 600<<10 || bytes.Count(all[:300<<10], []byte{'a'}) != 300<<10 || bytes.Count(all[300<<10:], []byte{'b'}) != 300<<10 {
				t.Fatalf("peer read %d bytes, interleaved or short", len(all))
			}
		})
	}
}

// TestStreamManyPending: 300 socket reads and 64 pipe reads pending on one
// port hold no thread, and each completes within a second of its data.
func TestStreamManyPending(t *testing.T) {
	p := newPort(t, port.WithDepth(400))
	type pend struct {
		cb   *aiocb.AIOCB
		feed func()
	}
	var all []*pend
	for range 300 {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
		p.Associate(fds[0], uintptr(fds[0]))
		all = append(all, &pend{cbFor(p, fds[0], 0, make([]byte, 8)), func() { unix.Write(fds[1], []byte("s")) }})
	}
	for range 64 {
		r, w := pipeFds(t)
		p.Associate(r, uintptr(r))
		all = append(all, &pend{cbFor(p, r, 0, make([]byte, 8)), func() { unix.Write(w, []byte("p")) }})
	}
	before := testutil.Threads(t)
	for _, pd := range all {
		if err := submit.Read(pd.cb); err != nil {
			t.Fatal(err)
		}
	}
	// One waiter parked while they all wait.
	time.Sleep(100 * time.Millisecond)
	if after := testutil.Threads(t); after > before+1 {
		t.Errorf("threads %d with %d stream reads pending, %d before", after, len(all), before)
	}
	if st := p.Stats(); st.InFlight != len(all) {
		t.Errorf("Stats.InFlight = %d, want %d", st.InFlight, len(all))
	}
	// Feed them in a scrambled order, a few at a time; each completes
	// within a second of its data.
	for i := 0; i < len(all); i++ {
		pd := all[(i*37)%len(all)]
		pd.feed()
		pkt := getWithin(t, p, time.Second)
		if pkt.CB != pd.cb || pkt.Bytes != 1 {
			t.Fatalf("feed %d: packet %+v, want the fed read with 1 byte", i, pkt)
		}
	}
	if after := testutil.Threads(t); after > before+2 {
		t.Errorf("threads %d after, %d before", after, before)
	}
}

// TestStreamCancel: Cancel of a pending stream read is Canceled and final
// at once: ECANCELED, Return -1, no packet, its notification fires, and it
// took no bytes. A pending write with bytes still to send is cancelled too.
func TestStreamCancel(t *testing.T) {
	r, w := pipeFds(t)
	p := newPort(t)
	p.Associate(r, 1)
	fired := make(chan any, 1)
	cb := cbFor(p, r, 0, make([]byte, 16))
	cb.Sigevent = aiocb.Sigevent{Notify: aiocb.SigevThread, Value: "x", Func: func(v any) { fired <- v }}
	queued := cbFor(p, r, 0, make([]byte, 16)) // behind cb in the pipe's FIFO
	for _, c := range []*aiocb.AIOCB{cb, queued} {
		if err := submit.Read(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*aiocb.AIOCB{queued, cb} {
		if res, err := submit.Cancel(r, c); res != submit.Canceled || err != nil {
			t.Fatalf("Cancel = %v, %v; want AIO_CANCELED", res, err)
		}
		if err := submit.Error(c); !errors.Is(err, syscall.ECANCELED) {
			t.Errorf("Error after Cancel = %v, want ECANCELED at once", err)
		}
		if n, err := submit.Return(c); n != -1 || !errors.Is(err, syscall.ECANCELED) {
			t.Errorf("Return = %d, %v", n, err)
		}
	}
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Error("the cancelled read's notification did not fire")
	}
	noPacket(t, p, 50*time.Millisecond)
	unix.Write(w, []byte("kept"))
	buf := make([]byte, 16)
	if n, _ := unix.Read(r, buf); string(buf[:n]) != "kept" {
		t.Errorf("the pipe holds %q after the cancel, want all of kept", buf[:n])
	}
	if res, _ := submit.Cancel(r, nil); res != submit.AllDone {
		t.Errorf("Cancel with nothing pending = %v", res)
	}
	if st := p.Stats(); st.Canceled != 2 || st.Completed != 0 {
		t.Errorf("Stats %+v, want 2 canceled, 0 completed", st)
	}
}

// TestStreamClose: Close of a port with stream reads and polls waiting
// returns promptly; they are final with ECANCELED and make no packet.
func TestStreamClose(t *testing.T) {
	r, _ := pipeFds(t)
	sp := socketPairs(t)[1]
	p, err := mkPort()
	if err != nil {
		t.Fatal(err)
	}
	p.Associate(r, 1)
	p.Associate(sp.fd, 2)
	var cbs []*aiocb.AIOCB
	for _, fd := range []int{r, r, sp.fd} {
		cb := cbFor(p, fd, 0, make([]byte, 4))
		if err := submit.Read(cb); err != nil {
			t.Fatal(err)
		}
		cbs = append(cbs, cb)
	}
	poll := cbFor(p, sp.fd, 0, nil)
	poll.Events = unix.POLLIN
	if err := submit.Poll(poll); err != nil {
		t.Fatal(err)
	}
	cbs = append(cbs, poll)
	done := make(chan error)
	go func() { done <- p.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for streams that never become ready")
	}
	for i, cb := range cbs {
		if err := submit.Error(cb); !errors.Is(err, syscall.ECANCELED) {
			t.Errorf("request %d after Close: %v, want ECANCELED", i, err)
		}
	}
	if st := p.Stats(); st.Canceled != 4 || st.InFlight != 0 {
		t.Errorf("Stats after Close %+v", st)
	}
}

// TestStreamBrokenPeer: a write to a pipe whose reader is gone fails with
// EPIPE in its packet and raises no SIGPIPE; a read on a TCP socket whose
// peer reset it fails with ECONNRESET.
func TestStreamBrokenPeer(t *testing.T) {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGPIPE)
	defer signal.Stop(sig)

	r, w := pipeFds(t)
	unix.Close(r)
	p := newPort(t)
	p.Associate(w, 9)
	cb := cbFor(p, w, 0, []byte("lost"))
	if err := submit.Write(cb); err != nil {
		t.Fatal(err)
	}
	if pkt := getWithin(t, p, time.Second); !errors.Is(pkt.Err, syscall.EPIPE) {
		t.Errorf("write to a broken pipe: %+v, want EPIPE", pkt)
	}
	for _, sp := range socketPairs(t) {
		sp.peer.Close()
		p.Associate(sp.fd, 10)
		if _, err := p.WriteFile(sp.fd, []byte("x"), nil); err == nil {
			// The first write after the close may still be accepted; the
			// next one sees the reset.
			time.Sleep(20 * time.Millisecond)
			n, err := p.WriteFile(sp.fd, []byte("x"), nil)
			if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("%s: WriteFile to a closed peer = %d, %v", sp.name, n, err)
			}
		}
	}
	select {
	case s := <-sig:
		t.Errorf("the process got %v", s)
	case <-time.After(50 * time.Millisecond):
	}

	sp := socketPairs(t)[0]
	p.Associate(sp.fd, 11)
	rd := cbFor(p, sp.fd, 0, make([]byte, 8))
	if err := submit.Read(rd); err != nil {
		t.Fatal(err)
	}
	sp.peer.(*net.TCPConn).SetLinger(0)
	sp.peer.Close()
	if pkt := getWithin(t, p, time.Second); !errors.Is(pkt.Err, syscall.ECONNRESET) {
		t.Errorf("read on a reset socket: %+v, want ECONNRESET", pkt)
	}
}

// TestReadFileWriteFile: done at once, a count and no packet; otherwise
// EINPROGRESS and a packet later carrying ov; bad files refused.
func TestReadFileWriteFile(t *testing.T) {
	for _, sp := range socketPairs(t) {
		t.Run(sp.name, func(t *testing.T) {
			p := newPort(t)
			if _, err := p.ReadFile(sp.fd, make([]byte, 4), nil); !errors.Is(err, syscall.EINVAL) {
				t.Errorf("ReadFile of a socket not associated: %v, want EINVAL", err)
			}
			p.Associate(sp.fd, 42)
			sp.peer.Write([]byte("ready"))
			time.Sleep(10 * time.Millisecond)
			buf := make([]byte, 16)
			if n, err := p.ReadFile(sp.fd, buf, nil); n != 5 || err != nil || string(buf[:5]) != "ready" {
				t.Fatalf("ReadFile with data waiting = %d, %v", n, err)
			}
			if n, err := p.WriteFile(sp.fd, []byte("at once"), nil); n != 7 || err != nil {
				t.Fatalf("WriteFile with room = %d, %v", n, err)
			}
			noPacket(t, p, 20*time.Millisecond)
			io.ReadFull(sp.peer, make([]byte, 7))

			ov := &aiocb.AIOCB{}
			if n, err := p.ReadFile(sp.fd, buf, ov); n != 0 || !errors.Is(err, syscall.EINPROGRESS) {
				t.Fatalf("ReadFile with nothing waiting = %d, %v; want EINPROGRESS", n, err)
			}
			if _, err := p.ReadFile(sp.fd, buf, ov); !errors.Is(err, syscall.EBUSY) {
				t.Errorf("ReadFile with ov in flight: %v, want EBUSY", err)
			}
			sp.peer.Write([]byte("later"))
			pkt := getWithin(t, p, time.Second)
			if pkt.Key != 42 || pkt.CB != ov || pkt.Bytes != 5 || pkt.Err != nil || string(buf[:5]) != "later" {
				t.Fatalf("ReadFile's packet %+v", pkt)
			}

			// 8 MiB to a peer that reads slowly: part at once, the rest later.
			big := make([]byte, 8<<20)
			for i := range big {
				big[i] = byte(i * 7)
			}
			got := make(chan []byte)
			go func() {
				time.Sleep(20 * time.Millisecond)
				b, _ := io.ReadAll(io.LimitReader(sp.peer, int64(len(big))))
				got <- b
			}()
			if n, err := p.WriteFile(sp.fd, big, nil); n != 0 || !errors.Is(err, syscall.EINPROGRESS) {
				t.Fatalf("8 MiB WriteFile = %d, %v; want EINPROGRESS", n, err)
			}
			pkt = getWithin(t, p, 20*time.Second)
			if pkt.Bytes != len(big) || pkt.Err != nil || pkt.CB != nil {
				t.Fatalf("8 MiB WriteFile's packet %+v", pkt)
			}
			if b := <-got; !bytes.Equal(b, big) {
				t.Fatalf("peer got %d bytes, different", len(b))
			}
			st := p.Stats()
			if st.AtOnce != 2 || st.Completed != 2 || st.Submitted != 4 {
				t.Errorf("Stats %+v; want 2 at once, 2 completed, 4 submitted", st)
			}
		})
	}
	p := newPort(t)
	r, _ := pipeFds(t)
	p.Associate(r, 1)
	if _, err := p.ReadFile(r, make([]byte, 1), nil); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("ReadFile of a pipe: %v, want EINVAL", err)
	}
	if _, err := p.WriteFile(1<<20, make([]byte, 1), nil); !errors.Is(err, syscall.EBADF) {
		t.Errorf("WriteFile of a bad fd: %v, want EBADF", err)
	}
}

// TestPoll: OpPoll on a listening socket completes when a connection
// waits, with the ready mask; on a pipe when data arrives; a pending poll
// is really cancelled; Events 0 is EINVAL.
func TestPoll(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lf, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	lfd := int(lf.Fd())
	p := newPort(t)
	p.Associate(lfd, 100)
	cb := cbFor(p, lfd, 0, nil)
	cb.Events = unix.POLLIN
	if err := submit.Poll(cb); err != nil {
		t.Fatal(err)
	}
	noPacket(t, p, 20*time.Millisecond)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pkt := getWithin(t, p, time.Second)
	if pkt.Key != 100 || pkt.CB != cb || pkt.Bytes&unix.POLLIN == 0 || pkt.Err != nil {
		t.Fatalf("listening socket's poll packet %+v", pkt)
	}

	r, w := pipeFds(t)
	p.Associate(r, 101)
	pc := cbFor(p, r, 0, nil)
	pc.Opcode, pc.Events = aiocb.OpPoll, unix.POLLIN
	if err := submit.ListIO(submit.NoWait, []*aiocb.AIOCB{pc}, nil); err != nil {
		t.Fatal(err)
	}
	unix.Write(w, []byte("z"))
	if pkt := getWithin(t, p, time.Second); pkt.CB != pc || pkt.Bytes&unix.POLLIN == 0 {
		t.Fatalf("pipe poll packet %+v", pkt)
	}
	unix.Read(r, make([]byte, 1))

	pend := cbFor(p, r, 0, nil)
	pend.Events = unix.POLLIN
	if err := submit.Poll(pend); err != nil {
		t.Fatal(err)
	}
	if res, err := submit.Cancel(r, pend); res != submit.Canceled || err != nil {
		t.Fatalf("Cancel(pending poll) = %v, %v", res, err)
	}
	if err := submit.Error(pend); !errors.Is(err, syscall.ECANCELED) {
		t.Errorf("cancelled poll: %v", err)
	}
	noPacket(t, p, 20*time.Millisecond)

	bad := cbFor(p, r, 0, nil)
	if err := submit.Poll(bad); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Poll with no events: %v, want EINVAL", err)
	}
}

// TestStreamsBesideFiles: idle socket reads never delay a file's requests
// on the same port, and one harvest loop sees both kinds of packet.
func TestStreamsBesideFiles(t *testing.T) {
	p := newPort(t, port.WithDepth(128))
	for range 32 {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
		p.Associate(fds[0], 1)
		if err := submit.Read(cbFor(p, fds[0], 0, make([]byte, 8))); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.CreateTemp(t.TempDir(), "f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(bytes.Repeat([]byte("f"), 1<<16))
	fd := int(f.Fd())
	p.Associate(fd, 2)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 64 {
		if err := submit.Read(cbFor(p, fd, int64(i)*1024, make([]byte, 1024))); err != nil {
			t.Fatal(err)
		}
	}
	for range 64 {
		if pkt := getWithin(t, p, 5*time.Second); pkt.Key != 2 || pkt.Bytes != 1024 {
			t.Fatalf("file packet %+v", pkt)
		}
	}
	wg.Wait()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("64 file reads beside 32 idle socket reads took %v", d)
	}
}

// openPty returns a pseudo-terminal's master and slave fds, or skips.
func openPty(t *testing.T) (master, slave int) {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { unix.Close(m) })
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(m, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := unix.Open("/dev/pts/"+strconv.Itoa(int(n)), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(s) })
	return m, s
}

// TestStreamTty: a read of a terminal waits for a line, holding no
// thread, completes with that line, and can be cancelled.
func TestStreamTty(t *testing.T) {
	m, s := openPty(t)
	p := newPort(t)
	p.Associate(s, 5)
	cb := cbFor(p, s, 0, make([]byte, 64))
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	noPacket(t, p, 30*time.Millisecond)
	unix.Write(m, []byte("line one\n"))
	pkt := getWithin(t, p, time.Second)
	if pkt.Err != nil || string(cb.Buf[:pkt.Bytes]) != "line one\n" {
		t.Fatalf("tty read packet %+v, %q", pkt, cb.Buf[:pkt.Bytes])
	}
	if err := submit.Read(cb); err != nil {
		t.Fatal(err)
	}
	if res, _ := submit.Cancel(s, cb); res != submit.Canceled {
		t.Errorf("Cancel of a waiting tty read = %v", res)
	}
	noPacket(t, p, 20*time.Millisecond)
}

// TestStats: each counter counts what it says, Queued and Waiters say what
// is there now, and Stats allocates nothing.
func TestStats(t *testing.T) {
	p := newPort(t)
	if st := p.Stats(); st != (port.Stats{}) {
		t.Fatalf("a new port's Stats %+v", st)
	}
	r, w := pipeFds(t)
	p.Associate(r, 1)
	for range 3 {
		p.PostQueuedCompletionStatus(1, 2, nil)
	}
	cbs := []*aiocb.AIOCB{cbFor(p, r, 0, make([]byte, 4)), cbFor(p, r, 0, make([]byte, 4))}
	for _, cb := range cbs {
		submit.Read(cb)
	}
	st := p.Stats()
	if st.Posted != 3 || st.Queued != 3 || st.Submitted != 2 || st.InFlight != 2 || st.Dequeued != 0 {
		t.Fatalf("after 3 posts and 2 reads: %+v", st)
	}
	pkts := make([]completion.Packet, 8)
	if n, err := p.GetQueuedCompletionStatusEx(pkts, time.Second); n != 3 || err != nil {
		t.Fatalf("GQCSEx = %d, %v", n, err)
	}
	done := make(chan struct{})
	go func() { p.GetQueuedCompletionStatus(5 * time.Second); close(done) }()
	for p.Stats().Waiters != 1 {
		time.Sleep(time.Millisecond)
	}
	unix.Write(w, []byte("ab"))
	<-done
	submit.Cancel(r, cbs[1])
	st = p.Stats()
	want := port.Stats{Submitted: 2, Completed: 1, Posted: 3, Dequeued: 4, Canceled: 1, Wakeups: 2}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if a := testing.AllocsPerRun(100, func() { _ = p.Stats() }); a != 0 {
		t.Errorf("Stats allocates %v times", a)
	}
	p.Close()
	if st := p.Stats(); st.Dequeued != 4 || st.InFlight != 0 {
		t.Errorf("Stats after Close %+v", st)
	}
}

// TestReadFileWhileWaiterParked: a ReadFile made while another goroutine
// is already parked on the port still completes when data comes (its POLL
// is not left waiting for a harvest that never comes).
func TestReadFileWhileWaiterParked(t *testing.T) {
	for _, sp := range socketPairs(t) {
		t.Run(sp.name, func(t *testing.T) {
			p := newPort(t)
			p.Associate(sp.fd, 4)
			got := make(chan completion.Packet, 1)
			go func() {
				pkt, err := p.GetQueuedCompletionStatus(5 * time.Second)
				if err == nil {
					got <- pkt
				}
				close(got)
			}()
			for p.Stats().Waiters != 1 {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // parked as the driver
			buf := make([]byte, 16)
			if _, err := p.ReadFile(sp.fd, buf, nil); !errors.Is(err, syscall.EINPROGRESS) {
				t.Fatalf("ReadFile = %v, want EINPROGRESS", err)
			}
			time.Sleep(20 * time.Millisecond)
			sp.peer.Write([]byte("late"))
			select {
			case pkt, ok := <-got:
				if !ok || pkt.Bytes != 4 || pkt.Key != 4 {
					t.Fatalf("packet %+v, %v", pkt, ok)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("the parked waiter never got the ReadFile's packet")
			}
		})
	}
}
