//go:build linux

package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
)

// The socket benchmark: Conns loopback TCP connections, each a client
// goroutine (net.Conn, the same for every engine) that writes a message of
// Size bytes and waits for its echo, again and again. The echo server is
// the engine under test:
//
//   - "ports": GOMAXPROCS worker goroutines, each owning a port with its
//     share of the connections associated under their index; each worker
//     runs one loop over GetQueuedCompletionStatusEx and answers with
//     Port.ReadFile/WriteFile, which complete at once when they can;
//   - "ports-uring": the same on io_uring ports;
//   - "netconn": a goroutine per connection reading and writing its
//     net.Conn, as Go servers are written.

// SocketEngines are the echo servers RunSockets knows ("ports-uring" only
// where io_uring is usable).
var SocketEngines = withURing([]string{"ports", "netconn"}, "ports", "ports-uring")

// withURing returns names with uring inserted after after, when this
// kernel lets ports run on io_uring.
func withURing(names []string, after, uring string) []string {
	if !slices.Contains(port.Engines(), port.EngineIOURing) {
		return names
	}
	i := slices.Index(names, after) + 1
	return slices.Insert(names, i, uring)
}

// SocketConfig is one cell of the socket benchmark.
type SocketConfig struct {
	Engine   string
	Conns    int
	Size     int           // message bytes
	Duration time.Duration // run time; 0: until Messages
	Messages int64         // with Duration 0, the round trips to make in all
}

// SocketResult is what one run measured.
type SocketResult struct {
	SocketConfig
	RoundTrips int64
	PerSec     float64       // round trips per second
	P50, P99   time.Duration // round-trip latency seen by the clients
	CPUPerMsg  time.Duration // process CPU (user+system) per round trip
	Threads    int           // the most OS threads seen during the run
	PerWake    float64       // ports: packets per wait that returned packets (Port.Stats)
	AtOnce     float64       // ports: share of ReadFile/WriteFile calls done at once
}

// RunSockets runs one cell.
func RunSockets(cfg SocketConfig) (SocketResult, error) {
	res := SocketResult{SocketConfig: cfg}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	defer ln.Close()
	clients := make([]net.Conn, 0, cfg.Conns)
	servers := make([]net.Conn, 0, cfg.Conns)
	defer func() {
		for _, c := range append(clients, servers...) {
			c.Close()
		}
	}()
	for range cfg.Conns {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return res, err
		}
		s, err := ln.Accept()
		if err != nil {
			c.Close()
			return res, err
		}
		c.(*net.TCPConn).SetNoDelay(true)
		s.(*net.TCPConn).SetNoDelay(true)
		clients, servers = append(clients, c), append(servers, s)
	}

	var srv echoServer
	switch cfg.Engine {
	case "ports":
		srv, err = newPortsEcho(servers, cfg.Size, port.EngineAIO)
	case "ports-uring":
		srv, err = newPortsEcho(servers, cfg.Size, port.EngineIOURing)
	case "netconn":
		srv = newConnEcho(servers, cfg.Size)
	default:
		err = fmt.Errorf("socket engine %q: want one of %s", cfg.Engine, strings.Join(SocketEngines, ", "))
	}
	if err != nil {
		return res, err
	}

	var stop atomic.Bool
	var left atomic.Int64
	left.Store(cfg.Messages)
	hists := make([]Histogram, cfg.Conns)
	var wg sync.WaitGroup
	peakThreads := sampleThreads(20 * time.Millisecond)
	cpu0 := processCPU()
	start := time.Now()
	var clientErr atomic.Pointer[error]
	for i, c := range clients {
		wg.Go(func() {
			msg := make([]byte, cfg.Size)
			back := make([]byte, cfg.Size)
			h := &hists[i]
			for !stop.Load() {
				if cfg.Duration == 0 && left.Add(-1) < 0 {
					return
				}
				t0 := time.Now()
				if _, err := c.Write(msg); err != nil {
					clientErr.CompareAndSwap(nil, &err)
					return
				}
				if _, err := io.ReadFull(c, back); err != nil {
					clientErr.CompareAndSwap(nil, &err)
					return
				}
				h.Record(time.Since(t0))
			}
		})
	}
	if cfg.Duration > 0 {
		time.Sleep(cfg.Duration)
		stop.Store(true)
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	threads := peakThreads()
	if pe, ok := srv.(*portsEcho); ok {
		var st port.Stats
		for _, p := range pe.ports {
			s := p.Stats()
			st.Dequeued += s.Dequeued
			st.Wakeups += s.Wakeups
			st.AtOnce += s.AtOnce
			st.Submitted += s.Submitted
		}
		if st.Wakeups > 0 {
			res.PerWake = float64(st.Dequeued) / float64(st.Wakeups)
		}
		if st.Submitted > 0 {
			res.AtOnce = float64(st.AtOnce) / float64(st.Submitted)
		}
	}
	if err := srv.close(); err != nil {
		return res, err
	}
	if p := clientErr.Load(); p != nil {
		return res, fmt.Errorf("client: %w", *p)
	}
	var all Histogram
	for i := range hists {
		all.Merge(&hists[i])
	}
	res.RoundTrips = all.Count()
	res.PerSec = float64(res.RoundTrips) / elapsed.Seconds()
	res.P50, res.P99 = all.Quantile(0.50), all.Quantile(0.99)
	if res.RoundTrips > 0 {
		res.CPUPerMsg = cpu / time.Duration(res.RoundTrips)
	}
	res.Threads = threads
	return res, nil
}

