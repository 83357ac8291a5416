//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/libaio"
)

// errInterrupted fails a copy stopped by a signal.
var errInterrupted = errors.New("interrupted")

// block is one buffer of the state machine and the AIOCB that moves it:
// read into buf, then written from it, then free again.
type block struct {
	cb   aiocb.AIOCB
	buf  []byte // blockSize bytes, page aligned
	off  int64  // the block's offset in both files
	want int    // bytes of the file in the block
	wlen int    // bytes written: want, padded to align under O_DIRECT

	rdFn, wrFn libaio.Callback // rdDone and wrDone bound to the block
}

// copier runs the example's read-then-write state machine, one file at a
// time, on one queue and one set of blocks. It is used by one goroutine:
// callbacks run inside its calls to Run and Wait.
type copier struct {
	q      *libaio.Queue
	bufs   *buffers
	blocks []*block
	free   []*block
	batch  []*aiocb.AIOCB
	bs     int
	depth  int
	bar    progress
	note   func(string)

	// The file being copied.
	src       string
	srcFd     int
	srcDirect bool
	out       *output
	dstFd     int
	syncWrite bool // the destination refused AIO writes: pwrite instead
	size      int64
	offset    int64 // of the next read
	busy      int   // blocks in flight (libaio aiocp's busy)
	left      int   // blocks not yet written (tocopy)
	done      int64 // bytes written
	err       error // the first failure; no new request starts after it
}

// newCopier makes the queue and the blocks.
func newCopier(opt options, bar progress, note func(string)) (*copier, error) {
	q, err := libaio.QueueInit(opt.depth)
	if err != nil {
		return nil, err
	}
	bufs, err := newBuffers(opt.depth, opt.blockSize)
	if err != nil {
		q.Release()
		return nil, err
	}
	c := &copier{q: q, bufs: bufs, bs: opt.blockSize, depth: opt.depth, bar: bar, note: note}
	for i := range opt.depth {
		b := &block{buf: bufs.block(i)}
		b.rdFn = func(_ *aiocb.AIOCB, res int, err error) { c.rdDone(b, res, err) }
		b.wrFn = func(_ *aiocb.AIOCB, res int, err error) { c.wrDone(b, res, err) }
		c.blocks = append(c.blocks, b)
	}
	return c, nil
}

// close releases the queue, then the buffers the kernel no longer touches.
func (c *copier) close() error {
	err := c.q.Release()
	if e := c.bufs.free(); err == nil {
		err = e
	}
	return err
}

// copyFile copies j.src to j.dest and returns the bytes copied.
func (c *copier) copyFile(j job, opt options, stop <-chan os.Signal) (int64, error) {
	src, st, err := c.openSource(j.src, opt.direct)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	out, err := openOutput(j.dest, st, opt.direct, c.note)
	if err != nil {
		return 0, err
	}
	if opt.verify && !out.regular() {
		out.abort()
		return 0, fmt.Errorf("verify %s: not a regular file", j.dest)
	}
	c.src, c.srcFd, c.out, c.dstFd = j.src, int(src.Fd()), out, int(out.f.Fd())
	c.size, c.offset, c.done, c.err, c.syncWrite = st.Size(), 0, 0, nil, false
	c.left = int((c.size + int64(c.bs) - 1) / int64(c.bs))
	c.free = append(c.free[:0], c.blocks...)

	if out.direct && c.size > 0 {
		// Set the size first: ext4 runs an O_DIRECT write that extends the
		// file synchronously inside io_submit, one at a time; writes below
		// the size run in parallel. The padding goes with the last Truncate.
		if err := out.f.Truncate(roundUp64(c.size)); err != nil {
			out.abort()
			return 0, err
		}
	}
	c.machine(stop)
	if c.err == nil && out.regular() {
		if err := out.f.Truncate(c.size); err != nil { // O_DIRECT's padding
			c.fail(err)
		}
	}
	if c.err == nil && opt.fsync {
		c.sync()
	}
	if c.err == nil && opt.verify {
		c.fail(verify(j.src, out.path()))
	}
	if c.err != nil {
		out.abort()
		return c.done, c.err
	}
	if err := out.commit(st.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)); err != nil {
		return c.done, err
	}
	return c.done, nil
}

