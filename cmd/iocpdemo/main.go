//go:build linux

// Command iocpdemo runs goiocp's main job on a temporary file it makes
// itself: G goroutines, each with its own completion port, read the file
// with ListIO batches and harvest with GetQueuedCompletionStatusEx; then
// the same work goes through the single global waiter (submit.Nwait, one
// collector goroutine handing requests back to their owners). It prints,
// per goroutine, the packets and bytes it harvested, and the two rates.
//
// Usage:
//
//	iocpdemo [-g goroutines] [-n requests per goroutine] [-qd depth] [-bs block size] [-dir dir]
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"golang.org/x/sys/unix"
)

func main() {
	g := flag.Int("g", 8, "goroutines")
	n := flag.Int("n", 20000, "requests per goroutine")
	qd := flag.Int("qd", 32, "requests in flight per goroutine")
	bs := flag.Int("bs", 4096, "block size in bytes")
	size := flag.Int64("size", 64<<20, "file size in bytes")
	dir := flag.String("dir", "", "directory of the temporary file (default $TMPDIR)")
	flag.Parse()
	if err := run(*g, *n, *qd, *bs, *size, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "iocpdemo:", err)
		os.Exit(1)
	}
}

// job is what both engines do: g goroutines, n random block reads each, qd
// in flight per goroutine.
type job struct {
	fd, g, n, qd, bs int
	blocks           int64
}

// result is one goroutine's harvest.
type result struct {
	packets, bytes int
	perWake        float64 // ports: packets per wait that returned some (Port.Stats)
	err            error
}

func run(g, n, qd, bs int, size int64, dir string) error {
	f, direct, err := tempFile(dir, size)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	j := job{fd: int(f.Fd()), g: g, n: n, qd: qd, bs: bs, blocks: size / int64(bs)}
	mode := "buffered"
	if direct {
		mode = "O_DIRECT"
	}
	fmt.Printf("file %s: %d MiB, %s; %d goroutines x %d random %d-byte reads, %d in flight each\n\n",
		f.Name(), size>>20, mode, g, n, bs, qd)

	portsTime, portsRes, err := timed(j, portsWorker)
	if err != nil {
		return fmt.Errorf("ports: %w", err)
	}
	globalTime, globalRes, err := timedGlobal(j)
	if err != nil {
		return fmt.Errorf("global waiter: %w", err)
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "goroutine\tports packets\tports MiB\tports packets/wake-up\tglobal packets\tglobal MiB\t")
	for i := range g {
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.1f\t%d\t%.1f\t\n", i, portsRes[i].packets, mib(portsRes[i].bytes),
			portsRes[i].perWake, globalRes[i].packets, mib(globalRes[i].bytes))
	}
	tw.Flush()
	total := float64(g * n)
	pr, gr := total/portsTime.Seconds(), total/globalTime.Seconds()
	fmt.Printf("\nports (own port per goroutine):   %8.3fs  %10.0f req/s  %8.1f MB/s\n", portsTime.Seconds(), pr, pr*float64(bs)/1e6)
	fmt.Printf("global (one Nwait collector):     %8.3fs  %10.0f req/s  %8.1f MB/s\n", globalTime.Seconds(), gr, gr*float64(bs)/1e6)
	fmt.Printf("ports / global: %.2fx\n", pr/gr)
	return nil
}

func mib(b int) float64 { return float64(b) / (1 << 20) }

// tempFile makes a file of size random bytes, opened O_DIRECT where the file
// system allows it.
func tempFile(dir string, size int64) (*os.File, bool, error) {
	f, err := os.CreateTemp(dir, "iocpdemo-*")
	if err != nil {
		return nil, false, err
	}
	buf := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for off := int64(0); off < size; off += int64(len(buf)) {
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		if _, err := f.WriteAt(buf[:min(int64(len(buf)), size-off)], off); err != nil {
			f.Close()
			return nil, false, err
		}
	}
	name := f.Name()
	f.Close()
	if d, err := os.OpenFile(name, os.O_RDONLY|syscall.O_DIRECT, 0); err == nil {
		return d, true, nil
	}
	f, err = os.Open(name)
	return f, false, err
}

// refill starts the free requests of batch at random blocks, in one ListIO,
// stopping at the job's n requests, and returns how many it started.
func (j job) refill(batch []*aiocb.AIOCB, rng *rand.Rand, submitted int) (int, error) {
	batch = batch[:min(len(batch), j.n-submitted)]
	if len(batch) == 0 {
		return 0, nil
	}
	for _, cb := range batch {
		cb.Offset = rng.Int64N(j.blocks) * int64(j.bs)
	}
	if err := submit.ListIO(submit.NoWait, batch, nil); err != nil {
		return 0, err
	}
	return len(batch), nil
}

