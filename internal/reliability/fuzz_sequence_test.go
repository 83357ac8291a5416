//go:build linux

package reliability_test

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/engine"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"golang.org/x/sys/unix"
)

// FuzzSequence runs a random sequence of writes, reads, fsyncs, cancels,
// ListIO batches and posted packets on one file, through three small ports
// (depth 4, so EAGAIN happens; the second one in kernel-wait mode) and the
// default context, over a buffered and
// an O_DIRECT descriptor, and checks every result against an in-memory
// model of the file: each read returns the model's bytes, each request
// completes exactly once (a packet unless cancelled), an fsync is final only
// after the writes queued before it on its file, and at the end the file
// equals the model byte for byte and nothing leaked.
//
// A request never races with one in flight (overlapping bytes with a write
// among them, or both past end of file with a write among them): the
// sequence drains first, as a correct program waits, so the model is exact
// whatever order the kernel runs them in.
func FuzzSequence(f *testing.F) {
	fx := newSeqFixture(f)
	f.Fuzz(func(t *testing.T, prog []byte) {
		defer watchInput(prog)()
		s := newSeq(t, fx)
		defer s.close()
		for len(prog) >= 5 && s.ops < 64 {
			s.step(prog[:5])
			prog = prog[5:]
		}
		s.drainAll()
		s.verify()
	})
}

// seqFixture is what every FuzzSequence input shares: the file's two
// descriptors, the ports (made once: io_destroy waits for an RCU grace
// period, which would make each input cost tens of milliseconds; the soak
// makes and closes ports by the hundred) and the O_DIRECT buffer pool.
type seqFixture struct {
	path         string
	fdB, fdD     int
	pipeR, pipeW int
	ports        []*port.Port
	pool         []byte
}

