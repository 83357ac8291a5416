// Command aioexample is the example program of aio(7) rebuilt on goiocp:
// it opens each file named on the command line, queues one 20-byte read on
// each with submit.Read and a SIGUSR1 notification, and monitors them every
// 3 seconds (or at once when a signal arrives) with submit.Error until all
// are final; then it prints submit.Return of each. SIGQUIT cancels the
// requests still outstanding with submit.Cancel.
//
//	aioexample /dev/stdin /dev/stdin
//
// Its output keeps the lines of the original ("opened /dev/stdin on
// descriptor N", "I/O completion signal received", "aio_error():", "In
// progress", "I/O succeeded", "Canceled", "All I/O requests completed",
// "aio_return():"). It differs from glibc in one place: a read still waiting
// on a pipe or terminal is really cancelled ("I/O canceled", then
// "Canceled" and aio_return -1), where glibc's helper thread cannot let go
// of it ("I/O not canceled").
package main
