//go:build linux

package reliability_test

import (
	"bytes"
	"errors"
	"syscall"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/submit"
	"golang.org/x/sys/unix"
)

// Stream requests in FuzzSequence: reads and writes of one pipe (its
// capacity cut to a page, so writes wait too), through the ports and the
// default context, beside the file's requests. The model is the two ends
// of the pipe in program order: what was written (each accepted write, and
// the harness's own filler) and who read (each accepted read, and the
// harness's own drain). Requests of one direction complete in the order
// they were submitted, so the bytes read, joined in that order, must be
// the bytes written, joined in theirs; a cancelled request moves no byte.

// streamOp is a byte of op[0] at or above which a step is a stream step.
const streamOp = 0xe0

// pipeEnd is one entry of the model's producer or consumer log.
type pipeEnd struct {
	cb       *aiocb.AIOCB // the request, or nil for the harness's own transfer
	data     []byte       // a write's bytes; a read's, once final
	canceled bool
}

// streamStep submits a pipe read or write.
func (s *seq) streamStep(op []byte) {
	pi := int(op[1] % (seqPorts + 1))
	write := op[2]&1 != 0
	n := (int(op[3]) | int(op[4])<<8) % 1536
	n++
	fd := s.pipeR
	if write {
		fd = s.pipeW
	}
	buf := make([]byte, n)
	if write {
		s.pipeGen++
		buf = testutil.Pattern(s.pipeGen, n)
	}
	r := &seqReq{port: pi, write: write, stream: true, slot: -1, cb: s.newCB(pi, fd, int64(op[2]), buf)}
	var err error
	if write {
		err = submit.Write(r.cb)
	} else {
		err = submit.Read(r.cb)
	}
	switch {
	case err == nil:
	case errors.Is(err, syscall.EAGAIN) && pi < seqPorts:
		return // the port is full
	default:
		s.t.Fatalf("submit pipe %v of %d: %v", r.cb.Opcode, n, err)
	}
	s.flight[r.cb] = r
	e := &pipeEnd{cb: r.cb}
	if write {
		e.data = buf
		s.produced = append(s.produced, e)
	} else {
		s.consumed = append(s.consumed, e)
	}
	s.pipeReq[r.cb] = e
}

// streamDone records a final pipe request in the model.
func (s *seq) streamDone(r *seqReq, n int, err error) {
	e := s.pipeReq[r.cb]
	delete(s.pipeReq, r.cb)
	switch {
	case errors.Is(err, syscall.ECANCELED):
		if n != -1 {
			s.t.Fatalf("a cancelled pipe %v returned %d", r.cb.Opcode, n)
		}
		e.canceled = true
	case err != nil:
		s.t.Fatalf("pipe %v (port %d): %v", r.cb.Opcode, r.port, err)
	case r.write && n != len(e.data):
		s.t.Fatalf("pipe write of %d bytes completed with %d", len(e.data), n)
	case !r.write && n == 0:
		s.t.Fatalf("pipe read completed with 0 bytes, the writer being open")
	case !r.write:
		e.data = append([]byte(nil), r.cb.Buf[:n]...)
	}
}

// unblockPipe lets the pipe requests in flight finish, as their peers
// would: it drains the pipe for pending writes and fills it for pending
// reads, in the model's logs at this point of the program. Writes in
// flight are all the pipe's writers and reads all its readers but the
// harness, so a log entry's place is its bytes' place in the pipe.
func (s *seq) unblockPipe() {
	reads, writes := 0, 0
	for _, r := range s.flight {
		switch {
		case !r.stream:
		case r.write:
			writes++
		default:
			reads++
		}
	}
	// With both kinds in flight, one of them can go on (the pipe is neither
	// empty and full at once), and the harness must not take bytes a read
	// submitted earlier is about to take.
	if writes > 0 && reads == 0 {
		s.drainPipe()
	}
	if reads > 0 && writes == 0 {
		s.pipeGen++
		fill := testutil.Pattern(s.pipeGen, reads)
		if n, err := unix.Write(s.pipeW, fill); err == nil && n > 0 {
			s.produced = append(s.produced, &pipeEnd{data: fill[:n]})
		}
	}
}

// drainPipe reads what the pipe holds into the consumer log.
func (s *seq) drainPipe() {
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(s.pipeR, buf)
		if n <= 0 || err != nil {
			return
		}
		s.consumed = append(s.consumed, &pipeEnd{data: append([]byte(nil), buf[:n]...)})
	}
}

// verifyPipe drains the pipe and checks the model: the bytes read, in
// read order, are the bytes written, in write order.
func (s *seq) verifyPipe() {
	s.drainPipe()
	var in, out bytes.Buffer
	for _, e := range s.produced {
		if !e.canceled {
			in.Write(e.data)
		}
	}
	for _, e := range s.consumed {
		if !e.canceled {
			out.Write(e.data)
		}
	}
	if i := testutil.Equal(out.Bytes(), in.Bytes()); i >= 0 {
		s.t.Fatalf("pipe: %d bytes read differ from the %d written at %d", out.Len(), in.Len(), i)
	}
}
