//go:build linux

package reliability_test

import (
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// soakEnv sets TestSoak's duration (a time.ParseDuration string); the
// default is 20 s, 3 s with -short.
const soakEnv = "GOIOCP_SOAK"

const (
	soakWorkers = 64
	soakBlocks  = 32 // blocks of blk bytes per worker file
	soakDepth   = 16
)

// soakStats are the soak's figures.
type soakStats struct {
	writes, reads, verified, bytes atomic.Int64
	posted, received               atomic.Int64
	portsMade, portsClosed         atomic.Int64
	gcs                            atomic.Int64
}

// soakWorker is one goroutine's state: its own file, port and checksums.
type soakWorker struct {
	id      int
	fd      int
	direct  bool
	dflt    bool // uses the default context instead of a port
	sums    [soakBlocks]uint32
	mem     []byte // O_DIRECT buffers, soakDepth blocks
	mu      sync.RWMutex
	p       *port.Port // guarded by mu; posts from others take mu shared
	expect  atomic.Int64
	gotPost int64
}

// TestSoak: 64 goroutines, each with its own file and port (every eighth
// on the default context), write and read back random blocks, verifying
// every byte by checksum; they close their ports and make new ones while
// the others run, post packets to each other mixed with their I/O, and a
// GC storm runs throughout with heap buffers in flight. At the end no fd,
// goroutine or kernel AIO context (/proc/sys/fs/aio-nr) is left over.
func TestSoak(t *testing.T) {
	dur := 20 * time.Second
	if testing.Short() {
		dur = 3 * time.Second
	}
	if s := os.Getenv(soakEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", soakEnv, s, err)
		}
		dur = d
	}
	fds0, rings0, aio0 := len(testutil.FdTable()), testutil.AioRings(), testutil.AioNr()
	var st soakStats
	dir := t.TempDir()
	workers := make([]*soakWorker, soakWorkers)
	for i := range workers {
		w := &soakWorker{id: i, direct: i%2 == 0, dflt: i%8 == 7}
		flag := 0
		if w.direct {
			flag = unix.O_DIRECT
			w.mem = testutil.Aligned(t, soakDepth*blk)
		}
		init := testutil.Pattern(uint64(1000+i), soakBlocks*blk)
		for b := range soakBlocks {
			w.sums[b] = crc32.ChecksumIEEE(init[b*blk : (b+1)*blk])
		}
		_, w.fd = createFile(t, dirFile(dir, i), init, flag)
		workers[i] = w
	}
	stop := make(chan struct{})
	var gcWG sync.WaitGroup
	gcWG.Add(1)
	go func() { // the GC storm
		defer gcWG.Done()
		var junk [][]byte
		for {
			select {
			case <-stop:
				return
			default:
			}
			junk = append(junk, make([]byte, 64<<10))
			if len(junk) > 64 {
				junk = nil
			}
			runtime.GC()
			st.gcs.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	end := time.Now().Add(dur)
	errc := make(chan error, soakWorkers)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- w.run(end, workers, &st)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(dur + 2*time.Minute):
		t.Fatal("workers did not finish within 2 minutes of the soak's end")
	}
	close(stop)
	gcWG.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
	// Every block of every file, read back synchronously, matches the
	// checksum of the last write the worker saw succeed.
	for _, w := range workers {
		buf := make([]byte, soakBlocks*blk)
		if w.direct {
			buf = testutil.Aligned(t, soakBlocks*blk)
		}
		if n, err := unix.Pread(w.fd, buf, 0); err != nil || n != len(buf) {
			t.Fatalf("worker %d: final read %d %v", w.id, n, err)
		}
		for b := range soakBlocks {
			if crc32.ChecksumIEEE(buf[b*blk:(b+1)*blk]) != w.sums[b] {
				t.Errorf("worker %d: block %d differs from its last successful write", w.id, b)
			}
		}
		if w.expect.Load() != w.gotPost {
			t.Errorf("worker %d: %d packets posted to it, %d received", w.id, w.expect.Load(), w.gotPost)
		}
	}
	t.Logf("soak %v: %d workers, %d writes, %d reads (%d verified), %.1f MiB, %d posted / %d received, %d ports made / %d closed, %d GCs",
		dur, soakWorkers, st.writes.Load(), st.reads.Load(), st.verified.Load(), float64(st.bytes.Load())/(1<<20),
		st.posted.Load(), st.received.Load(), st.portsMade.Load(), st.portsClosed.Load(), st.gcs.Load())
	if st.portsMade.Load() != st.portsClosed.Load() {
		t.Errorf("%d ports made, %d closed", st.portsMade.Load(), st.portsClosed.Load())
	}
	if n := testutil.AioRings(); n != rings0 {
		t.Errorf("kernel AIO contexts of this process: %d before, %d after", rings0, n)
	}
	aio1 := testutil.AioNr()
	for deadline := time.Now().Add(5 * time.Second); aio1 > aio0 && time.Now().Before(deadline); aio1 = testutil.AioNr() {
		time.Sleep(50 * time.Millisecond) // the kernel frees contexts after an RCU grace period
	}
	t.Logf("aio-nr %d before, %d after; open fds %d before (files included after: %d)", aio0, aio1, fds0, len(testutil.FdTable()))
	if aio1 > aio0 && testutil.AioRings() == rings0 {
		// This process holds no more contexts than before: the extra
		// events belong to another process (go test runs packages in
		// parallel), not to a leak here.
		t.Logf("aio-nr grew by %d, held by other processes", aio1-aio0)
	} else if aio1 > aio0 {
		t.Errorf("aio-nr %d before, %d after", aio0, aio1)
	}
	goleak.VerifyNone(t)
}

func dirFile(dir string, i int) string {
	return dir + "/w" + string(rune('a'+i/26)) + string(rune('a'+i%26))
}

// pending is a request of a worker in flight.
type pending struct {
	block int
	write bool
	sum   uint32
	slot  int
}

// run is one worker's loop until end: rounds of up to soakDepth random
// block writes and reads, a post to a random worker, and every few rounds
// a new port.
func (w *soakWorker) run(end time.Time, all []*soakWorker, st *soakStats) (err error) {
	rng := rand.New(rand.NewPCG(uint64(w.id), 7))
	defer func() {
		if cerr := w.closePort(st); err == nil {
			err = cerr
		}
	}()
	for round := 0; time.Now().Before(end); round++ {
		if !w.dflt && (w.p == nil || round%20 == 19) {
			if err := w.closePort(st); err != nil {
				return err
			}
			opts := []port.Option{port.WithDepth(soakDepth)}
			if w.id%4 == 1 {
				// A quarter of the ports sleep in io_getevents.
				opts = append(opts, port.WithKernelWait())
			}
			p, err := port.New(opts...)
			if err != nil {
				return err
			}
			if err := p.Associate(w.fd, uintptr(w.id)); err != nil {
				return err
			}
			st.portsMade.Add(1)
			w.mu.Lock()
			w.p = p
			w.mu.Unlock()
		}
		// Post to another worker, if its port is open.
		o := all[rng.IntN(len(all))]
		o.mu.RLock()
		if o.p != nil {
			if err := o.p.PostQueuedCompletionStatus(-7, uintptr(1<<20+w.id), nil); err != nil {
				o.mu.RUnlock()
				return err
			}
			o.expect.Add(1)
			st.posted.Add(1)
		}
		o.mu.RUnlock()
		if err := w.round(rng, st); err != nil {
			return err
		}
	}
	return nil
}

// round submits up to soakDepth requests on distinct blocks and completes
// them all, verifying each read's checksum.
func (w *soakWorker) round(rng *rand.Rand, st *soakStats) error {
	n := 1 + rng.IntN(soakDepth)
	blocks := rng.Perm(soakBlocks)[:n]
	cbs := make(map[*aiocb.AIOCB]*pending, n)
	var list []*aiocb.AIOCB
	for i, b := range blocks {
		pd := &pending{block: b, write: rng.IntN(2) == 0, slot: i}
		var buf []byte
		if w.direct {
			buf = w.mem[i*blk : (i+1)*blk]
		} else {
			buf = make([]byte, blk) // heap, reachable only through the AIOCB
		}
		if pd.write {
			for j := 0; j < blk; j += 8 {
				v := rng.Uint64()
				for k := range 8 {
					buf[j+k] = byte(v >> (8 * k))
				}
			}
			pd.sum = crc32.ChecksumIEEE(buf)
		}
		cb := &aiocb.AIOCB{Fildes: w.fd, Offset: int64(b * blk), Buf: buf, Opcode: aiocb.OpRead}
		if pd.write {
			cb.Opcode = aiocb.OpWrite
		}
		if !w.dflt {
			cb.Flags, cb.Version, cb.IOCPFD = aiocb.Extended, aiocb.Vers2, w.p.Fd()
		}
		cbs[cb] = pd
		list = append(list, cb)
	}
	if rng.IntN(2) == 0 {
		if err := submit.ListIO(submit.NoWait, list, nil); err != nil {
			return errorf("worker %d: ListIO: %v", w.id, err)
		}
	} else {
		for _, cb := range list {
			var err error
			if cb.Opcode == aiocb.OpWrite {
				err = submit.Write(cb)
			} else {
				err = submit.Read(cb)
			}
			if err != nil {
				return errorf("worker %d: submit: %v", w.id, err)
			}
		}
	}
	list = nil
	finish := func(cb *aiocb.AIOCB, nb int, err error) error {
		pd, ok := cbs[cb]
		if !ok {
			return errorf("worker %d: completion of a request not in flight", w.id)
		}
		delete(cbs, cb)
		if err != nil || nb != blk {
			return errorf("worker %d: %v of block %d: %d %v", w.id, cb.Opcode, pd.block, nb, err)
		}
		st.bytes.Add(blk)
		if pd.write {
			w.sums[pd.block] = pd.sum
			st.writes.Add(1)
			return nil
		}
		st.reads.Add(1)
		if crc32.ChecksumIEEE(cb.Buf) != w.sums[pd.block] {
			return errorf("worker %d: read of block %d: checksum differs from the last write", w.id, pd.block)
		}
		st.verified.Add(1)
		return nil
	}
	endBy := time.Now().Add(deadline)
	if w.dflt {
		for cb := range cbs {
			for submit.Error(cb) == syscall.EINPROGRESS {
				if time.Now().After(endBy) {
					return errorf("worker %d: request in flight after %v", w.id, deadline)
				}
				_ = submit.Suspend([]*aiocb.AIOCB{cb}, 10*time.Millisecond)
			}
			nb, err := submit.Return(cb)
			if err := finish(cb, nb, err); err != nil {
				return err
			}
		}
		return nil
	}
	var pkts [8]completion.Packet
	for len(cbs) > 0 {
		k, err := w.p.GetQueuedCompletionStatusEx(pkts[:], time.Until(endBy))
		if err != nil {
			return errorf("worker %d: wait: %v (%d requests outstanding)", w.id, err, len(cbs))
		}
		for _, pkt := range pkts[:k] {
			if pkt.CB == nil {
				if err := w.posted(pkt, st); err != nil {
					return err
				}
				continue
			}
			if pkt.Key != uintptr(w.id) {
				return errorf("worker %d: packet with key %d", w.id, pkt.Key)
			}
			nb, rerr := submit.Return(pkt.CB)
			if pkt.Err == nil && (nb != pkt.Bytes || rerr != nil) {
				return errorf("worker %d: packet %d bytes, Return %d %v", w.id, pkt.Bytes, nb, rerr)
			}
			if err := finish(pkt.CB, pkt.Bytes, pkt.Err); err != nil {
				return err
			}
		}
	}
	return nil
}

// posted accounts a posted packet.
func (w *soakWorker) posted(pkt completion.Packet, st *soakStats) error {
	if pkt.Bytes != -7 || pkt.Key < 1<<20 {
		return errorf("worker %d: bad posted packet %+v", w.id, pkt)
	}
	w.gotPost++
	st.received.Add(1)
	return nil
}

// closePort stops posts to the worker, takes every packet posted to it and
// closes its port.
func (w *soakWorker) closePort(st *soakStats) error {
	if w.p == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	endBy := time.Now().Add(deadline)
	for w.gotPost < w.expect.Load() {
		pkt, err := w.p.GetQueuedCompletionStatus(time.Until(endBy))
		if err != nil {
			return errorf("worker %d: %d posted packets missing: %v", w.id, w.expect.Load()-w.gotPost, err)
		}
		if pkt.CB != nil {
			return errorf("worker %d: I/O packet after its round", w.id)
		}
		if err := w.posted(pkt, st); err != nil {
			return err
		}
	}
	if err := w.p.Close(); err != nil {
		return errorf("worker %d: close port: %v", w.id, err)
	}
	w.p = nil
	st.portsClosed.Add(1)
	return nil
}

// errorf is fmt.Errorf without wrapping.
func errorf(format string, args ...any) error { return errors.New(sprintf(format, args...)) }
