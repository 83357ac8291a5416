//go:build linux

// Command iocphttpd is an HTTP/1.1 static file server built on goiocp's
// completion ports: one port and one goroutine per worker, no goroutine or
// thread per connection, file reads as AIO on the worker's port.
//
//	iocphttpd [-addr 127.0.0.1:8080] [-root DIR] [-workers N] [-direct]
//	          [-header-timeout 10s] [-idle-timeout 60s] [-max-conns N]
//	          [-max-header-bytes 64KiB] [-file-cache 1s] [-accept poll]
//	          [-log] [-stats]
//
// It serves GET and HEAD of the regular files under DIR (index.html for a
// directory), with single ranges, If-Modified-Since, keep-alive and
// pipelining, and never anything outside DIR. SIGINT or SIGTERM shuts it
// down gracefully: it stops accepting, finishes the requests in flight,
// and exits 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/internal/httpd"
	"github.com/goiocp/goiocp/port"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("iocphttpd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg httpd.Config
	headerBytes := sizeFlag(httpd.DefaultMaxHeaderBytes)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "`host:port` to listen on (port 0: any free port)")
	fs.StringVar(&cfg.Root, "root", ".", "the `directory` to serve")
	fs.IntVar(&cfg.Workers, "workers", 0, "worker goroutines, one port each (0: GOMAXPROCS)")
	fs.BoolVar(&cfg.Direct, "direct", false, "read files with O_DIRECT where the file system allows it")
	fs.DurationVar(&cfg.HeaderTimeout, "header-timeout", httpd.DefaultHeaderTimeout, "time a client has to send a request's header")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", httpd.DefaultIdleTimeout, "time a keep-alive connection may wait for its next request, or a response for its client to read")
	fs.IntVar(&cfg.MaxConns, "max-conns", httpd.DefaultMaxConns, "connections at once; more are answered 503")
	fs.Var(&headerBytes, "max-header-bytes", "request header `size` (bytes, or with KiB/MiB); more is 431")
	fs.DurationVar(&cfg.FileCache, "file-cache", httpd.DefaultFileCache, "how long a worker keeps a served file open for its next requests (a file replaced or removed may be served as it was for that long); 0: none")
	accept := fs.String("accept", "poll", "how connections are accepted: poll (an OpPoll on the listening socket, on worker 0's port) or goroutine (a goroutine blocked in accept)")
	accessLog := fs.Bool("log", false, "write an access log line per request to stdout")
	stats := fs.Bool("stats", false, "print the ports' statistics to stderr every few seconds")
	statsEvery := fs.Duration("stats-every", 5*time.Second, "how often -stats prints")
	grace := fs.Duration("shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, how long requests in flight may take before they are cut")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "iocphttpd: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg.MaxHeaderBytes = int(headerBytes)
	if cfg.FileCache == 0 {
		cfg.FileCache = -1 // the flag's 0 is "none"; Config's 0 is the default
	}
	if *stats && *statsEvery <= 0 {
		fmt.Fprintln(stderr, "iocphttpd: -stats-every must be positive")
		return 2
	}
	switch *accept {
	case "poll":
	case "goroutine":
		cfg.AcceptGoroutine = true
	default:
		fmt.Fprintf(stderr, "iocphttpd: -accept %q: want poll or goroutine\n", *accept)
		return 2
	}
	if *accessLog {
		cfg.Log = stdout
	}
	srv, err := httpd.Start(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "iocphttpd: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "iocphttpd: serving %s on http://%s\n", cfg.Root, srv.Addr())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	var tick <-chan time.Time
	if *stats {
		t := time.NewTicker(*statsEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-tick:
			printStats(stderr, srv)
		case sig := <-sigs:
			fmt.Fprintf(stderr, "iocphttpd: %v: shutting down, %d connections open\n", sig, srv.Conns())
			ctx, cancel := context.WithTimeout(context.Background(), *grace)
			err := srv.Shutdown(ctx)
			cancel()
			if err != nil {
				fmt.Fprintf(stderr, "iocphttpd: shutdown: %v (connections cut)\n", err)
				return 1
			}
			fmt.Fprintln(stderr, "iocphttpd: shut down")
			return 0
		}
	}
}

// printStats prints one line per worker's port.
func printStats(w io.Writer, srv *httpd.Server) {
	var sum port.Stats
	for i, s := range srv.Stats() {
		fmt.Fprintf(w, "iocphttpd: worker %d: %s\n", i, statsLine(s))
		sum.Submitted += s.Submitted
		sum.Completed += s.Completed
		sum.Dequeued += s.Dequeued
		sum.Wakeups += s.Wakeups
		sum.AtOnce += s.AtOnce
		sum.InFlight += s.InFlight
	}
	fmt.Fprintf(w, "iocphttpd: %d connections; all: %s\n", srv.Conns(), statsLine(sum))
}

func statsLine(s port.Stats) string {
	perWake := 0.0
	if s.Wakeups > 0 {
		perWake = float64(s.Dequeued) / float64(s.Wakeups)
	}
	return fmt.Sprintf("submitted %d, at once %d, packets %d, per wake-up %.1f, in flight %d",
		s.Submitted, s.AtOnce, s.Dequeued, perWake, s.InFlight)
}

// sizeFlag is a byte count given as 65536, 64KiB or 1MiB.
type sizeFlag int

func (s *sizeFlag) String() string { return strconv.Itoa(int(*s)) }

func (s *sizeFlag) Set(v string) error {
	mult := 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"K", 1 << 10}, {"M", 1 << 20}} {
		if t, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = t, u.mult
			break
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > (1<<30)/mult {
		return fmt.Errorf("want a positive size such as 65536 or 64KiB")
	}
	*s = sizeFlag(n * mult)
	return nil
}