// openSource opens a regular file for reading, with O_DIRECT when asked
// and the file system allows.
func (c *copier) openSource(name string, direct bool) (*os.File, os.FileInfo, error) {
	flag := os.O_RDONLY
	if direct {
		flag |= syscall.O_DIRECT
	}
	f, err := os.OpenFile(name, flag, 0)
	if direct && errors.Is(err, syscall.EINVAL) {
		c.note(fmt.Sprintf("%s: O_DIRECT not supported here, reading buffered", name))
		flag, direct = os.O_RDONLY, false
		f, err = os.OpenFile(name, flag, 0)
	}
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, nil, &os.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: not a regular file", name)
	}
	c.srcDirect = direct
	return f, st, nil
}

// machine is the example's main loop: start reads, up to half the queue
// at a time, run the callbacks of what completed, and wait for one
// completion when the queue is full or nothing more can start. Unlike the
// example it never spins, and after a failure it lets every request in
// flight finish before returning.
func (c *copier) machine(stop <-chan os.Signal) {
	for c.left > 0 && c.err == nil {
		select {
		case <-stop:
			c.fail(errInterrupted)
			continue
		default:
		}
		unstarted := int((c.size - c.offset + int64(c.bs) - 1) / int64(c.bs))
		n := min(c.depth-c.busy, max(c.depth/2, 1), unstarted)
		if n > 0 {
			c.startReads(n)
		}
		if _, err := c.q.Run(); err != nil {
			c.fail(err)
			break
		}
		if c.left > 0 && c.busy > 0 && (c.busy == c.depth || n == 0) {
			if err := c.q.Wait(libaio.Infinite); err != nil {
				c.fail(err)
				break
			}
		}
	}
	for c.busy > 0 {
		if err := c.q.Wait(libaio.Infinite); err != nil {
			c.fail(err)
			return
		}
	}
}

// startReads submits the reads of the next n blocks in one io_submit.
func (c *copier) startReads(n int) {
	c.batch = c.batch[:0]
	for range n {
		b := c.free[len(c.free)-1]
		c.free = c.free[:len(c.free)-1]
		b.off = c.offset
		b.want = int(min(c.size-c.offset, int64(c.bs)))
		rlen := b.want
		if c.srcDirect {
			rlen = roundUp(rlen) // the kernel returns it short at end of file
		}
		libaio.PrepPread(&b.cb, c.srcFd, b.buf[:rlen], b.off)
		c.q.SetCallback(&b.cb, b.rdFn)
		c.batch = append(c.batch, &b.cb)
		c.offset += int64(b.want)
	}
	k, err := c.q.Submit(c.batch)
	c.busy += k
	if err != nil {
		c.fail(fmt.Errorf("submit reads of %s: %w", c.src, err))
		for _, cb := range c.batch[k:] {
			c.q.SetCallback(cb, nil)
			c.free = append(c.free, c.blockOf(cb))
		}
	}
}

// rdDone is the read callback: it turns the block into a write.
func (c *copier) rdDone(b *block, res int, err error) {
	switch {
	case err != nil:
		c.fail(pathError("read", c.src, err))
	case c.err != nil:
	case res != b.want:
		c.fail(fmt.Errorf("read %s at offset %d: %d bytes, want %d (file changed during the copy?)", c.src, b.off, res, b.want))
	default:
		b.wlen = res
		if c.out.direct {
			b.wlen = roundUp(res)
			clear(b.buf[res:b.wlen])
		}
		c.startWrite(b)
		return
	}
	c.release(b)
}

// startWrite submits the write of a block just read.
func (c *copier) startWrite(b *block) {
	if c.syncWrite {
		c.writeSync(b)
		return
	}
	libaio.PrepPwrite(&b.cb, c.dstFd, b.buf[:b.wlen], b.off)
	c.q.SetCallback(&b.cb, b.wrFn)
	c.batch = append(c.batch[:0], &b.cb)
	if n, err := c.q.Submit(c.batch); n == 1 {
		return
	} else if !c.out.regular() && errors.Is(err, syscall.EINVAL) {
		// No AIO write path in this driver (/dev/full): plain pwrite.
		c.q.SetCallback(&b.cb, nil)
		c.syncWrite = true
		c.writeSync(b)
		return
	} else {
		c.q.SetCallback(&b.cb, nil)
		c.fail(pathError("write", c.out.final, err))
		c.release(b)
	}
}

