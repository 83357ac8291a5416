//go:build linux

package httpd

import (
	"strconv"

	"github.com/goiocp/goiocp/internal/sys"
	"time"
)

// logLine appends the response's line to the worker's access log: the
// Common Log Format, then the time taken in microseconds.
//
//	127.0.0.1:51234 - - [01/Dec/2026:21:04:05 +0000] "GET /a.txt HTTP/1.1" 200 4096 87
func (c *conn) logLine() {
	r := &c.resp
	if c.peer == "" {
		c.peer = sys.Peer(c.fd)
	}
	var b [256]byte
	l := b[:0]
	l = append(l, c.peer...)
	l = append(l, " - - ["...)
	l = r.start.UTC().AppendFormat(l, "02/Jan/2006:15:04:05 -0700")
	l = append(l, "] \""...)
	l = append(l, r.method...)
	l = append(l, ' ')
	// The target is the client's: quoted the Go way, so that no byte of
	// it can forge a line or a field.
	q := strconv.AppendQuote(l, r.target)
	l = append(q[:len(l)], q[len(l)+1:len(q)-1]...)
	l = append(l, ' ')
	l = append(l, r.proto...)
	l = append(l, "\" "...)
	l = strconv.AppendInt(l, int64(r.status), 10)
	l = append(l, ' ')
	l = strconv.AppendInt(l, r.bytes, 10)
	l = append(l, ' ')
	l = strconv.AppendInt(l, int64(c.w.now.Sub(r.start)/time.Microsecond), 10)
	l = append(l, '\n')
	if c.w.log.Available() < len(l) {
		c.w.log.Flush() // a line is never split between two writes
	}
	c.w.log.Write(l)
}