// echoServer answers every message with itself until closed.
type echoServer interface{ close() error }

// connEcho is the goroutine-per-connection server. Its goroutines end when
// RunSockets closes their connections.
type connEcho struct{}

func newConnEcho(conns []net.Conn, size int) *connEcho {
	for _, c := range conns {
		go func() {
			buf := make([]byte, size)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
	}
	return &connEcho{}
}

func (e *connEcho) close() error { return nil }

// portsEcho is the completion-port server.
type portsEcho struct {
	ports []*port.Port
	files []*os.File
	wg    sync.WaitGroup
}

// sockConn is one connection as a ports worker sees it.
type sockConn struct {
	fd     int
	buf    []byte
	rd, wr aiocb.AIOCB // the overlapped structures of its read and write
}

func newPortsEcho(conns []net.Conn, size int, eng port.Engine) (*portsEcho, error) {
	e := &portsEcho{}
	workers := runtime.GOMAXPROCS(0)
	per := make([][]*sockConn, workers)
	for i, c := range conns {
		f, err := c.(*net.TCPConn).File()
		if err != nil {
			e.close()
			return nil, err
		}
		e.files = append(e.files, f)
		w := i % workers
		per[w] = append(per[w], &sockConn{fd: int(f.Fd()), buf: make([]byte, size)})
	}
	for w := range workers {
		p, err := port.New(port.WithDepth(2*len(per[w])+8), port.WithEngine(eng))
		if err != nil {
			e.close()
			return nil, err
		}
		e.ports = append(e.ports, p)
		for i, sc := range per[w] {
			if err := p.Associate(sc.fd, uintptr(i)); err != nil {
				e.close()
				return nil, err
			}
		}
		e.wg.Go(func() { portsWorker(p, per[w]) })
	}
	return e, nil
}

// portsWorker is one worker's loop: a read on every connection, and for
// each packet the next step of that connection's echo.
func portsWorker(p *port.Port, conns []*sockConn) {
	inProgress := func(err error) bool { return errors.Is(err, syscall.EINPROGRESS) }
	// echo carries a connection's echo as far as it goes at once: it
	// writes back the n bytes just read (none: it reads first), reads the
	// next message, and so on, until a call must wait (true) or the
	// connection is done (false).
	echo := func(sc *sockConn, n int) bool {
		for {
			if n == 0 {
				m, err := p.ReadFile(sc.fd, sc.buf, &sc.rd)
				switch {
				case inProgress(err):
					return true
				case err != nil || m == 0:
					return false
				}
				n = m
			}
			m, err := p.WriteFile(sc.fd, sc.buf[:n], &sc.wr)
			switch {
			case inProgress(err):
				return true
			case err != nil || m != n:
				return false
			}
			n = 0
		}
	}
	live := 0
	for _, sc := range conns {
		if echo(sc, 0) {
			live++
		}
	}
	pkts := make([]completion.Packet, 64)
	for live > 0 {
		n, err := p.GetQueuedCompletionStatusEx(pkts, port.Infinite)
		if err != nil {
			return // closed
		}
		for _, pkt := range pkts[:n] {
			sc := conns[pkt.Key]
			ok := pkt.Err == nil
			switch {
			case !ok:
			case pkt.CB == &sc.rd:
				ok = pkt.Bytes > 0 && echo(sc, pkt.Bytes)
			default:
				ok = echo(sc, 0)
			}
			if !ok {
				live--
			}
		}
	}
}

func (e *portsEcho) close() error {
	var first error
	for _, p := range e.ports {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
	}
	e.wg.Wait()
	for _, f := range e.files {
		f.Close()
	}
	return first
}

// processCPU returns the user and system CPU time the process used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