// writeSync writes a block with pwrite and completes it at once.
func (c *copier) writeSync(b *block) {
	n, err := c.out.f.WriteAt(b.buf[:b.wlen], b.off)
	c.wrDone(b, n, err)
}

// wrDone is the write callback: the block is copied, or the copy failed.
func (c *copier) wrDone(b *block, res int, err error) {
	switch {
	case err != nil:
		c.fail(pathError("write", c.out.final, err))
	case res != b.wlen:
		c.fail(fmt.Errorf("write %s at offset %d: %d bytes of %d: %w", c.out.final, b.off, res, b.wlen, io.ErrShortWrite))
	default:
		c.left--
		c.done += int64(b.want)
		c.bar.Add(b.want)
	}
	c.release(b)
}

// release frees a block whose request is over.
func (c *copier) release(b *block) {
	c.busy--
	c.free = append(c.free, b)
}

// blockOf returns the block of cb.
func (c *copier) blockOf(cb *aiocb.AIOCB) *block {
	for _, b := range c.blocks {
		if &b.cb == cb {
			return b
		}
	}
	panic("aiocp: AIOCB of no block")
}

// sync fsyncs the copy through the queue: the fsync is ordered after every
// write (submit.Fsync's rule), which are all done anyway.
func (c *copier) sync() {
	b := c.free[len(c.free)-1]
	libaio.PrepFsync(&b.cb, c.dstFd)
	var err error
	c.q.SetCallback(&b.cb, func(_ *aiocb.AIOCB, _ int, e error) { err = e })
	c.batch = append(c.batch[:0], &b.cb)
	if _, e := c.q.Submit(c.batch); e != nil {
		c.q.SetCallback(&b.cb, nil)
		c.fail(pathError("fsync", c.out.final, e))
		return
	}
	if e := c.q.Wait(libaio.Infinite); e != nil {
		err = e
	}
	if err != nil {
		c.fail(pathError("fsync", c.out.final, err))
	}
}

// fail records the first failure of the current file; nil is ignored.
func (c *copier) fail(err error) {
	if err != nil && c.err == nil {
		c.err = err
	}
}

// pathError wraps err with op and path, unless it already names a path.
func pathError(op, path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return err
	}
	return &os.PathError{Op: op, Path: path, Err: err}
}

// roundUp64 rounds n up to a multiple of align.
func roundUp64(n int64) int64 { return (n + align - 1) &^ (align - 1) }

// roundUp rounds n up to a multiple of align.
func roundUp(n int) int { return (n + align - 1) &^ (align - 1) }

// stats is what a run copied.
type stats struct {
	files   int
	bytes   int64
	elapsed time.Duration
}

// summary is the one-line summary: bytes, time, MB/s.
func (s stats) summary() string {
	rate := 0.0
	if sec := s.elapsed.Seconds(); sec > 0 {
		rate = float64(s.bytes) / 1e6 / sec
	}
	files := "files"
	if s.files == 1 {
		files = "file"
	}
	return fmt.Sprintf("aiocp: %d %s, %d bytes (%s) copied in %.3f s, %.1f MB/s",
		s.files, files, s.bytes, humanBytes(s.bytes), s.elapsed.Seconds(), rate)
}

// humanBytes is n in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// copyAll copies every job, reporting each failure on stderr, and returns
// what it copied and an error if any copy failed.
func copyAll(jobs []job, opt options, bar progress, stop <-chan os.Signal, stderr io.Writer) (stats, error) {
	var st stats
	note := func(s string) { bar.Clear(); fmt.Fprintf(stderr, "aiocp: note: %s\n", s) }
	c, err := newCopier(opt, bar, note)
	if err != nil {
		fmt.Fprintf(stderr, "aiocp: %v\n", err)
		return st, err
	}
	var failed error
	start := time.Now()
	for _, j := range jobs {
		n, err := c.copyFile(j, opt, stop)
		if err != nil {
			bar.Clear()
			fmt.Fprintf(stderr, "aiocp: %v\n", err)
			failed = err
			if errors.Is(err, errInterrupted) {
				break
			}
			continue
		}
		st.files++
		st.bytes += n
	}
	st.elapsed = time.Since(start)
	if err := c.close(); err != nil && failed == nil {
		fmt.Fprintf(stderr, "aiocp: %v\n", err)
		failed = err
	}
	return st, failed
}
