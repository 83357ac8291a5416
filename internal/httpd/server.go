//go:build linux

package httpd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goiocp/goiocp/internal/sys"
	"github.com/goiocp/goiocp/port"
)

// Server is a running iocphttpd: its listening socket, its root and its
// workers.
type Server struct {
	cfg    Config
	rootfd int
	lfd    int
	addr   netip.AddrPort
	w      []*worker
	live   atomic.Int64 // connections open, all workers
	wg     sync.WaitGroup
	closed atomic.Bool
}

// Start listens on cfg.Addr and starts the workers.
func Start(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ap, err := resolve(cfg.Addr)
	if err != nil {
		return nil, err
	}
	rootfd, err := sys.OpenDir(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", cfg.Root, err)
	}
	s := &Server{cfg: cfg, rootfd: rootfd, lfd: -1}
	s.lfd, s.addr, err = sys.Listen(ap, 4096, cfg.AcceptGoroutine)
	if err != nil {
		sys.CloseFd(rootfd)
		return nil, fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	// Each worker may end up owning every connection of its share and
	// some more (the least loaded takes the next one): two requests per
	// connection are its socket's and its file's.
	share := (cfg.MaxConns+cfg.Workers-1)/cfg.Workers + 64
	for i := range cfg.Workers {
		p, err := port.New(port.WithDepth(2*share + 16))
		if err != nil {
			s.abort()
			return nil, fmt.Errorf("worker %d: %w", i, err)
		}
		s.w = append(s.w, newWorker(s, i, p))
	}
	if !cfg.AcceptGoroutine {
		if err := s.w[0].listen(s.lfd); err != nil {
			s.abort()
			return nil, err
		}
	}
	for _, w := range s.w {
		s.wg.Go(w.loop)
	}
	if cfg.AcceptGoroutine {
		s.wg.Go(s.acceptLoop)
	}
	return s, nil
}

// acceptLoop is the acceptor goroutine of Config.AcceptGoroutine: a
// blocking accept(2) per connection, each handed to a worker as the OpPoll
// acceptor hands them. Shutdown ends it with ShutdownRead.
func (s *Server) acceptLoop() {
	for {
		fd, _, err := sys.Accept(s.lfd)
		switch {
		case s.closed.Load():
			if err == nil {
				sys.CloseFd(fd)
			}
			return // Shutdown closes the listener once this is gone
		case err != nil:
			time.Sleep(100 * time.Millisecond) // out of fds: wait for some to close
		default:
			s.route(fd)
		}
	}
}

func resolve(addr string) (netip.AddrPort, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap := ta.AddrPort()
	if !ap.Addr().IsValid() {
		ap = netip.AddrPortFrom(netip.IPv4Unspecified(), ap.Port())
	}
	return ap, nil
}

// abort undoes a Start that failed half way.
func (s *Server) abort() {
	for _, w := range s.w {
		w.port.Close()
	}
	if s.lfd >= 0 {
		sys.CloseFd(s.lfd)
	}
	sys.CloseFd(s.rootfd)
}

// Addr is the address the server listens on.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Conns is the number of connections open now.
func (s *Server) Conns() int { return int(s.live.Load()) }

// Stats returns each worker's port statistics.
func (s *Server) Stats() []port.Stats {
	st := make([]port.Stats, len(s.w))
	for i, w := range s.w {
		st[i] = w.port.Stats()
	}
	return st
}

// Shutdown shuts the server down gracefully: it stops accepting, closes the
// connections waiting for a request, lets every request in flight finish
// (its response says Connection: close), then closes the ports and the
// root. If ctx ends first, the connections still open are cut and
// Shutdown returns ctx's error once the workers are gone.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) {
		return errors.New("httpd: server already shut down")
	}
	if s.cfg.AcceptGoroutine {
		sys.ShutdownRead(s.lfd)
	}
	for _, w := range s.w {
		w.post(cmdDrain)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		for _, w := range s.w {
			w.post(cmdForce)
		}
		<-done
	}
	if s.cfg.AcceptGoroutine {
		sys.CloseFd(s.lfd)
	}
	sys.CloseFd(s.rootfd)
	return err
}

// Close cuts every connection and stops the server at once.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Shutdown(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
