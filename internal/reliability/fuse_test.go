//go:build linux

package reliability_test

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/engine"
	"github.com/goiocp/goiocp/internal/faultfs"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"golang.org/x/sys/unix"
)

// The FUSE tests run on internal/faultfs with FUSE_ASYNC_DIO, where kernel
// AIO reads and non-extending writes are queued to the server and
// io_submit returns at once, so a request the server holds really is in
// flight while others complete. (Without ASYNC_DIO, or for a write that
// extends the file, the kernel runs the request synchronously inside
// io_submit: TestFUSESyncDIOBlocksSubmitter pins that down.)

const (
	blk      = 4096
	fuseSize = 64 << 10
)

// fuseFile mounts a faultfs file of fuseSize pattern bytes, opens it and
// associates it with a new port under key 7.
func fuseFile(t *testing.T, opts faultfs.Options) (*faultfs.File, []byte, int, *port.Port) {
	t.Helper()
	data := testutil.Pattern(5, fuseSize)
	file := faultfs.MountFile(t, "data", data, opts)
	_, fd := openFile(t, file.Path(), 0)
	p := newPort(t)
	associate(t, p, fd, 7)
	return file, data, fd, p
}

// TestFUSEEIOAlone: a read and a write that the file system fails with EIO
// each get a packet carrying EIO (and Return -1, EIO); every other request
// of the same batch succeeds with the right bytes; the file holds exactly
// the writes that succeeded.
func TestFUSEEIOAlone(t *testing.T) {
	file, data, fd, p := fuseFile(t, faultfs.Options{})
	const badRead, badWrite = 5 * blk, 11 * blk
	file.SetRules(
		faultfs.Rule{Op: faultfs.Read, Off: badRead, Err: syscall.EIO},
		faultfs.Rule{Op: faultfs.Write, Off: badWrite, Err: syscall.EIO},
	)
	var list []*aiocb.AIOCB
	for i := range 8 { // reads of blocks 0..7
		cb := portCB(p, fd, int64(i*blk), make([]byte, blk))
		cb.Opcode = aiocb.OpRead
		list = append(list, cb)
	}
	wdata := testutil.Pattern(6, 8*blk)
	for i := range 8 { // writes of blocks 8..15
		cb := portCB(p, fd, int64((8+i)*blk), wdata[i*blk:(i+1)*blk])
		cb.Opcode = aiocb.OpWrite
		list = append(list, cb)
	}
	if err := submit.ListIO(submit.NoWait, list, nil); err != nil {
		t.Fatalf("ListIO: %v", err)
	}
	got := collect(t, p, len(list))
	want := append([]byte(nil), data...)
	for _, cb := range list {
		pkt := got[cb]
		bad := cb.Offset == badRead || cb.Offset == badWrite
		if pkt.Key != 7 {
			t.Errorf("offset %d: key %d, want 7", cb.Offset, pkt.Key)
		}
		n, err := submit.Return(cb)
		switch {
		case bad:
			if !errors.Is(pkt.Err, syscall.EIO) || pkt.Bytes != 0 || n != -1 || !errors.Is(err, syscall.EIO) {
				t.Errorf("faulty %v at %d: packet %d %v, Return %d %v; want EIO", cb.Opcode, cb.Offset, pkt.Bytes, pkt.Err, n, err)
			}
		case pkt.Err != nil || pkt.Bytes != blk || n != blk || err != nil:
			t.Errorf("%v at %d: packet %d %v, Return %d %v; want %d bytes", cb.Opcode, cb.Offset, pkt.Bytes, pkt.Err, n, err, blk)
		case cb.Opcode == aiocb.OpRead && !bytes.Equal(cb.Buf, data[cb.Offset:cb.Offset+blk]):
			t.Errorf("read at %d: wrong data", cb.Offset)
		case cb.Opcode == aiocb.OpWrite:
			copy(want[cb.Offset:], cb.Buf)
		}
	}
	if i := testutil.Equal(file.Data(), want); i >= 0 {
		t.Fatalf("file differs from the successful writes at byte %d", i)
	}
}

