// Package completion defines the completion packet, the unit a port queues
// and its waiters dequeue: Windows' OVERLAPPED_ENTRY, AIX's struct gmcs.
//
// A packet is made for every request that names a port (aiocb.AIOCB.IOCPFD)
// when the kernel finishes it, unless the request was cancelled or the port
// closed first, and for every PostQueuedCompletionStatus. A failed I/O is
// still a packet: its Err carries the request's errno, and Bytes is 0.
package completion
