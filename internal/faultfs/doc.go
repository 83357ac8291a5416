// Package faultfs is a FUSE file system for tests that injects faults at
// chosen offsets: a request can fail with an errno (EIO), transfer fewer
// bytes than asked (a short read or write), or be delayed, either for a
// fixed time or until the test releases it. It is built on
// github.com/hanwen/go-fuse/v2 and mounted directly (MountOptions
// DirectMount), which needs root and /dev/fuse; Mount skips the test with the
// reason where either is missing.
//
// Files live in memory. Every open is answered with FOPEN_DIRECT_IO, so each
// read and write reaches the handler with its own offset and length instead
// of being served from, or merged in, the page cache; the mount also asks
// the kernel for FUSE_ASYNC_DIO, so that kernel AIO (io_submit) on a file of
// the mount is asynchronous: a delayed read or write is queued to the
// server and io_submit returns at once. Two kernel rules decide what stays
// synchronous even so (fs/fuse/file.c fuse_direct_IO): a write that extends
// the file runs synchronously inside io_submit, and without ASYNC_DIO
// (Options.SyncDIO) every AIO request does. Tests that want requests held in
// flight therefore write within the file's current size.
//
// A mount lives until the test ends: t.Cleanup releases every held request,
// then unmounts (lazily, aborting the connection, if a file is still open)
// and waits for the server's goroutines to exit.
//
// The FS and its Files are safe for concurrent use: the FUSE server calls
// them from many goroutines.
package faultfs