// TestFUSEEIODefaultContext: the same on the default context: the EIO
// read's status is EIO, its neighbours' nil.
func TestFUSEEIODefaultContext(t *testing.T) {
	file, data, fd, _ := fuseFile(t, faultfs.Options{})
	file.SetRules(faultfs.Rule{Op: faultfs.Read, Off: 2 * blk, Err: syscall.EIO})
	var cbs []*aiocb.AIOCB
	for i := range 4 {
		cb := &aiocb.AIOCB{Fildes: fd, Offset: int64(i * blk), Buf: make([]byte, blk)}
		if err := submit.Read(cb); err != nil {
			t.Fatalf("Read: %v", err)
		}
		cbs = append(cbs, cb)
	}
	for i, cb := range cbs {
		n, err := final(t, cb)
		if i == 2 {
			if n != -1 || !errors.Is(err, syscall.EIO) {
				t.Errorf("faulty read: Return %d %v, want -1 EIO", n, err)
			}
			continue
		}
		if n != blk || err != nil || !bytes.Equal(cb.Buf, data[cb.Offset:cb.Offset+blk]) {
			t.Errorf("read %d: Return %d %v (data ok %v)", i, n, err, bytes.Equal(cb.Buf, data[cb.Offset:cb.Offset+blk]))
		}
	}
}

// TestFUSEFsyncEIO: an fsync the file system fails reports EIO in its
// packet, and only it.
func TestFUSEFsyncEIO(t *testing.T) {
	file, _, fd, p := fuseFile(t, faultfs.Options{})
	file.SetRules(faultfs.Rule{Op: faultfs.Fsync, Err: syscall.EIO, Times: 1})
	fcb := portCB(p, fd, 0, nil)
	if err := submit.Fsync(unix.O_SYNC, fcb); err != nil {
		t.Fatalf("Fsync: %v", err)
	}
	if pkt := next(t, p); pkt.CB != fcb || !errors.Is(pkt.Err, syscall.EIO) {
		t.Fatalf("fsync packet: %v, want EIO", pkt.Err)
	}
	fcb2 := portCB(p, fd, 0, nil)
	if err := submit.Fsync(unix.O_DSYNC, fcb2); err != nil {
		t.Fatalf("Fsync: %v", err)
	}
	if pkt := next(t, p); pkt.CB != fcb2 || pkt.Err != nil {
		t.Fatalf("second fsync: %v, want success", pkt.Err)
	}
}

// TestFUSEShortRead: a read the file system answers short reports the
// short count (no error) and the bytes it got; a read across the end of the
// file is short too.
func TestFUSEShortRead(t *testing.T) {
	file, data, fd, p := fuseFile(t, faultfs.Options{})
	file.SetRules(faultfs.Rule{Op: faultfs.Read, Off: 3 * blk, Short: 100})
	short := portCB(p, fd, 3*blk, make([]byte, blk))
	eof := portCB(p, fd, fuseSize-1000, make([]byte, blk))
	whole := portCB(p, fd, 0, make([]byte, blk))
	for _, cb := range []*aiocb.AIOCB{short, eof, whole} {
		if err := submit.Read(cb); err != nil {
			t.Fatalf("Read: %v", err)
		}
	}
	got := collect(t, p, 3)
	check := func(cb *aiocb.AIOCB, want int) {
		t.Helper()
		pkt := got[cb]
		if pkt.Err != nil || pkt.Bytes != want {
			t.Errorf("read at %d: %d bytes, %v; want %d", cb.Offset, pkt.Bytes, pkt.Err, want)
		}
		if !bytes.Equal(cb.Buf[:min(want, pkt.Bytes)], data[cb.Offset:cb.Offset+int64(want)]) {
			t.Errorf("read at %d: wrong data", cb.Offset)
		}
		if n, err := submit.Return(cb); n != want || err != nil {
			t.Errorf("Return at %d: %d %v, want %d", cb.Offset, n, err, want)
		}
	}
	check(short, 100)
	check(eof, 1000)
	check(whole, blk)
}

