// Package httpd is iocphttpd's server: an HTTP/1.1 static file server built
// the way AIX and Windows completion-port servers are built, on goiocp's
// ports.
//
// # Shape
//
// Workers (GOMAXPROCS by default) each own one port and one goroutine, and
// nothing else runs per connection: no goroutine, no thread, no timer. A
// worker runs one loop over GetQueuedCompletionStatusEx and tells its
// packets apart by their completion keys:
//
//   - the listening socket (worker 0 only): an OpPoll on it completes when
//     connections wait; the worker accepts them all and hands each to the
//     least loaded worker with PostQueuedCompletionStatus, the fd in Bytes;
//   - a connection's socket, associated under a key naming its slot in the
//     worker's table and a generation: ReadFile and WriteFile packets, the
//     reads of its requests and the writes of its responses;
//   - the files being served, associated under the file key: AIO reads on
//     the same port, whose AIOCB (embedded in the connection) names the
//     connection. The reads a turn of the loop asks for go to the kernel
//     together, in one ListIO;
//   - control packets posted by the server: shut down, force, continue.
//
// ReadFile and WriteFile complete at once when the socket is ready, with no
// packet, so a request whose bytes are waiting and whose response fits in
// the send buffer costs one read, one AIO file read and one write.
//
// # Requests
//
// The worker frames a request's header (up to the blank line, bounded by
// MaxHeaderBytes) and hands the block to net/http.ReadRequest. GET and HEAD
// of regular files under the root are served, with a single Range,
// If-Modified-Since and If-Range (against Last-Modified), keep-alive and
// pipelining; a directory serves its index.html. Every other request gets
// its status (400, 404, 405 with Allow, 413, 416, 431, 500, 503, 505) and a
// short body. A request with a body is answered and the connection closed,
// since the server reads no bodies.
//
// # The root
//
// Paths are checked before the file system sees them (no "." or ".."
// segment, no NUL, no backslash, no encoded slash) and every name is
// opened with openat2(O_PATH, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
// relative to the root directory, so the kernel itself refuses any
// resolution, through ".." or a symbolic link, that would leave the root.
// Only a regular file is then opened for reading (through /proc/self/fd):
// a device node's or FIFO's open never runs.
//
// # Open files
//
// A worker keeps a file it served open for Config.FileCache (1 s by
// default), as nginx's open_file_cache does: the next requests for it in
// that time cost no open, fstat or close. The descriptor names the inode,
// so writes to the file show at once; a file replaced (renamed over) or
// removed may be served as it was for at most that long. At most 512 files
// per worker stay open.
//
// # Bounds
//
// A connection's read buffer grows to at most MaxHeaderBytes; a response
// uses one buffer of ChunkSize bytes (plus a page for its header) while it
// reads its file, taken from the worker's free list; MaxConns bounds the
// connections, and each worker's port holds two requests per connection it
// may own. The header timeout cuts off a client that sends its request too
// slowly, the idle timeout one that neither sends a next request nor reads
// its response; both are checked by a sweep of the worker's table.
package httpd
