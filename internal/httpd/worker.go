//go:build linux

package httpd

import (
	"bufio"
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/sys"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"golang.org/x/sys/unix"
)

// pageSize is the alignment of O_DIRECT reads and the room a response
// buffer keeps for its header before the file's bytes.
const pageSize = 4096

// A worker owns a port, a table of connections and the loop that drives
// them. Only its goroutine touches its fields, except those under mu.
type worker struct {
	s    *Server
	id   int
	port *port.Port
	pfd  int

	mu   sync.Mutex   // orders handoffs with the worker's exit
	open bool         // under mu: handoffs may be posted
	load atomic.Int64 // connections owned or handed over and not yet closed

	conns []*conn  // by slot; nil: free
	gens  []uint32 // each slot's generation
	free  []int    // free slots, most recently freed last
	live  int      // connections owned

	lfd       int         // the listening socket, on worker 0; -1 elsewhere or once closed
	acb       aiocb.AIOCB // the OpPoll on it
	accepting bool        // acb is in flight
	pauseTill time.Time   // accept paused (out of fds) until then

	draining, forcing bool

	files        fileCache
	batch, spare []*aiocb.AIOCB // file reads to submit at the end of the turn
	bufs         [][]byte       // free response buffers

	now        time.Time
	nextSweep  time.Time
	sweepEvery time.Duration
	dateSec    int64
	date       []byte

	hr  bytes.Reader // the header block being parsed
	br  *bufio.Reader
	log *bufio.Writer
}

func newWorker(s *Server, id int, p *port.Port) *worker {
	w := &worker{s: s, id: id, port: p, pfd: p.Fd(), open: true, lfd: -1, br: bufio.NewReaderSize(nil, 4096)}
	if s.cfg.Log != nil {
		w.log = bufio.NewWriterSize(s.cfg.Log, 32<<10)
	}
	w.sweepEvery = min(s.cfg.HeaderTimeout, s.cfg.IdleTimeout, lingerTime) / 8
	w.sweepEvery = max(w.sweepEvery, 5*time.Millisecond)
	w.files = fileCache{w: w, valid: s.cfg.FileCache, m: map[string]*openFile{}}
	return w
}

// listen makes the worker the acceptor of the listening socket lfd.
func (w *worker) listen(lfd int) error {
	if err := w.port.Associate(lfd, makeKey(kindListen, 0, 0)); err != nil {
		return err
	}
	w.lfd = lfd
	w.acb = aiocb.AIOCB{Fildes: lfd, Events: unix.POLLIN, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: w.pfd}
	return w.arm()
}

func (w *worker) arm() error {
	if err := submit.Poll(&w.acb); err != nil {
		return err
	}
	w.accepting = true
	return nil
}

// post queues a control packet on the worker's port.
func (w *worker) post(cmd int) { w.port.PostQueuedCompletionStatus(0, controlKey(cmd), nil) }

func (w *worker) loop() {
	pkts := make([]completion.Packet, 256)
	w.now = time.Now()
	w.nextSweep = w.now.Add(w.sweepEvery)
	for {
		n, err := w.port.GetQueuedCompletionStatusEx(pkts, max(time.Until(w.nextSweep), time.Millisecond))
		if err != nil && !errors.Is(err, port.ErrTimeout) {
			break
		}
		w.now = time.Now()
		for i := range pkts[:n] {
			w.dispatch(pkts[i])
			pkts[i] = completion.Packet{}
		}
		w.flush()
		if !w.now.Before(w.nextSweep) {
			w.sweep()
			w.nextSweep = w.now.Add(w.sweepEvery)
		}
		if w.draining && w.live == 0 && !w.accepting && w.exit() {
			break
		}
	}
	if w.log != nil {
		w.log.Flush()
	}
	w.files.closeAll()
	w.port.Close()
}

// exit reports whether the worker may stop: no handoff is on its way to
// it. Once it says yes, none can be.
func (w *worker) exit() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.load.Load() > 0 {
		return false
	}
	w.open = false
	return true
}

func (w *worker) dispatch(pkt completion.Packet) {
	switch keyKind(pkt.Key) {
	case kindControl:
		switch keySlot(pkt.Key) {
		case cmdDrain:
			w.drain()
		case cmdForce:
			w.force()
		case cmdHandoff:
			w.adopt(pkt.Bytes)
		}
	case kindListen:
		w.accepting = false
		w.acceptAll()
	case kindFile:
		// One key for every file: the AIOCB names the connection, which
		// may be gone (cut with its read in flight).
		if c, ok := pkt.CB.Sigevent.Value.(*conn); ok && c.slot < len(w.conns) && w.conns[c.slot] == c {
			c.packet(pkt)
		}
	case kindConn:
		slot := keySlot(pkt.Key)
		if slot >= len(w.conns) || w.conns[slot] == nil || w.gens[slot] != keyGen(pkt.Key) {
			return // about a connection that is gone
		}
		w.conns[slot].packet(pkt)
	}
}

// acceptAll accepts the connections waiting and arms the next OpPoll.
func (w *worker) acceptAll() {
	if w.draining {
		w.closeListener()
		return
	}
	for range 256 {
		fd, _, err := sys.Accept(w.lfd)
		if err == syscall.EAGAIN {
			break
		}
		if err != nil {
			// Out of fds (EMFILE, ENFILE) or memory: the OpPoll would
			// fire again at once, so accepting pauses until a sweep.
			w.pauseTill = w.now.Add(100 * time.Millisecond)
			return
		}
		w.s.route(fd)
	}
	if err := w.arm(); err != nil {
		w.pauseTill = w.now.Add(100 * time.Millisecond)
	}
}

