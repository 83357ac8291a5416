//go:build linux

package reliability_test

import (
	"encoding/binary"
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

// validateFixture is what every FuzzValidate input runs against.
type validateFixture struct {
	rw, ro   int        // a read-write file and the same file read-only
	p, q     *port.Port // p has both files associated, q none
	closedFd int        // a number that was a port's and is no port now
	initial  []byte
}

const validateModel = 64 << 10 // the bytes of the file compared after each input

func newValidateFixture(t testing.TB) *validateFixture {
	path := tempPath(t)
	fx := &validateFixture{initial: testutil.Pattern(40, 16<<10)}
	_, fx.rw = createFile(t, path, fx.initial, 0)
	_, fx.ro = openFile(t, path, 0)
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	fx.ro = int(ro.Fd())
	fx.p = newPort(t)
	associate(t, fx.p, fx.rw, 1)
	associate(t, fx.p, fx.ro, 2)
	fx.q = newPort(t)
	c := newPort(t)
	fx.closedFd = c.Fd()
	c.Close()
	return fx
}

// decodeAIOCB builds an AIOCB and an operation from fuzz input, choosing
// every field among valid, boundary and absurd values.
func (fx *validateFixture) decode(b []byte) (cb *aiocb.AIOCB, op byte, threadCalls *int) {
	in := make([]byte, 24)
	copy(in, b)
	cb = &aiocb.AIOCB{}
	op = in[0] % 7
	switch in[1] % 7 {
	case 0, 6:
		cb.Fildes = fx.rw
	case 1:
		cb.Fildes = fx.ro
	case 2:
		cb.Fildes = -1
	case 3:
		cb.Fildes = 1 << 20
	case 4:
		// Any number but an open one: an open fd here may be the fuzzing
		// engine's own pipe or file, which a request must not touch.
		cb.Fildes = int(int32(binary.LittleEndian.Uint32(in[19:23])))
		if cb.Fildes >= 0 && fcntlOK(cb.Fildes) {
			cb.Fildes = 1<<20 + cb.Fildes&0xffff
		}
	case 5:
		// Not a port's eventfd: a read of it would wait for the counter,
		// as a read of an empty pipe does, and never complete.
		cb.Fildes = fx.closedFd
	}
	if in[2]&0x80 == 0 {
		cb.Offset = int64(binary.LittleEndian.Uint16(in[3:5])) % (40 << 10)
	} else {
		cb.Offset = int64(binary.LittleEndian.Uint64(in[3:11]))
	}
	n := int(binary.LittleEndian.Uint16(in[11:13])) % 9000
	switch {
	case in[2]&0x40 != 0:
		cb.Buf = nil
	default:
		cb.Buf = testutil.Pattern(uint64(in[11]), n)
	}
	switch k := int(in[13]); {
	case k < 200:
		for i := range k % 4 {
			cb.Iov = append(cb.Iov, cb.Buf[:min(len(cb.Buf), 100*i)])
		}
	default:
		cb.Iov = make([][]byte, 1025+k) // over IOV_MAX
	}
	cb.Reqprio = int(int8(in[14]))
	cb.Opcode = aiocb.Opcode(int8(in[15]) % 9)
	cb.Flags = aiocb.Flags(in[16] % 4)
	switch v := in[17] % 5; v {
	case 4:
		cb.Version = math.MaxUint32
	default:
		cb.Version = aiocb.Version(v)
	}
	switch in[18] % 7 {
	case 1, 6:
		cb.IOCPFD = fx.p.Fd()
	case 2:
		cb.IOCPFD = fx.q.Fd()
	case 3:
		cb.IOCPFD = fx.ro
	case 4:
		cb.IOCPFD = -3
	case 5:
		cb.IOCPFD = fx.closedFd
	}
	calls := new(int)
	switch in[23] % 5 {
	case 1:
		// A real signal, but a harmless one: SIGWINCH or SIGURG.
		cb.Sigevent = aiocb.Sigevent{Notify: aiocb.SigevSignal, Signo: []syscall.Signal{syscall.SIGWINCH, syscall.SIGURG, 0, 65, -1}[in[22]%5]}
	case 2:
		cb.Sigevent = aiocb.Sigevent{Notify: aiocb.SigevThread, Func: func(any) {}}
	case 3:
		cb.Sigevent = aiocb.Sigevent{Notify: aiocb.SigevThread} // no Func
	case 4:
		cb.Sigevent = aiocb.Sigevent{Notify: aiocb.Notify(in[22])}
	}
	return cb, op, calls
}

// expected returns the errnos the contract allows for cb's validation
// failure under op (any rule broken may be the one reported), or nil when
// cb passes validation.
func (fx *validateFixture) expected(cb *aiocb.AIOCB, op byte) map[syscall.Errno]bool {
	if op >= 5 {
		switch cb.Opcode {
		case aiocb.OpNop:
			return nil // ListIO skips it
		case aiocb.OpFsync, aiocb.OpFdsync:
			op = 2 // an fsync entry reads what Fsync reads
		}
	}
	bad := map[syscall.Errno]bool{}
	if op == 4 {
		bad[syscall.EINVAL] = true // Fsync with a bad op
	}
	if cb.Flags&^aiocb.Extended != 0 {
		bad[syscall.EINVAL] = true
	}
	ext := cb.Flags&aiocb.Extended != 0
	if ext && (cb.Version == 0 || cb.Version > aiocb.Vers2) {
		bad[syscall.EINVAL] = true
	}
	if cb.IOCPFD != 0 {
		if !ext || cb.Version < aiocb.Vers2 {
			bad[syscall.EINVAL] = true
		}
		switch cb.IOCPFD {
		case fx.p.Fd():
			if cb.Fildes != fx.rw && cb.Fildes != fx.ro {
				bad[syscall.EINVAL] = true // not associated
				if !fcntlOK(cb.Fildes) {
					bad[syscall.EBADF] = true
				}
			}
		case fx.q.Fd():
			bad[syscall.EINVAL] = true
			if !fcntlOK(cb.Fildes) {
				bad[syscall.EBADF] = true
			}
		default:
			bad[syscall.EBADF] = true
		}
	}
	if cb.Fildes < 0 || !fcntlOK(cb.Fildes) {
		bad[syscall.EBADF] = true
	}
	switch cb.Sigevent.Notify {
	case aiocb.SigevNone:
	case aiocb.SigevSignal:
		if cb.Sigevent.Signo <= 0 || cb.Sigevent.Signo > 64 {
			bad[syscall.EINVAL] = true
		}
	case aiocb.SigevThread:
		if cb.Sigevent.Func == nil {
			bad[syscall.EINVAL] = true
		}
	default:
		bad[syscall.EINVAL] = true
	}
	if cb.Opcode < aiocb.OpRead || cb.Opcode > aiocb.OpPoll {
		bad[syscall.EINVAL] = true
	}
	if op >= 2 && op <= 4 { // fsync reads nothing else
		return orNil(bad)
	}
	if op >= 5 && cb.Opcode == aiocb.OpPoll {
		// A poll entry reads Events and nothing else of the transfer's.
		if cb.Events == 0 {
			bad[syscall.EINVAL] = true
		}
		return orNil(bad)
	}
	vectored := (op == 0 && cb.Opcode == aiocb.OpReadv) || (op == 1 && cb.Opcode == aiocb.OpWritev) ||
		(op >= 5 && (cb.Opcode == aiocb.OpReadv || cb.Opcode == aiocb.OpWritev))
	if vectored && len(cb.Iov) > 1024 {
		bad[syscall.EINVAL] = true
	}
	if cb.Reqprio < 0 || cb.Reqprio > 20 {
		bad[syscall.EINVAL] = true
	}
	if cb.Offset < 0 || int64(cb.Nbytes()) > math.MaxInt64-cb.Offset {
		bad[syscall.EINVAL] = true
	}
	return orNil(bad)
}

func orNil(m map[syscall.Errno]bool) map[syscall.Errno]bool {
	if len(m) == 0 {
		return nil
	}
	return m
}

// FuzzValidate submits AIOCBs with fuzzed fields through Read, Write,
// Fsync and ListIO: a request breaking a rule of the contract must fail
// with one of the errnos those rules name and do no I/O (the file is
// unchanged, no packet comes); a valid one must complete (or be refused by
// the kernel at once) within the deadline, and only a successful write may
// change the file, by exactly its bytes. Nothing may panic.
func FuzzValidate(f *testing.F) {
	fx := newValidateFixture(f)
	f.Fuzz(func(t *testing.T, b []byte) { fx.run(t, b) })
}

// run is one FuzzValidate input.
func (fx *validateFixture) run(t *testing.T, b []byte) {
	defer watchInput(b)()
	if err := unix.Ftruncate(fx.rw, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Pwrite(fx.rw, fx.initial, 0); err != nil {
		t.Fatal(err)
	}
	model := append(make([]byte, 0, validateModel), fx.initial...)
	cb, op, _ := fx.decode(b)
	want := fx.expected(cb, op)
	var err error
	switch op {
	case 0:
		err = submit.Read(cb)
	case 1:
		err = submit.Write(cb)
	case 2:
		err = submit.Fsync(unix.O_SYNC, cb)
	case 3:
		err = submit.Fsync(unix.O_DSYNC, cb)
	case 4:
		err = submit.Fsync(0x7777, cb)
	default:
		err = submit.ListIO(submit.Wait, []*aiocb.AIOCB{cb}, nil)
		if err != nil && errors.Is(err, syscall.EIO) {
			// The entry's own status tells why.
			if st := submit.Error(cb); st != syscall.EINPROGRESS {
				err = st
			}
		}
	}
	isWrite := (op == 1) || (op >= 5 && (cb.Opcode == aiocb.OpWrite || cb.Opcode == aiocb.OpWritev))
	if want != nil {
		var e syscall.Errno
		if !errors.As(err, &e) || !want[e] {
			t.Fatalf("op %d on %+v: %v, want one of %v", op, summary(cb), err, want)
		}
	} else if err != nil {
		// A valid request the kernel refused at once (a single submit),
		// or a ListIO entry that ran and failed (EFBIG far past the
		// maximum file size...): no bytes reached the file either way.
		var e syscall.Errno
		if op >= 5 && errors.As(err, &e) {
			// Any errno is the entry's own result. An entry the kernel
			// refused in io_submit posts nothing; one that ran and
			// failed (EFBIG...) completes to its port like any other.
			if cb.IOCPFD != 0 {
				if pkt, perr := fx.p.GetQueuedCompletionStatus(0); perr == nil {
					if pkt.CB != cb || !errors.Is(pkt.Err, e) {
						t.Fatalf("ListIO entry failed with %v, but p has %+v", e, pkt)
					}
				}
			}
		} else if !errors.As(err, &e) || (e != syscall.EBADF && e != syscall.EINVAL && e != syscall.ESPIPE && e != syscall.EAGAIN) {
			t.Fatalf("valid op %d on %+v refused with %v", op, summary(cb), err)
		}
	} else if op >= 5 && cb.Opcode == aiocb.OpNop {
		if st := submit.Error(cb); st != syscall.EINVAL {
			t.Fatalf("a skipped OpNop entry has status %v, want EINVAL (never submitted)", st)
		}
	} else {
		// Valid and queued: it completes.
		n, rerr := fx.finish(t, cb, op)
		if isWrite && rerr == nil && n > 0 && cb.Fildes == fx.rw {
			src := cb.Buf
			if cb.Opcode == aiocb.OpWritev {
				src = nil
				for _, v := range cb.Iov {
					src = append(src, v...)
				}
			}
			// The file grows (with a hole) to the write's end; the model
			// covers its first validateModel bytes.
			if end := min(cb.Offset+int64(n), validateModel); int64(len(model)) < end {
				model = append(model, make([]byte, end-int64(len(model)))...)
			}
			if cb.Offset < validateModel {
				copy(model[cb.Offset:], src[:min(int64(n), validateModel-cb.Offset)])
			}
		}
	}
	got := make([]byte, validateModel)
	m, _ := unix.Pread(fx.rw, got, 0)
	if i := testutil.Equal(got[:m], model); i >= 0 {
		t.Fatalf("op %d on %+v (result %v): file differs from the model at %d", op, summary(cb), err, i)
	}
	if pkt, err := fx.p.GetQueuedCompletionStatus(0); err == nil {
		t.Fatalf("stray packet on p: %+v", pkt)
	}
	if pkt, err := fx.q.GetQueuedCompletionStatus(0); err == nil {
		t.Fatalf("stray packet on q: %+v", pkt)
	}
}

// finish waits for a queued request and returns its result, harvesting its
// packet if it names a port.
func (fx *validateFixture) finish(t *testing.T, cb *aiocb.AIOCB, op byte) (int, error) {
	if cb.IOCPFD != 0 {
		pkt, err := fx.p.GetQueuedCompletionStatus(deadline)
		if err != nil {
			t.Fatalf("no packet for a queued request: %v", err)
		}
		if pkt.CB != cb {
			t.Fatalf("packet for another request")
		}
	}
	end := time.Now().Add(deadline)
	for submit.Error(cb) == syscall.EINPROGRESS {
		if time.Now().After(end) {
			t.Fatal("request still in flight after the deadline")
		}
		time.Sleep(100 * time.Microsecond)
	}
	return submit.Return(cb)
}

// summary is cb without its buffers, for messages.
func summary(cb *aiocb.AIOCB) string {
	return fmtCB(cb)
}
