//go:build linux

package httpd

import (
	"errors"
	"net/http"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/sys"
	"github.com/goiocp/goiocp/submit"
)

// lingerTime is how long a connection being closed reads and discards
// what its client still sends, so that the client reads the last response
// before the close resets the connection.
const lingerTime = 500 * time.Millisecond

// lingerBytes is the most a lingering connection reads and drops.
const lingerBytes = 1 << 20

// What a connection does next. run carries it from step to step until an
// operation must wait for its packet.
type step int

const (
	stepParse  step = iota // look for a whole request header in the read buffer
	stepRead               // read more of the request
	stepSend               // write out
	stepSent               // out is written
	stepFile               // read the file's next chunk
	stepLinger             // close after the client has read the response
	stepWait               // an operation is in flight; its packet goes on
	stepClose              // close the connection now
)

// What a connection has in flight: at most one operation at a time.
type op int

const (
	opNone op = iota
	opRead
	opWrite
	opFile
)

// A conn is one client connection, owned by one worker.
type conn struct {
	w           *worker
	fd          int
	slot        int
	key         uintptr
	rcb, wcb    aiocb.AIOCB // its socket's read and write
	fcb         aiocb.AIOCB // its file's read
	op          op
	deadline    time.Time // of a socket wait
	dying       bool      // close once the operation in flight is done
	lingering   bool
	discarded   int       // bytes dropped while lingering
	served      int       // responses done
	reqStart    time.Time // first byte of the request being read (or the connection's start); zero: none yet
	idleSince   time.Time
	rbuf        []byte
	rstart      int // the unparsed bytes are rbuf[rstart:rend]
	rend        int
	scanned     int // of those, the bytes known to hold no header end
	closeAfter  bool
	keepAlive10 bool   // an HTTP/1.0 client asked for keep-alive
	peer        string // the client's address, looked up for the log
	out         []byte // what stepSend writes
	hd          head
	resp        response
}

func newConn(w *worker, fd, slot int, gen uint32) *conn {
	c := &conn{w: w, fd: fd, slot: slot, key: makeKey(kindConn, slot, gen)}
	c.rbuf = make([]byte, min(4096, w.s.cfg.MaxHeaderBytes))
	c.reqStart = w.now
	for _, cb := range []*aiocb.AIOCB{&c.rcb, &c.wcb, &c.fcb} {
		*cb = aiocb.AIOCB{Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: w.pfd}
	}
	c.fcb.Opcode = aiocb.OpRead
	c.fcb.Sigevent.Value = c
	return c
}

// run carries the connection on from s. A client whose requests are all
// answered at once (errors, HEAD, 304) gets a bounded share of the turn;
// the rest goes on in a later one.
func (c *conn) run(s step) {
	for budget := 64; ; budget-- {
		switch s {
		case stepWait:
			return
		case stepClose:
			c.close()
			return
		}
		if budget == 0 {
			c.w.port.PostQueuedCompletionStatus(int(s), c.key, nil)
			return
		}
		s = c.do(s)
	}
}

func (c *conn) do(s step) step {
	switch s {
	case stepParse:
		return c.parse()
	case stepRead:
		return c.read()
	case stepSend:
		return c.send()
	case stepSent:
		return c.sent()
	case stepFile:
		return c.readFile()
	case stepLinger:
		return c.linger()
	}
	return stepClose
}

// packet goes on with the connection after one of its operations.
func (c *conn) packet(pkt completion.Packet) {
	if pkt.CB == nil { // a continue posted by run
		if c.op == opNone && !c.dying {
			c.run(step(pkt.Bytes))
		}
		return
	}
	c.op = opNone
	if c.dying {
		c.close()
		return
	}
	switch pkt.CB {
	case &c.rcb:
		switch {
		case pkt.Err != nil || pkt.Bytes == 0:
			c.run(stepClose)
		case c.lingering:
			c.discarded += pkt.Bytes
			c.run(stepLinger)
		default:
			c.rend += pkt.Bytes
			c.run(stepParse)
		}
	case &c.wcb:
		if pkt.Err != nil {
			c.run(stepClose)
			return
		}
		c.run(stepSent)
	case &c.fcb:
		c.run(c.fileRead(pkt.Bytes, pkt.Err))
	}
}

// parse serves the next request whose header is all in the buffer.
func (c *conn) parse() step {
	for c.rstart < c.rend && (c.rbuf[c.rstart] == '\r' || c.rbuf[c.rstart] == '\n') {
		c.rstart++ // empty lines before a request line (RFC 9112 2.2)
	}
	if c.rstart == c.rend {
		c.rstart, c.rend, c.scanned = 0, 0, 0
		if c.w.draining {
			return stepClose
		}
		return stepRead
	}
	if c.reqStart.IsZero() {
		c.reqStart = c.w.now
	}
	b := c.rbuf[c.rstart:c.rend]
	limit := c.w.s.cfg.MaxHeaderBytes
	end := headerEnd(b, c.scanned)
	if end < 0 || end > limit {
		if len(b) >= limit {
			c.resp = newResponse(c.w.now)
			return c.refuse(http.StatusRequestHeaderFieldsTooLarge)
		}
		c.scanned = max(0, len(b)-3)
		return stepRead
	}
	c.rstart += end
	c.scanned = 0
	return c.serve(b[:end])
}