// TestFUSESlowInFlight: a request the file system holds stays in flight
// (EINPROGRESS, no packet) while 15 others on the same port and file
// complete; released, it completes with the right data. A delayed request
// completes after the undelayed ones.
func TestFUSESlowInFlight(t *testing.T) {
	file, data, fd, p := fuseFile(t, faultfs.Options{})
	hold := make(chan struct{})
	file.SetRules(
		faultfs.Rule{Op: faultfs.Read, Off: 0, Hold: hold},
		faultfs.Rule{Op: faultfs.Read, Off: 15 * blk, Delay: 300 * time.Millisecond},
	)
	slow := portCB(p, fd, 0, make([]byte, blk))
	start := time.Now()
	if err := submit.Read(slow); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("submitting a held read took %v: io_submit ran it synchronously", d)
	}
	var others []*aiocb.AIOCB
	for i := 1; i < 16; i++ {
		cb := portCB(p, fd, int64(i*blk), make([]byte, blk))
		if err := submit.Read(cb); err != nil {
			t.Fatalf("Read: %v", err)
		}
		others = append(others, cb)
	}
	for i := range others {
		pkt := next(t, p)
		if pkt.CB == slow {
			t.Fatal("held request completed")
		}
		if delayed := pkt.CB.Offset == 15*blk; delayed != (i == len(others)-1) {
			t.Errorf("packet %d is the read at %d; the delayed one must come last", i, pkt.CB.Offset)
		}
		if pkt.Err != nil || pkt.Bytes != blk || !bytes.Equal(pkt.CB.Buf, data[pkt.CB.Offset:pkt.CB.Offset+blk]) {
			t.Errorf("read at %d: %d %v", pkt.CB.Offset, pkt.Bytes, pkt.Err)
		}
	}
	if err := submit.Error(slow); err != syscall.EINPROGRESS {
		t.Fatalf("held request: Error = %v, want EINPROGRESS", err)
	}
	if _, err := submit.Return(slow); err != syscall.EINPROGRESS {
		t.Fatalf("held request: Return = %v, want EINPROGRESS", err)
	}
	noPacket(t, p, 100*time.Millisecond)
	close(hold)
	if pkt := next(t, p); pkt.CB != slow || pkt.Err != nil || !bytes.Equal(slow.Buf, data[:blk]) {
		t.Fatalf("released request: packet for %d, %v", pkt.CB.Offset, pkt.Err)
	}
}

