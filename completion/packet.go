package completion

import "github.com/goiocp/goiocp/aiocb"

// Packet is one completion: of an I/O request associated with a port, or
// posted with PostQueuedCompletionStatus.
type Packet struct {
	Key   uintptr      // CompletionKey of the file's association with this port (or the posted key)
	Bytes int          // bytes transferred (0 for fsync, short on EOF)
	CB    *aiocb.AIOCB // the request (LPOVERLAPPED); whatever was posted for posted packets
	Err   error        // nil, or the request's errno (errors.Is(pkt.Err, syscall.EIO) ...)
}
