package port

import (
	"fmt"
	"syscall"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/abi"
	"github.com/goiocp/goiocp/internal/engine"
	"github.com/goiocp/goiocp/internal/sys"
)

// errInProgress is the error of a ReadFile or WriteFile that goes on
// asynchronously.
var errInProgress = fmt.Errorf("transfer goes on, its packet follows: %w", syscall.EINPROGRESS)

// ReadFile is AIX's ReadFile for a socket associated with the port: it
// reads into buf what one read(2) would return. When data is waiting (or
// the peer has shut down: 0, end of stream) the read is done at once and
// ReadFile returns the byte count with a nil error and queues no packet.
// Otherwise it returns 0 and an error satisfying errors.Is(err,
// syscall.EINPROGRESS): the read waits for data holding no thread, and a
// packet {Key: the association's key, Bytes, CB: ov, Err} is queued on the
// port once it is done. buf belongs to the port until then. ov may be nil;
// it is only handed back in the packet (and submit.Error and submit.Return
// work on it as on any request); a non-nil ov must not be in flight.
//
// A fd that is not open is EBADF; one that is not a socket, or not
// associated with p, is EINVAL; a port with no room for another request is
// EAGAIN, with nothing read. Whether fd is a socket is what it was when it
// was associated (no fstat per call): a program that closes a socket and
// reuses its number for another file must associate the number again, as
// it must to change its key. Reads on one socket complete in the order they
// were made, each taking the next bytes; Close cancels one still waiting.
func (p *Port) ReadFile(fd int, buf []byte, ov *aiocb.AIOCB) (int, error) {
	return p.transfer("read file", abi.IOCB_CMD_PREAD, fd, buf, ov)
}

// WriteFile is AIX's WriteFile for a socket associated with the port: it
// writes all of buf. When the socket's send buffer has room for all of it
// the write is done at once, and WriteFile returns len(buf) with a nil
// error and queues no packet. Otherwise it returns 0 and an error
// satisfying errors.Is(err, syscall.EINPROGRESS): what did not fit is
// written as the peer reads, and a packet {Key, Bytes: len(buf), CB: ov,
// Err} follows. A write to a peer that is gone fails with EPIPE or
// ECONNRESET (at once, or in the packet) and never raises SIGPIPE. Errors
// and ownership are as for ReadFile; writes on one socket never interleave.
func (p *Port) WriteFile(fd int, buf []byte, ov *aiocb.AIOCB) (int, error) {
	return p.transfer("write file", abi.IOCB_CMD_PWRITE, fd, buf, ov)
}

func (p *Port) transfer(op string, cmd uint16, fd int, buf []byte, ov *aiocb.AIOCB) (int, error) {
	if fd < 0 {
		return 0, fmt.Errorf("%s %d: %w", op, fd, syscall.EBADF)
	}
	// The association records what the file was: a socket is trusted to
	// be one still, without a look per call.
	a, ok := p.ctx.Lookup(fd)
	if !ok {
		if err := sys.FdValid(fd); err != nil {
			return 0, fmt.Errorf("%s %d: %w", op, fd, err)
		}
		return 0, fmt.Errorf("%s %d: not associated with the port: %w", op, fd, syscall.EINVAL)
	}
	if !a.Socket() {
		if err := sys.FdValid(fd); err != nil {
			return 0, fmt.Errorf("%s %d: %w", op, fd, err)
		}
		return 0, fmt.Errorf("%s %d: not a socket: %w", op, fd, syscall.EINVAL)
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	cb := ov
	if cb == nil {
		cb = new(aiocb.AIOCB)
	}
	r := engine.RequestOf(cb)
	if err := r.Claim(); err != nil {
		return 0, fmt.Errorf("%s %d: %w", op, fd, err)
	}
	if ov != nil {
		ov.Fildes, ov.Offset, ov.Buf, ov.Iov = fd, 0, buf, nil
		ov.Opcode = aiocb.OpRead
		if cmd == abi.IOCB_CMD_PWRITE {
			ov.Opcode = aiocb.OpWrite
		}
		ov.Flags, ov.Version, ov.IOCPFD = aiocb.Extended, aiocb.Vers2, p.fd
		r.Owner = ov
	} else {
		r.Owner = nil // the packet's CB is nil
	}
	r.Cmd, r.Fd, r.Offset, r.Buf, r.Iov = cmd, fd, 0, buf, nil
	r.Prio, r.Sev, r.Group = 0, engine.Sigevent{}, nil
	r.UseAssoc(a, true)
	r.AtOnce = true
	done, e := p.ctx.SubmitAtOnce(r)
	if e != 0 {
		return 0, fmt.Errorf("%s %d: %w", op, fd, sys.Errno(e))
	}
	if !done {
		return 0, errInProgress
	}
	n, err := r.Return()
	if err != nil {
		return 0, fmt.Errorf("%s %d: %w", op, fd, err)
	}
	return n, nil
}