func newSeqFixture(t testing.TB) *seqFixture {
	fx := &seqFixture{path: tempPath(t), pool: testutil.Aligned(t, seqSlots*seqSlotSize)}
	_, fx.fdB = createFile(t, fx.path, nil, 0)
	_, fx.fdD = openFile(t, fx.path, unix.O_DIRECT)
	var pfd [2]int
	if err := unix.Pipe2(pfd[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	fx.pipeR, fx.pipeW = pfd[0], pfd[1]
	t.Cleanup(func() { unix.Close(pfd[0]); unix.Close(pfd[1]) })
	if _, err := unix.FcntlInt(uintptr(fx.pipeW), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Fatal(err)
	}
	for i := range seqPorts {
		opts := []port.Option{port.WithDepth(4)}
		if i == 1 {
			opts = append(opts, port.WithKernelWait()) // its waiters sleep in io_getevents
		}
		p := newPort(t, opts...)
		associate(t, p, fx.fdB, uintptr(10*i))
		associate(t, p, fx.fdD, uintptr(10*i+1))
		associate(t, p, fx.pipeR, uintptr(10*i+2))
		associate(t, p, fx.pipeW, uintptr(10*i+3))
		fx.ports = append(fx.ports, p)
	}
	return fx
}

const (
	seqPorts    = 3
	seqSlots    = 64
	seqSlotSize = 16 << 10
	seqInitial  = 48 << 10
)

// seqReq is one request of a sequence in flight.
type seqReq struct {
	cb     *aiocb.AIOCB
	port   int // 0..seqPorts-1, or seqPorts for the default context
	write  bool
	fsync  bool
	off, n int64
	want   []byte         // a read's expected bytes
	eof    bool           // it reaches past the model's end of file
	prior  []*aiocb.AIOCB // an fsync's earlier requests on its fd
	slot   int            // the pool slot of an O_DIRECT buffer, or -1
	stream bool           // a read or write of the pipe
}

type seq struct {
	t         *testing.T
	fdB, fdD  int
	ports     []*port.Port
	model     []byte
	flight    map[*aiocb.AIOCB]*seqReq
	posted    []int // posted packets not yet received, by port
	pool      []byte
	free      []int
	ops       int
	fdsStart  map[int]string
	gen       uint64
	resync    bool  // a write was cancelled: reload the model from the file
	committed int64 // the file's length as completed writes left it

	pipeR, pipeW       int // the pipe's ends (fuzz_stream_test.go)
	pipeGen            uint64
	produced, consumed []*pipeEnd
	pipeReq            map[*aiocb.AIOCB]*pipeEnd
}

func newSeq(t *testing.T, fx *seqFixture) *seq {
	s := &seq{t: t, fdB: fx.fdB, fdD: fx.fdD, ports: fx.ports, pool: fx.pool,
		pipeR: fx.pipeR, pipeW: fx.pipeW, pipeReq: map[*aiocb.AIOCB]*pipeEnd{},
		flight: map[*aiocb.AIOCB]*seqReq{}, posted: make([]int, seqPorts), fdsStart: testutil.FdTable()}
	s.model = testutil.Pattern(50, seqInitial)
	s.committed = seqInitial
	if err := unix.Ftruncate(s.fdB, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Pwrite(s.fdB, s.model, 0); err != nil {
		t.Fatal(err)
	}
	for i := range seqSlots {
		s.free = append(s.free, i)
	}
	s.drainPipe() // what an input that failed left
	s.consumed = nil
	return s
}

// close checks that the sequence left no fd behind and closed none of
// the file's or the ports' own. An fd left open is looked at again for
// up to a second before it counts: the table is the whole process's, and
// only one still open then is the sequence's.
func (s *seq) close() {
	if s.t.Failed() {
		return
	}
	keep := []int{s.fdB, s.fdD, s.pipeR, s.pipeW}
	for _, p := range s.ports {
		keep = append(keep, p.Fd())
	}
	var left string
	for range 100 {
		if left = testutil.FdsLeft(s.fdsStart, testutil.FdTable(), keep...); left == "" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("fds over one sequence: %s", left)
}

// newCB makes a request for port pi (seqPorts: the default context).
func (s *seq) newCB(pi int, fd int, off int64, buf []byte) *aiocb.AIOCB {
	cb := &aiocb.AIOCB{Fildes: fd, Offset: off, Buf: buf}
	if pi < seqPorts {
		cb.Flags, cb.Version, cb.IOCPFD = aiocb.Extended, aiocb.Vers2, s.ports[pi].Fd()
	}
	return cb
}

// conflicts reports whether a request on [off, off+n) would race with
// one in flight: they overlap and one of them writes, or both reach past the
// end of file and one of them writes (a write extending the file changes
// what a read past the old end returns, whatever bytes it covers).
func (s *seq) conflicts(off, n int64, write, eof bool) bool {
	for _, r := range s.flight {
		if !r.fsync && racing(off, n, write, eof, r) {
			return true
		}
	}
	return false
}

// racing reports whether a request on [off, off+n) races with r.
func racing(off, n int64, write, eof bool, r *seqReq) bool {
	if !write && !r.write {
		return false
	}
	return (off < r.off+r.n && r.off < off+n) || (eof && r.eof)
}

// prepare builds a read or write request (not yet submitted) from op bytes,
// draining everything first if it would conflict. It returns nil if no
// buffer slot is free after a drain.
func (s *seq) prepare(write bool, target, a, b, c byte) *seqReq {
	pi := int(target % (seqPorts + 1))
	direct := target&4 != 0
	var off, n int64
	fd := s.fdB
	if direct {
		fd = s.fdD
		off = int64(a%16) * 4096
		n = int64(1+b%4) * 4096
	} else {
		off = int64(uint16(a)<<8|uint16(b)) % (80 << 10)
		n = 1 + int64(c)*61%9000
	}
	// A write in flight may not have extended the file yet (a worker may
	// still perform it), so end of file is the length the completed writes
	// gave the file; a request reaching past it races with a write in
	// flight that does too.
	eof := off+n > s.committed
	if s.conflicts(off, n, write, eof) {
		s.drainAll()
		s.reload()
		eof = off+n > s.committed
	}
	r := &seqReq{port: pi, write: write, off: off, n: n, slot: -1, eof: eof}
	var buf []byte
	if direct {
		if len(s.free) == 0 {
			s.drainAll()
			s.reload()
			r.eof = off+n > s.committed
		}
		r.slot = s.free[len(s.free)-1]
		s.free = s.free[:len(s.free)-1]
		buf = s.pool[r.slot*seqSlotSize : r.slot*seqSlotSize+int(n)]
	} else {
		buf = make([]byte, n)
	}
	if write {
		s.gen++
		copy(buf, testutil.Pattern(s.gen, int(n)))
	} else {
		// Nothing in flight writes these bytes (or, past the end of file,
		// extends the file), so the model holds what the read returns.
		clear(buf)
		end := min(off+n, int64(len(s.model)))
		r.want = append([]byte(nil), s.model[min(off, end):end]...)
	}
	r.cb = s.newCB(pi, fd, off, buf)
	if write {
		r.cb.Opcode = aiocb.OpWrite
	} else {
		r.cb.Opcode = aiocb.OpRead
	}
	return r
}

// accept records a request the kernel took: a write goes into the model
// now (nothing in flight races with it, so its place in the order of
// requests does not matter).
func (s *seq) accept(r *seqReq) {
	s.flight[r.cb] = r
	if !r.write {
		return
	}
	if end := r.off + r.n; end > int64(len(s.model)) {
		s.model = append(s.model, make([]byte, end-int64(len(s.model)))...)
	}
	copy(s.model[r.off:], r.cb.Buf)
}

// refused forgets a request that never reached the kernel.
func (s *seq) refused(r *seqReq) {
	if r.slot >= 0 {
		s.free = append(s.free, r.slot)
		r.slot = -1
	}
}

// reload drains every request and reads the model back from the file,
// after a cancelled write left the model ahead of the file.
func (s *seq) reload() {
	if !s.resync {
		return
	}
	s.drainAll()
	s.resync = false
	var st unix.Stat_t
	if err := unix.Fstat(s.fdB, &st); err != nil {
		s.t.Fatal(err)
	}
	s.model = make([]byte, st.Size)
	s.committed = st.Size
	if _, err := unix.Pread(s.fdB, s.model, 0); err != nil {
		s.t.Fatal(err)
	}
}

func (s *seq) step(op []byte) {
	s.reload()
	s.ops++
	if op[0] >= streamOp {
		s.streamStep(op)
		return
	}
	kind, target, a, b, c := op[0]%8, op[1], op[2], op[3], op[4]
	switch kind {
	case 0, 1, 2, 3:
		r := s.prepare(kind < 2, target, a, b, c)
		var err error
		if r.write {
			err = submit.Write(r.cb)
		} else {
			err = submit.Read(r.cb)
		}
		switch {
		case err == nil:
			s.accept(r)
		case errors.Is(err, syscall.EAGAIN) && r.port < seqPorts:
			s.refused(r) // the port is full
		default:
			s.t.Fatalf("submit %v at %d+%d: %v", r.cb.Opcode, r.off, r.n, err)
		}
	case 4:
		pi := int(target % (seqPorts + 1))
		fd := s.fdB
		if a&1 != 0 {
			fd = s.fdD
		}
		r := &seqReq{port: pi, fsync: true, slot: -1, cb: s.newCB(pi, fd, 0, nil)}
		for cb, o := range s.flight {
			if cb.Fildes == fd && !o.fsync {
				r.prior = append(r.prior, cb)
			}
		}
		opc := unix.O_SYNC
		if b&1 != 0 {
			opc = unix.O_DSYNC
		}
		switch err := submit.Fsync(opc, r.cb); {
		case err == nil:
			s.flight[r.cb] = r
		case errors.Is(err, syscall.EAGAIN) && pi < seqPorts:
		default:
			s.t.Fatalf("fsync: %v", err)
		}
	case 5:
		if len(s.flight) == 0 {
			return
		}
		var pick *seqReq
		i := int(a) % len(s.flight)
		for _, r := range s.flight {
			if i == 0 {
				pick = r
				break
			}
			i--
		}
		var err error
		if b&1 != 0 {
			_, err = submit.Cancel(pick.cb.Fildes, nil)
		} else {
			_, err = submit.Cancel(pick.cb.Fildes, pick.cb)
		}
		if err != nil {
			s.t.Fatalf("Cancel: %v", err)
		}
	case 6:
		var list []*aiocb.AIOCB
		var reqs []*seqReq
		for i := range 1 + int(c%4) {
			r := s.prepare((a>>i)&1 != 0, target+byte(i), a+byte(i*3), b+byte(i*5), c+byte(i))
			// Entries of one batch must not race with each other.
			for _, o := range reqs {
				if o.cb.Opcode != aiocb.OpNop && racing(r.off, r.n, r.write, r.eof, o) {
					r.cb.Opcode = aiocb.OpNop
				}
			}
			list = append(list, r.cb)
			reqs = append(reqs, r)
		}
		mode := submit.NoWait
		if b&0x80 != 0 {
			mode = submit.Wait
		}
		err := submit.ListIO(mode, list, nil)
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			s.t.Fatalf("ListIO: %v", err)
		}
		for _, r := range reqs {
			if r.cb.Opcode == aiocb.OpNop {
				s.refused(r)
				continue
			}
			if st := submit.Error(r.cb); errors.Is(st, syscall.EAGAIN) {
				if _, rerr := submit.Return(r.cb); !errors.Is(rerr, syscall.EAGAIN) {
					s.t.Fatalf("refused entry: Return %v", rerr)
				}
				s.refused(r)
				continue
			}
			s.accept(r)
		}
	case 7:
		pi := int(target % (seqPorts + 1))
		switch {
		case pi < seqPorts && a&1 != 0:
			if err := s.ports[pi].PostQueuedCompletionStatus(int(b), 999, nil); err != nil {
				s.t.Fatalf("post: %v", err)
			}
			s.posted[pi]++
		case pi < seqPorts:
			s.harvestPort(pi, 0)
		default:
			cb, n, err := submit.Waitcomplete(0)
			if cb != nil {
				s.defaultDone(cb, n, err)
			} else if !errors.Is(err, syscall.EAGAIN) {
				s.t.Fatalf("Waitcomplete: %v", err)
			}
		}
	}
}

// harvestPort takes what port pi has within timeout.
func (s *seq) harvestPort(pi int, timeout time.Duration) {
	var pkts [8]completion.Packet
	n, err := s.ports[pi].GetQueuedCompletionStatusEx(pkts[:], timeout)
	if err != nil {
		if errors.Is(err, port.ErrTimeout) {
			return
		}
		s.t.Fatalf("GetQueuedCompletionStatusEx: %v", err)
	}
	for _, pkt := range pkts[:n] {
		if pkt.CB == nil {
			if pkt.Key != 999 || s.posted[pi] == 0 {
				s.t.Fatalf("port %d: unexpected packet %+v", pi, pkt)
			}
			s.posted[pi]--
			continue
		}
		r, ok := s.flight[pkt.CB]
		if !ok || r.port != pi {
			s.t.Fatalf("port %d: packet for a request not in flight there (%s)", pi, fmtCB(pkt.CB))
		}
		if want := uintptr(10*pi) + map[int]uintptr{s.fdB: 0, s.fdD: 1, s.pipeR: 2, s.pipeW: 3}[pkt.CB.Fildes]; pkt.Key != want {
			s.t.Fatalf("port %d: key %d, want %d", pi, pkt.Key, want)
		}
		n, rerr := submit.Return(pkt.CB)
		if pkt.Err != nil {
			if n != -1 || !errors.Is(rerr, pkt.Err) {
				s.t.Fatalf("packet error %v, Return %d %v", pkt.Err, n, rerr)
			}
		} else if n != pkt.Bytes || rerr != nil {
			s.t.Fatalf("packet %d bytes, Return %d %v", pkt.Bytes, n, rerr)
		}
		s.done(r, n, rerr)
	}
}

// defaultDone completes a default-context request handed out by
// Waitcomplete (which performed its Return).
func (s *seq) defaultDone(cb *aiocb.AIOCB, n int, err error) {
	r, ok := s.flight[cb]
	if !ok {
		s.t.Logf("Waitcomplete handed out a request of another test: %s", fmtCB(cb))
		return
	}
	if r.port != seqPorts {
		s.t.Fatalf("Waitcomplete handed out a port request")
	}
	s.done(r, n, err)
}

// done checks a final request against the model and retires it.
func (s *seq) done(r *seqReq, n int, err error) {
	delete(s.flight, r.cb)
	if r.stream {
		s.streamDone(r, n, err)
		return
	}
	defer func() {
		if r.slot >= 0 {
			s.free = append(s.free, r.slot)
		}
	}()
	if errors.Is(err, syscall.ECANCELED) {
		// An fsync held behind earlier requests, or a read or write waiting
		// for a worker (RWF_NOWAIT handed it back), is really cancelled:
		// it transferred nothing, so the model is unchanged.
		if n != -1 {
			s.t.Fatalf("a cancelled %v returned %d", r.cb.Opcode, n)
		}
		if r.write {
			// The model took the write at accept; reload it from the file
			// once everything in flight is final.
			s.resync = true
		}
		return
	}
	if err != nil {
		s.t.Fatalf("%v at %d+%d (port %d): %v", r.cb.Opcode, r.off, r.n, r.port, err)
	}
	switch {
	case r.fsync:
		if n != 0 {
			s.t.Fatalf("fsync returned %d bytes", n)
		}
		for _, p := range r.prior {
			if submit.Error(p) == syscall.EINPROGRESS {
				s.t.Fatalf("fsync final before a write queued before it on its file")
			}
		}
	case r.write:
		if int64(n) != r.n {
			s.t.Fatalf("write at %d: %d of %d bytes", r.off, n, r.n)
		}
		s.committed = max(s.committed, r.off+r.n)
	default:
		if n != len(r.want) || !bytes.Equal(r.cb.Buf[:n], r.want) {
			s.t.Fatalf("read at %d+%d (port %d): %d bytes, want %d; data equal %v", r.off, r.n, r.port, n, len(r.want), bytes.Equal(r.cb.Buf[:min(n, len(r.want))], r.want[:min(n, len(r.want))]))
		}
	}
}

// drainAll completes every request in flight and every posted packet,
// within the deadline.
func (s *seq) drainAll() {
	end := time.Now().Add(deadline)
	for {
		busy := map[int]bool{}
		for _, r := range s.flight {
			busy[r.port] = true
		}
		for pi, n := range s.posted {
			if n > 0 {
				busy[pi] = true
			}
		}
		if len(busy) == 0 {
			return
		}
		s.unblockPipe()
		if time.Now().After(end) {
			s.t.Fatalf("%d requests and %v posted packets still pending after %v", len(s.flight), s.posted, deadline)
		}
		for pi := range busy {
			if pi < seqPorts {
				s.harvestPort(pi, time.Millisecond)
			}
		}
		for cb, r := range s.flight {
			st := submit.Error(cb)
			switch {
			case st == syscall.EINPROGRESS:
			case r.port == seqPorts:
				n, err := submit.Return(cb)
				s.done(r, n, err)
			case errors.Is(st, syscall.ECANCELED):
				// A cancelled port request makes no packet.
				if n, err := submit.Return(cb); n != -1 || !errors.Is(err, syscall.ECANCELED) {
					s.t.Fatalf("cancelled request: Return %d %v", n, err)
				}
				s.done(r, -1, syscall.ECANCELED)
			}
		}
	}
}

// verify compares the file with the model and checks no stray packet.
func (s *seq) verify() {
	s.reload()
	s.verifyPipe()
	if n := engine.StaleEvents(); n > 0 {
		s.t.Fatalf("the engine dropped %d events for slots freed or reused: a request finished twice", n)
	}
	got := make([]byte, len(s.model)+seqSlotSize)
	n, err := unix.Pread(s.fdB, got, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	if i := testutil.Equal(got[:n], s.model); i >= 0 {
		s.t.Fatalf("file (%d bytes) differs from the model (%d bytes) at %d", n, len(s.model), i)
	}
	for pi, p := range s.ports {
		if pkt, err := p.GetQueuedCompletionStatus(0); err == nil {
			s.t.Fatalf("port %d: stray packet %+v (%v at %d+%d, status %v)", pi, pkt, pkt.CB.Opcode, pkt.CB.Offset, pkt.CB.Nbytes(), submit.Error(pkt.CB))
		}
	}
}