// buffers returns qd aligned buffers of bs bytes each.
func buffers(qd, bs int) ([][]byte, func(), error) {
	mem, err := unix.Mmap(-1, 0, qd*bs, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, err
	}
	bufs := make([][]byte, qd)
	for i := range bufs {
		bufs[i] = mem[i*bs : (i+1)*bs : (i+1)*bs]
	}
	return bufs, func() { unix.Munmap(mem) }, nil
}

func timed(j job, worker func(j job, id int) result) (time.Duration, []result, error) {
	res := make([]result, j.g)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range j.g {
		wg.Go(func() { res[i] = worker(j, i) })
	}
	wg.Wait()
	d := time.Since(start)
	for _, r := range res {
		if r.err != nil {
			return d, res, r.err
		}
	}
	return d, res, nil
}

// portsWorker owns a port: it keeps qd reads in flight, submitting refills
// with ListIO and harvesting with GetQueuedCompletionStatusEx.
func portsWorker(j job, id int) result {
	p, err := port.Create(j.fd, nil, uintptr(id), 0)
	if err != nil {
		return result{err: err}
	}
	defer p.Close()
	bufs, free, err := buffers(j.qd, j.bs)
	if err != nil {
		return result{err: err}
	}
	defer free()
	rng := rand.New(rand.NewPCG(uint64(id), 7))
	cbs := make([]*aiocb.AIOCB, j.qd)
	batch := make([]*aiocb.AIOCB, 0, j.qd)
	for i := range cbs {
		cbs[i] = &aiocb.AIOCB{Fildes: j.fd, Buf: bufs[i], Opcode: aiocb.OpRead,
			Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}
		batch = append(batch, cbs[i])
	}
	pkts := make([]completion.Packet, j.qd)
	var r result
	submitted := 0
	for submitted < j.n || r.packets < submitted {
		n, err := j.refill(batch, rng, submitted)
		if err != nil {
			return result{err: err}
		}
		submitted += n
		batch = batch[:0]
		n, err = p.GetQueuedCompletionStatusEx(pkts, 10*time.Second)
		if err != nil {
			return result{err: err}
		}
		for _, pkt := range pkts[:n] {
			if pkt.Err != nil || pkt.Key != uintptr(id) {
				return result{err: fmt.Errorf("packet %+v", pkt)}
			}
			r.packets++
			r.bytes += pkt.Bytes
			batch = append(batch, pkt.CB)
		}
	}
	if st := p.Stats(); st.Wakeups > 0 {
		r.perWake = float64(st.Dequeued) / float64(st.Wakeups)
	}
	return r
}

// timedGlobal runs the job through the default context: each goroutine
// submits to it, and one collector goroutine, the only one allowed in
// Nwait, hands finished requests back to their owners.
func timedGlobal(j job) (time.Duration, []result, error) {
	owner := map[*aiocb.AIOCB]chan *aiocb.AIOCB{}
	chans := make([]chan *aiocb.AIOCB, j.g)
	var frees []func()
	defer func() {
		for _, f := range frees {
			f()
		}
	}()
	cbsOf := make([][]*aiocb.AIOCB, j.g)
	for i := range chans {
		chans[i] = make(chan *aiocb.AIOCB, j.qd)
		bufs, free, err := buffers(j.qd, j.bs)
		if err != nil {
			return 0, nil, err
		}
		frees = append(frees, free)
		for k := range j.qd {
			cb := &aiocb.AIOCB{Fildes: j.fd, Buf: bufs[k], Opcode: aiocb.OpRead}
			owner[cb] = chans[i]
			cbsOf[i] = append(cbsOf[i], cb)
		}
	}
	stop := make(chan struct{})
	collected := make(chan error, 1)
	go func() {
		list := make([]*aiocb.AIOCB, 256)
		for {
			select {
			case <-stop:
				collected <- nil
				return
			default:
			}
			n, err := submit.Nwait(list, 1, 10*time.Millisecond)
			if err != nil && !errors.Is(err, syscall.EAGAIN) {
				collected <- err
				return
			}
			for _, cb := range list[:n] {
				owner[cb] <- cb
			}
		}
	}()
	d, res, err := timed(j, func(j job, id int) result {
		rng := rand.New(rand.NewPCG(uint64(id), 7))
		batch := append([]*aiocb.AIOCB(nil), cbsOf[id]...)
		var r result
		submitted := 0
		for submitted < j.n || r.packets < submitted {
			n, err := j.refill(batch, rng, submitted)
			if err != nil {
				return result{err: err}
			}
			submitted += n
			batch = batch[:0]
			cb := <-chans[id]
			n, err = submit.Return(cb)
			if err != nil {
				return result{err: err}
			}
			r.packets++
			r.bytes += n
			batch = append(batch, cb)
		}
		return r
	})
	close(stop)
	if cerr := <-collected; err == nil {
		err = cerr
	}
	return d, res, err
}