// headerEnd returns the length of the header block at the start of b (up
// to and with its blank line), or -1 if b does not hold all of it. The
// first from bytes are known to hold no end. Bare LF line ends count, as
// net/http's reader allows them.
func headerEnd(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}

// read reads more of the request.
func (c *conn) read() step {
	if c.rend == len(c.rbuf) {
		if c.rstart > 0 {
			c.rend = copy(c.rbuf, c.rbuf[c.rstart:c.rend])
			c.rstart = 0
		} else {
			grown := make([]byte, min(2*len(c.rbuf), c.w.s.cfg.MaxHeaderBytes))
			c.rend = copy(grown, c.rbuf[:c.rend])
			c.rbuf = grown
		}
	}
	n, err := c.w.port.ReadFile(c.fd, c.rbuf[c.rend:], &c.rcb)
	switch {
	case err == nil && n > 0:
		c.rend += n
		return stepParse
	case err == nil:
		return stepClose // the client is done
	case errors.Is(err, syscall.EINPROGRESS):
		c.op = opRead
		if c.reqStart.IsZero() {
			c.deadline = c.idleSince.Add(c.w.s.cfg.IdleTimeout)
		} else {
			c.deadline = c.reqStart.Add(c.w.s.cfg.HeaderTimeout)
		}
		return stepWait
	}
	return stepClose
}

// send writes out.
func (c *conn) send() step {
	_, err := c.w.port.WriteFile(c.fd, c.out, &c.wcb)
	switch {
	case err == nil:
		return stepSent
	case errors.Is(err, syscall.EINPROGRESS):
		c.op = opWrite
		c.deadline = c.w.now.Add(c.w.s.cfg.IdleTimeout)
		return stepWait
	}
	return stepClose
}

// sent goes on after a write: the file's next chunk, or the next request.
func (c *conn) sent() step {
	if c.resp.remain > 0 {
		return stepFile
	}
	c.finish()
	if c.closeAfter {
		return stepLinger
	}
	c.served++
	c.reqStart, c.idleSince = time.Time{}, c.w.now
	return stepParse
}

// linger shuts the connection's sending side and reads (and drops) what
// the client still sends until it closes, or lingerTime passes.
func (c *conn) linger() step {
	if !c.lingering {
		c.lingering = true
		c.deadline = c.w.now.Add(lingerTime)
		c.discarded = 0
		if sys.ShutdownWrite(c.fd) != nil {
			return stepClose
		}
	}
	// A client that keeps sending (an upload to a 405) is not read for
	// ever: the linger ends at its deadline or after lingerBytes.
	if !c.w.now.Before(c.deadline) || c.discarded > lingerBytes {
		return stepClose
	}
	n, err := c.w.port.ReadFile(c.fd, c.rbuf, &c.rcb)
	switch {
	case err == nil && n > 0:
		c.discarded += n
		return stepLinger
	case errors.Is(err, syscall.EINPROGRESS):
		c.op = opRead
		return stepWait
	}
	return stepClose
}

// idle reports whether the connection waits for a request of which no
// byte has come (its first, or the next after a response).
func (c *conn) idle() bool {
	return c.op == opRead && !c.lingering && c.rstart == c.rend
}

// expired reports whether the connection's wait is past its deadline. A
// file read has one too (fileTimeout): one the kernel refused without a
// packet, or a file system that never answers, must not hold the
// connection, and Shutdown, for ever.
func (c *conn) expired(now time.Time) bool {
	return c.op != opNone && now.After(c.deadline)
}

// fileTimeout bounds a file read.
const fileTimeout = time.Minute

// abort cuts the connection: at once if nothing is in flight or its socket
// operation can be cancelled, else once the operation's packet is back (a
// regular file's read cannot be cancelled; it is short). cut closes it now
// even with a file read in flight (force, or a read past its deadline): the
// read's buffer is left to it, not reused, and its packet, if one comes,
// finds the slot gone.
func (c *conn) abort() { c.stop(false) }

func (c *conn) cut() { c.stop(true) }

func (c *conn) stop(now bool) {
	switch c.op {
	case opNone:
		if !c.dying {
			c.dying = true // a continue may be queued; it finds the slot gone
		}
		c.close()
	case opRead, opWrite:
		cb := &c.rcb
		if c.op == opWrite {
			cb = &c.wcb
		}
		if r, _ := submit.Cancel(c.fd, cb); r == submit.Canceled {
			c.op = opNone
			c.close()
			return
		}
		c.dying = true
	case opFile:
		c.dying = true
		if now {
			c.resp.buf = nil // the kernel may still fill it
			c.op = opNone
			c.close()
		}
	}
}

// close releases the connection: its file, its buffers, its socket.
func (c *conn) close() {
	if c.w.conns[c.slot] != c {
		return
	}
	if c.resp.status != 0 {
		c.finish()
	}
	c.w.release(c)
}
