//go:build linux

package httpd

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// Config is what a Server serves and how.
type Config struct {
	Addr           string        // host:port to listen on; port 0 picks one
	Root           string        // the directory served
	Workers        int           // worker goroutines, each owning a port; 0: GOMAXPROCS
	Direct         bool          // open files with O_DIRECT where the file system allows it
	HeaderTimeout  time.Duration // from the first byte of a request (or the connection) to its blank line
	IdleTimeout    time.Duration // a keep-alive connection's wait for its next request; a stalled write's wait
	MaxConns       int           // connections at once; one more is answered 503 and closed
	MaxHeaderBytes int           // request line and header fields, in bytes; more is 431
	ChunkSize      int           // file bytes read and sent per step, a multiple of 4096
	Log            io.Writer     // access log, one line per request, written by every worker: safe for concurrent use; nil: none
	// FileCache is how long a worker keeps a file it served open for
	// the next requests of it (no open, fstat or close for them); a file
	// changed or removed meanwhile may be served as it was for that long.
	// 0: the default (1 s); negative: no cache, every request opens its
	// file.
	FileCache time.Duration
	// AcceptGoroutine accepts connections in a goroutine blocked in
	// accept(2) (one thread) instead of by an OpPoll on worker 0's port.
	AcceptGoroutine bool
}

// Defaults of the zero fields.
const (
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
	DefaultMaxConns       = 4096
	DefaultMaxHeaderBytes = 64 << 10
	DefaultChunkSize      = 64 << 10
	DefaultFileCache      = time.Second
)

// withDefaults fills the zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.Root == "" {
		c.Root = "."
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.HeaderTimeout == 0 {
		c.HeaderTimeout = DefaultHeaderTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	switch {
	case c.FileCache == 0:
		c.FileCache = DefaultFileCache
	case c.FileCache < 0:
		c.FileCache = 0
	}
	switch {
	case c.Workers < 0 || c.Workers > 1024:
		return c, fmt.Errorf("workers %d: want 1 to 1024", c.Workers)
	case c.HeaderTimeout < 0 || c.IdleTimeout < 0:
		return c, fmt.Errorf("timeouts must be positive")
	case c.MaxConns < 0 || c.MaxConns > 1<<20:
		return c, fmt.Errorf("max conns %d: want 1 to %d", c.MaxConns, 1<<20)
	case c.MaxHeaderBytes < 1024 || c.MaxHeaderBytes > 1<<20:
		return c, fmt.Errorf("max header bytes %d: want 1 KiB to 1 MiB", c.MaxHeaderBytes)
	case c.ChunkSize < pageSize || c.ChunkSize%pageSize != 0 || c.ChunkSize > 16<<20:
		return c, fmt.Errorf("chunk size %d: want a multiple of %d up to 16 MiB", c.ChunkSize, pageSize)
	}
	return c, nil
}