func (w *worker) closeListener() {
	if w.lfd >= 0 && !w.accepting {
		sys.CloseFd(w.lfd)
		w.lfd = -1
	}
}

// route gives a new connection to the least loaded worker, or refuses it
// when the server is full or closing.
func (s *Server) route(fd int) {
	if s.live.Add(1) > int64(s.cfg.MaxConns) || s.closed.Load() {
		s.live.Add(-1)
		refuse(fd)
		return
	}
	t := s.w[0]
	for _, w := range s.w[1:] {
		if w.load.Load() < t.load.Load() {
			t = w
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.open {
		s.live.Add(-1)
		sys.CloseFd(fd)
		return
	}
	t.load.Add(1)
	if err := t.port.PostQueuedCompletionStatus(fd, controlKey(cmdHandoff), nil); err != nil {
		t.load.Add(-1)
		s.live.Add(-1)
		sys.CloseFd(fd)
	}
}

// busy is the response to a connection over the limit.
var busy = []byte("HTTP/1.1 503 Service Unavailable\r\nServer: iocphttpd\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Content-Length: 24\r\nRetry-After: 1\r\nConnection: close\r\n\r\n503 Service Unavailable\n")

// refuse answers a connection over the limit with 503 and closes it. The
// answer fits the empty send buffer of a new socket, so it goes at once.
func refuse(fd int) {
	sys.SendNow(fd, busy)
	sys.ShutdownWrite(fd)
	sys.CloseFd(fd)
}

// adopt makes the connection fd one of the worker's.
func (w *worker) adopt(fd int) {
	if w.draining {
		w.dropConn(fd)
		return
	}
	var slot int
	if n := len(w.free); n > 0 {
		slot, w.free = w.free[n-1], w.free[:n-1]
	} else if len(w.conns) < maxSlots {
		slot = len(w.conns)
		w.conns = append(w.conns, nil)
		w.gens = append(w.gens, 0)
	} else {
		w.dropConn(fd)
		return
	}
	w.gens[slot] = (w.gens[slot] + 1) & genMask
	c := newConn(w, fd, slot, w.gens[slot])
	if err := w.port.Associate(fd, c.key); err != nil {
		w.free = append(w.free, slot)
		w.dropConn(fd)
		return
	}
	w.conns[slot] = c
	w.live++
	c.run(stepParse)
}

// dropConn closes a connection handed to the worker that it does not
// keep.
func (w *worker) dropConn(fd int) {
	sys.CloseFd(fd)
	w.load.Add(-1)
	w.s.live.Add(-1)
}

// release is the end of a connection the worker kept.
func (w *worker) release(c *conn) {
	w.conns[c.slot] = nil
	w.free = append(w.free, c.slot)
	w.live--
	w.dropConn(c.fd)
}

// drain stops accepting and closes the connections that wait for a
// request; the others close once their response is done.
func (w *worker) drain() {
	if w.draining {
		return
	}
	w.draining = true
	if w.accepting {
		if r, _ := submit.Cancel(w.lfd, &w.acb); r == submit.Canceled {
			w.accepting = false
		}
	}
	w.closeListener()
	for _, c := range w.conns {
		if c != nil && c.idle() {
			c.abort()
		}
	}
}

// force cuts every connection.
func (w *worker) force() {
	w.drain()
	w.forcing = true
	for _, c := range w.conns {
		if c != nil {
			c.cut()
		}
	}
}

// sweep cuts the connections whose wait has passed its deadline, and
// resumes accepting after a pause.
func (w *worker) sweep() {
	for _, c := range w.conns {
		if c != nil && c.expired(w.now) {
			c.cut()
		}
	}
	w.files.sweep(w.now)
	if !w.pauseTill.IsZero() && !w.now.Before(w.pauseTill) {
		w.pauseTill = time.Time{}
		if !w.draining && !w.accepting && w.lfd >= 0 {
			w.acceptAll()
		}
	}
}

// read queues a file read for the end of the turn.
func (w *worker) read(cb *aiocb.AIOCB) { w.batch = append(w.batch, cb) }

// flush submits the turn's file reads in one ListIO, and the turn's log
// lines in one write.
func (w *worker) flush() {
	for len(w.batch) > 0 {
		batch := w.batch
		w.batch, w.spare = w.spare[:0], batch
		if err := submit.ListIO(submit.NoWait, batch, nil); err != nil {
			// Entries refused for room (the port is sized so this should
			// not happen) fail their responses; the others are in flight.
			for _, cb := range batch {
				if st := submit.Error(cb); errors.Is(st, syscall.EAGAIN) {
					cb.Sigevent.Value.(*conn).fileRefused()
				}
			}
		}
		clear(batch)
	}
	if w.log != nil && w.log.Buffered() > 0 {
		w.log.Flush()
	}
}

// dateNow is the Date header's value for now, formatted once a second.
func (w *worker) dateNow() []byte {
	if sec := w.now.Unix(); sec != w.dateSec || w.date == nil {
		w.dateSec = sec
		w.date = httpDate(w.date[:0], w.now)
	}
	return w.date
}

// buffer returns a response buffer: a page for the header, then ChunkSize
// bytes for the file, aligned for O_DIRECT.
func (w *worker) buffer() []byte {
	if n := len(w.bufs); n > 0 {
		b := w.bufs[n-1]
		w.bufs = w.bufs[:n-1]
		return b
	}
	return sys.AlignedBuffer(pageSize+w.s.cfg.ChunkSize, pageSize)
}

// putBuffer keeps a response buffer for the next response, up to a few
// per worker beyond those in use.
func (w *worker) putBuffer(b []byte) {
	if len(w.bufs) < 64 {
		w.bufs = append(w.bufs, b)
	}
}
