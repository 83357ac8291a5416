//go:build linux

package httpd

import (
	"net/http"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// response is the state of the response a connection is sending.
type response struct {
	status  int
	method  string
	target  string
	proto   string
	start   time.Time
	file    *openFile // the file served, from the worker's cache; nil: none
	buf     []byte    // response buffer while the file is read
	off     int64     // the file's next byte to send
	remain  int64     // file bytes still to send
	skew    int       // of the chunk read last, the bytes before off (O_DIRECT alignment)
	want    int       // of the chunk read last, the bytes wanted
	headOut bool      // the header has been written
	bytes   int64     // body bytes written, for the log
}

// serve answers the request whose header block is b.
func (c *conn) serve(b []byte) step {
	w := c.w
	w.hr.Reset(b)
	w.br.Reset(&w.hr)
	req, err := http.ReadRequest(w.br)
	c.resp = newResponse(w.now)
	if err != nil {
		return c.refuse(http.StatusBadRequest)
	}
	c.resp.method, c.resp.target, c.resp.proto = req.Method, req.RequestURI, req.Proto
	c.closeAfter = req.Close || w.draining
	c.keepAlive10 = req.ProtoMinor == 0 && !req.Close
	switch {
	case req.ProtoMajor != 1:
		return c.refuse(http.StatusHTTPVersionNotSupported)
	case req.ProtoMinor >= 1 && req.Host == "":
		return c.refuse(http.StatusBadRequest)
	case req.Method != http.MethodGet && req.Method != http.MethodHead:
		if req.ContentLength != 0 {
			c.closeAfter = true // its body is not read
		}
		return c.status(http.StatusMethodNotAllowed, "Allow", "GET, HEAD")
	case req.ContentLength != 0:
		// GET and HEAD carry no body here; the connection closes
		// rather than read one.
		return c.refuse(http.StatusRequestEntityTooLarge)
	}
	rel, isDir, bad := target(req)
	if bad != 0 {
		return c.refuse(bad)
	}
	files := &w.files
	f, code := files.get(rel)
	if code == 0 && f.info.Dir {
		files.put(f)
		if !isDir {
			// One leading slash: "//host/dir" must not become a
			// redirect to another host.
			loc := "/" + strings.TrimLeft(req.URL.EscapedPath(), "/") + "/"
			if req.URL.RawQuery != "" {
				loc += "?" + req.URL.RawQuery
			}
			return c.status(http.StatusMovedPermanently, "Location", loc)
		}
		rel = path.Join(rel, "index.html")
		f, code = files.get(rel)
		if code == 0 && !f.info.Reg {
			files.put(f)
			code = http.StatusNotFound
		}
	}
	if code != 0 {
		return c.status(code, "", "")
	}
	c.resp.file = f
	return c.file(req, f)
}

// file answers a GET or HEAD of an open regular file: the header now,
// the body by file reads.
func (c *conn) file(req *http.Request, f *openFile) step {
	info := f.info
	w := c.w
	mtime := time.Unix(info.Mtime, 0)
	if ims := req.Header.Get("If-Modified-Since"); ims != "" && req.Header.Get("If-None-Match") == "" {
		if t, err := http.ParseTime(ims); err == nil && !mtime.After(t) {
			c.resp.status = http.StatusNotModified
			c.hd.status(w.dateNow(), http.StatusNotModified)
			c.hd.field("Last-Modified", f.lastMod)
			c.hd.end(c.closeAfter, c.keepAlive10)
			c.out = c.hd.b
			return stepSend
		}
	}
	code, r := http.StatusOK, byteRange{0, info.Size}
	if h := req.Header.Get("Range"); h != "" && c.ifRange(req, mtime) {
		rr, outcome := parseRange(h, info.Size)
		switch outcome {
		case rangeOK:
			code, r = http.StatusPartialContent, rr
		case rangeUnsat:
			c.resp.status = http.StatusRequestedRangeNotSatisfiable
			body := errorBody(c.resp.status)
			c.hd.status(w.dateNow(), c.resp.status)
			c.hd.b = append(c.hd.b, "Content-Range: bytes */"...)
			c.hd.b = strconv.AppendInt(c.hd.b, info.Size, 10)
			c.hd.b = append(c.hd.b, "\r\n"...)
			return c.short(body, req.Method == http.MethodHead)
		}
	}
	c.resp.status = code
	c.hd.status(w.dateNow(), code)
	c.hd.field("Content-Type", f.ctype)
	c.hd.int("Content-Length", r.length)
	c.hd.field("Last-Modified", f.lastMod)
	c.hd.field("Accept-Ranges", "bytes")
	if code == http.StatusPartialContent {
		c.hd.contentRange(r, info.Size)
	}
	c.hd.end(c.closeAfter, c.keepAlive10)
	if req.Method == http.MethodHead || r.length == 0 {
		c.out = c.hd.b
		return stepSend
	}
	c.resp.off, c.resp.remain = r.start, r.length
	c.resp.buf = w.buffer()
	return stepFile
}

// ifRange reports whether a Range is to be honoured: there is no If-Range,
// or it names the file's Last-Modified (the server has no entity tags).
func (c *conn) ifRange(req *http.Request, mtime time.Time) bool {
	v := req.Header.Get("If-Range")
	if v == "" {
		return true
	}
	t, err := http.ParseTime(v)
	return err == nil && t.Equal(mtime)
}

// readFile asks for the file's next chunk: the rest of the range, up to
// ChunkSize bytes, aligned for O_DIRECT when the file is.
func (c *conn) readFile() step {
	r := &c.resp
	chunk := int64(c.w.s.cfg.ChunkSize)
	start, skew := r.off, int64(0)
	direct := r.file.direct
	if direct {
		start = r.off &^ (pageSize - 1)
		skew = r.off - start
	}
	want := min(r.remain, chunk-skew)
	n := skew + want
	if direct {
		n = (n + pageSize - 1) &^ (pageSize - 1)
	}
	r.skew, r.want = int(skew), int(want)
	c.fcb.Fildes = r.file.fd
	c.fcb.Offset = start
	c.fcb.Buf = r.buf[pageSize : pageSize+int(n)]
	c.op = opFile
	c.deadline = c.w.now.Add(fileTimeout)
	c.w.read(&c.fcb)
	return stepWait
}

// fileRead goes on after a file read of n bytes.
func (c *conn) fileRead(n int, err error) step {
	r := &c.resp
	got := min(n-r.skew, r.want)
	if err != nil || got <= 0 {
		// A read error, or the file shrank under the response: before the
		// header is out it is a 500, after it the connection is cut.
		if r.headOut {
			return stepClose
		}
		c.releaseFile()
		r.remain = 0
		c.closeAfter = true
		return c.status(http.StatusInternalServerError, "", "")
	}
	at := pageSize + r.skew
	if r.headOut {
		c.out = r.buf[at : at+got]
	} else {
		r.headOut = true
		h := copy(r.buf[at-len(c.hd.b):], c.hd.b)
		c.out = r.buf[at-h : at+got]
	}
	r.off += int64(got)
	r.remain -= int64(got)
	r.bytes += int64(got)
	return stepSend
}

// fileRefused fails a file read its ListIO could not start.
func (c *conn) fileRefused() {
	c.op = opNone
	if c.dying {
		c.close()
		return
	}
	c.run(c.fileRead(0, syscall.EAGAIN))
}

// status answers with code and a short body, with one more header field
// if name is not empty. The connection stays open unless closeAfter.
func (c *conn) status(code int, name, value string) step {
	c.resp.status = code
	c.hd.status(c.w.dateNow(), code)
	if name != "" {
		c.hd.field(name, value)
	}
	return c.short(errorBody(code), c.resp.method == http.MethodHead)
}

// refuse answers with code and closes the connection: what follows in the
// stream cannot be trusted to be a request.
func (c *conn) refuse(code int) step {
	c.closeAfter = true
	return c.status(code, "", "")
}

// newResponse is the state of a response to a request not yet parsed.
func newResponse(now time.Time) response {
	return response{start: now, method: "-", target: "-", proto: "-"}
}

// short ends a header for a short text body and queues both.
func (c *conn) short(body string, head bool) step {
	c.hd.field("Content-Type", "text/plain; charset=utf-8")
	c.hd.field("X-Content-Type-Options", "nosniff")
	c.hd.int("Content-Length", int64(len(body)))
	c.hd.end(c.closeAfter, c.keepAlive10)
	if !head {
		c.hd.b = append(c.hd.b, body...)
		c.resp.bytes = int64(len(body))
	}
	c.out = c.hd.b
	return stepSend
}

// releaseFile gives the response's file and buffer back.
func (c *conn) releaseFile() {
	if c.resp.file != nil {
		c.w.files.put(c.resp.file)
		c.resp.file = nil
	}
	if c.resp.buf != nil {
		c.w.putBuffer(c.resp.buf)
		c.resp.buf = nil
	}
}

// finish ends the response: its file, its buffer, its log line.
func (c *conn) finish() {
	c.releaseFile()
	if c.w.log != nil {
		c.logLine()
	}
	c.resp.status = 0
}