// TestFUSESyncDIOBlocksSubmitter documents the kernel's rule that makes the
// FUSE tests use ASYNC_DIO: without it, io_submit runs a FUSE read inside
// the call, so a held read blocks its submitter (but nobody else: another
// goroutine's request on the same port completes meanwhile). On io_uring
// the submitter returns at once: FUSE requests go straight to io-wq.
func TestFUSESyncDIOBlocksSubmitter(t *testing.T) {
	file, _, fd, p := fuseFile(t, faultfs.Options{SyncDIO: true})
	hold := make(chan struct{})
	file.SetRules(faultfs.Rule{Op: faultfs.Read, Off: 0, Hold: hold})
	slow := portCB(p, fd, 0, make([]byte, blk))
	errc := make(chan error, 1)
	go func() { errc <- submit.Read(slow) }()
	returned := false
	defer func() {
		close(hold)
		if !returned {
			select {
			case <-errc:
			case <-time.After(deadline):
				t.Error("submit still blocked after the hold was released")
			}
		}
		next(t, p)
	}()
	select {
	case err := <-errc:
		returned = true
		if testutil.Engine() == engine.KindIOURing {
			// The io_uring queue sends a FUSE file's requests straight to
			// io-wq (IOSQE_ASYNC), so its submitter never waits.
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			return
		}
		t.Skipf("this kernel ran a synchronous-DIO FUSE read asynchronously (submit returned %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	other := portCB(p, fd, blk, make([]byte, blk))
	if err := submit.Read(other); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if pkt := next(t, p); pkt.CB != other || pkt.Err != nil {
		t.Fatalf("other read: %v", pkt.Err)
	}
}

// TestFUSECloseWithSlowInFlight: Close with a held request in flight wakes
// the port's waiters with ErrClosed at once, refuses new submits naming the
// port (EBADF), and returns only once the kernel is done with the held
// request's buffer; that request's status is then final and correct, and
// it made no packet.
func TestFUSECloseWithSlowInFlight(t *testing.T) {
	file, data, fd, p := fuseFile(t, faultfs.Options{})
	hold := make(chan struct{})
	file.SetRules(faultfs.Rule{Op: faultfs.AnyOp, Off: 0, Len: 2 * blk, Hold: hold})
	slowR := portCB(p, fd, 0, make([]byte, blk))
	wbuf := testutil.Pattern(9, blk)
	slowW := portCB(p, fd, blk, wbuf)
	if err := submit.Read(slowR); err != nil {
		t.Fatal(err)
	}
	if err := submit.Write(slowW); err != nil {
		t.Fatal(err)
	}
	waiter := make(chan error, 1)
	go func() {
		_, err := p.GetQueuedCompletionStatus(port.Infinite)
		waiter <- err
	}()
	time.Sleep(20 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case err := <-waiter:
		if !errors.Is(err, port.ErrClosed) {
			t.Fatalf("waiter: %v, want ErrClosed", err)
		}
	case <-time.After(deadline):
		t.Fatal("waiter not released by Close")
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while the file system still held two requests", err)
	case <-time.After(200 * time.Millisecond):
	}
	late := portCB(p, fd, 4*blk, make([]byte, blk))
	if err := submit.Read(late); !errors.Is(err, syscall.EBADF) {
		t.Errorf("submit naming a closing port: %v, want EBADF", err)
	}
	close(hold)
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(deadline):
		t.Fatal("Close did not return after the held requests were released")
	}
	if n, err := submit.Return(slowR); n != blk || err != nil || !bytes.Equal(slowR.Buf, data[:blk]) {
		t.Errorf("held read after Close: Return %d %v", n, err)
	}
	if n, err := submit.Return(slowW); n != blk || err != nil {
		t.Errorf("held write after Close: Return %d %v", n, err)
	}
	if !bytes.Equal(file.Data()[blk:2*blk], wbuf) {
		t.Error("held write's data not in the file")
	}
	if _, err := p.GetQueuedCompletionStatus(0); !errors.Is(err, port.ErrClosed) {
		t.Errorf("GetQueuedCompletionStatus after Close: %v, want ErrClosed", err)
	}
}

// TestFUSECancelSlowInFlight: on AIO, Cancel of a request the kernel has
// handed to the file system reports NotCanceled honestly and the request
// completes normally (io_uring may cancel it for real: then it is final
// with ECANCELED and makes no packet); an fsync held in user space behind it is really cancelled
// (ECANCELED, no packet); Cancel(fd, nil) covers both.
func TestFUSECancelSlowInFlight(t *testing.T) {
	file, _, fd, p := fuseFile(t, faultfs.Options{})
	hold := make(chan struct{})
	file.SetRules(faultfs.Rule{Op: faultfs.Write, Off: 0, Hold: hold})
	w := portCB(p, fd, 0, testutil.Pattern(3, blk))
	if err := submit.Write(w); err != nil {
		t.Fatal(err)
	}
	fs1 := portCB(p, fd, 0, nil)
	if err := submit.Fsync(unix.O_SYNC, fs1); err != nil {
		t.Fatal(err)
	}
	if testutil.Engine() == engine.KindIOURing {
		fuseCancelURing(t, p, fd, hold, w, fs1)
		return
	}
	r, err := submit.Cancel(fd, w)
	if err != nil || r != submit.NotCanceled {
		t.Errorf("Cancel(held write) = %v, %v; want NotCanceled", r, err)
	}
	if r, err := submit.Cancel(fd, fs1); err != nil || r != submit.Canceled {
		t.Errorf("Cancel(fsync held behind it) = %v, %v; want Canceled", r, err)
	}
	if err := submit.Error(fs1); err != syscall.ECANCELED {
		t.Errorf("cancelled fsync: Error = %v, want ECANCELED", err)
	}
	if n, err := submit.Return(fs1); n != -1 || err != syscall.ECANCELED {
		t.Errorf("cancelled fsync: Return = %d, %v; want -1, ECANCELED", n, err)
	}
	fs2 := portCB(p, fd, 0, nil)
	if err := submit.Fsync(unix.O_DSYNC, fs2); err != nil {
		t.Fatal(err)
	}
	if r, err := submit.Cancel(fd, nil); err != nil || r != submit.NotCanceled {
		t.Errorf("Cancel(fd, nil) = %v, %v; want NotCanceled (the write runs)", r, err)
	}
	if err := submit.Error(fs2); err != syscall.ECANCELED {
		t.Errorf("second fsync after Cancel(fd, nil): %v, want ECANCELED", err)
	}
	if err := submit.Error(w); err != syscall.EINPROGRESS {
		t.Errorf("held write: Error = %v, want EINPROGRESS", err)
	}
	close(hold)
	if pkt := next(t, p); pkt.CB != w || pkt.Err != nil || pkt.Bytes != blk {
		t.Fatalf("packet: offset %d, %d bytes, %v; want the write's", pkt.CB.Offset, pkt.Bytes, pkt.Err)
	}
	noPacket(t, p, 100*time.Millisecond) // the cancelled fsyncs make none
	if !bytes.Equal(file.Data()[:blk], w.Buf) {
		t.Error("write not in the file")
	}
	if r, err := submit.Cancel(fd, nil); err != nil || r != submit.AllDone {
		t.Errorf("Cancel with nothing in flight = %v, %v; want AllDone", r, err)
	}
}

// fuseCancelURing is TestFUSECancelSlowInFlight's io_uring half. io_uring
// really cancels a request still waiting in the kernel (in io-wq, or by
// interrupting its worker, which FUSE passes to the server as an
// INTERRUPT), so each Cancel may go either way; what must hold is that the
// answers and the outcomes agree: a request counted Canceled is final with
// ECANCELED and makes no packet, and every other one makes exactly one
// packet (ECANCELED too for a write whose worker was stopped).
func fuseCancelURing(t *testing.T, p *port.Port, fd int, hold chan struct{}, w, fs1 *aiocb.AIOCB) {
	t.Helper()
	want := map[*aiocb.AIOCB]bool{}
	for _, cb := range []*aiocb.AIOCB{w, fs1} {
		switch r, err := submit.Cancel(fd, cb); {
		case err != nil:
			t.Fatalf("Cancel: %v", err)
		case r == submit.Canceled:
			if e := submit.Error(cb); e != syscall.ECANCELED {
				t.Errorf("a request counted Canceled: Error = %v, want ECANCELED", e)
			}
		default: // NotCanceled, or AllDone: it ran or runs, and makes a packet
			want[cb] = true
		}
	}
	close(hold)
	for len(want) > 0 {
		pkt := next(t, p)
		if !want[pkt.CB] {
			t.Fatalf("packet for a request that makes none (or a second one): offset %d, %v", pkt.CB.Offset, pkt.Err)
		}
		if pkt.Err != nil && !errors.Is(pkt.Err, syscall.ECANCELED) {
			t.Errorf("packet of a request not cancelled: %v", pkt.Err)
		}
		delete(want, pkt.CB)
	}
	noPacket(t, p, 200*time.Millisecond)
}

// TestFUSEManySlowMixed: many delayed and failing requests over two ports
// and the default context all complete, each exactly once, with the right
// outcome, within the deadline.
func TestFUSEManySlowMixed(t *testing.T) {
	file, data, fd, p1 := fuseFile(t, faultfs.Options{})
	p2 := newPort(t)
	associate(t, p2, fd, 8)
	var rules []faultfs.Rule
	for i := range 16 {
		off := int64(i * blk)
		switch i % 4 {
		case 1:
			rules = append(rules, faultfs.Rule{Op: faultfs.Read, Off: off, Delay: time.Duration(i) * 10 * time.Millisecond})
		case 2:
			rules = append(rules, faultfs.Rule{Op: faultfs.Read, Off: off, Err: syscall.EIO})
		case 3:
			rules = append(rules, faultfs.Rule{Op: faultfs.Read, Off: off, Short: 10})
		}
	}
	file.SetRules(rules...)
	type req struct {
		cb *aiocb.AIOCB
		p  *port.Port
	}
	var reqs []req
	for i := range 16 {
		var p *port.Port
		cb := &aiocb.AIOCB{Fildes: fd, Offset: int64(i * blk), Buf: make([]byte, blk)}
		switch i % 3 {
		case 0:
			p = p1
		case 1:
			p = p2
		}
		if p != nil {
			cb = portCB(p, fd, cb.Offset, cb.Buf)
		}
		if err := submit.Read(cb); err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, req{cb, p})
	}
	pkts := map[*port.Port]map[*aiocb.AIOCB]completion.Packet{}
	count := map[*port.Port]int{}
	for _, r := range reqs {
		if r.p != nil {
			count[r.p]++
		}
	}
	for p, n := range count {
		pkts[p] = collect(t, p, n)
	}
	for i, r := range reqs {
		var n int
		var err error
		if r.p != nil {
			pkt, ok := pkts[r.p][r.cb]
			if !ok {
				t.Fatalf("request %d: packet on the wrong port", i)
			}
			n, err = pkt.Bytes, pkt.Err
			if pkt.Err != nil {
				n = -1
			}
			_, _ = submit.Return(r.cb)
		} else {
			n, err = final(t, r.cb)
		}
		want, wantErr := blk, error(nil)
		switch i % 4 {
		case 2:
			want, wantErr = -1, syscall.EIO
		case 3:
			want = 10
		}
		if n != want || !errors.Is(err, wantErr) && err != wantErr {
			t.Errorf("request %d: %d %v, want %d %v", i, n, err, want, wantErr)
		}
		if n > 0 && !bytes.Equal(r.cb.Buf[:n], data[r.cb.Offset:r.cb.Offset+int64(n)]) {
			t.Errorf("request %d: wrong data", i)
		}
	}
	noPacket(t, p1, 50*time.Millisecond)
	noPacket(t, p2, 0)
}
