//go:build linux

// Command aiocp copies files with kernel native AIO over goiocp's
// completion ports: libaio's aiocp example (io(3)), in Go.
//
// Usage:
//
//	aiocp [flags] SOURCE... DEST
//
// With one SOURCE, DEST is the file to write, or a directory to write
// SOURCE's base name into; with several, DEST must be a directory.
//
// Each file is copied by the example's state machine: aiocp keeps up to
// -depth blocks of -block-size bytes in flight, issuing reads (at most half
// the queue at a time) whose completion callbacks turn them into writes of
// the same block at the same offset, and whose write callbacks free the
// block for the next read.
//
// A regular-file destination is written under a temporary name in its
// directory (".NAME.aiocp-XXXXXX") and renamed over NAME only once the copy
// (and -verify) succeeded, so a partial copy never looks complete; on
// failure the temporary file is removed. A destination that exists and is
// not a regular file (/dev/null, /dev/full, a block device) is written in
// place. The copy gets the source's mode bits (permissions, setuid, setgid,
// sticky).
//
// Flags:
//
//	-block-size SIZE  bytes per request, with an optional k, m or g suffix
//	                  (powers of 1024; default 64k, the example's AIO_BLKSIZE)
//	-depth N          requests in flight (default 32, the example's AIO_MAXIO)
//	-direct           open source and destination with O_DIRECT; SIZE must
//	                  then be a multiple of 4096
//	-verify           compare SHA-256 checksums of source and copy before
//	                  the rename
//	-fsync            fsync the copy (through the queue) before the rename
//	-q                print no progress bar and no summary
//
// A progress bar is drawn on standard error when it is a terminal. A
// one-line summary (files, bytes, time, MB/s; the time covers the whole
// run, -verify and -fsync included) goes to standard output. Errors go
// to standard error, prefixed "aiocp: "; aiocp goes on with the next source
// and exits 1 if any copy failed, 2 on a usage error.
//
// # O_DIRECT and the last block
//
// With -direct every request must be aligned (to 4096 bytes, which covers
// every logical block size Linux uses): buffers come from anonymous mmap
// (page aligned) and offsets are multiples of the block size. The last
// block of a file whose size is not a multiple of 4096 is read as a whole
// aligned block, which the kernel returns short at end of file, and
// written padded with zeros to the next multiple of 4096; the copy is then
// truncated to the source's size. Before the first write, the copy is
// given its padded size: ext4 runs an O_DIRECT write that extends a file
// synchronously inside io_submit, so without it the writes would go one at
// a time. A file system that refuses O_DIRECT gets buffered I/O, with a
// note on standard error.
//
// Without -direct the copy is correct but not truly asynchronous: Linux runs
// buffered AIO reads and writes inside io_submit.
//
// A destination whose driver has no AIO write path (/dev/full, for one:
// io_submit refuses it with EINVAL) is written with plain pwrite, which
// reports its real error (ENOSPC for /dev/full).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // a copy failed
	exitUsage = 2 // bad flags or arguments
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, stop))
}

// run is aiocp with args (without the program name); it returns the exit
// code. A value on stop interrupts the copy, which then fails and leaves
// no temporary file behind.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	fs := flag.NewFlagSet("aiocp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bs := sizeFlag(64 << 10)
	fs.Var(&bs, "block-size", "bytes per request, with an optional k, m or g suffix")
	depth := fs.Int("depth", 32, "requests in flight")
	direct := fs.Bool("direct", false, "use O_DIRECT (block size a multiple of 4096)")
	verify := fs.Bool("verify", false, "compare SHA-256 checksums of source and copy")
	fsync := fs.Bool("fsync", false, "fsync the copy before renaming it into place")
	quiet := fs.Bool("q", false, "no progress bar, no summary")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aiocp [flags] SOURCE... DEST")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return exitUsage
	}
	opt := options{
		blockSize: int(bs),
		depth:     *depth,
		direct:    *direct,
		verify:    *verify,
		fsync:     *fsync,
	}
	if err := opt.check(); err != nil {
		fmt.Fprintf(stderr, "aiocp: %v\n", err)
		return exitUsage
	}
	srcs, dest := fs.Args()[:fs.NArg()-1], fs.Arg(fs.NArg()-1)
	jobs, err := plan(srcs, dest)
	if err != nil {
		fmt.Fprintf(stderr, "aiocp: %v\n", err)
		return exitUsage
	}

	var bar progress = nopProgress{}
	if !*quiet {
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			bar = newBar(f, total(jobs))
		}
	}
	st, err := copyAll(jobs, opt, bar, stop, stderr)
	bar.Finish()
	if !*quiet && st.files > 0 {
		fmt.Fprintln(stdout, st.summary())
	}
	if err != nil {
		return exitFail
	}
	return exitOK
}
