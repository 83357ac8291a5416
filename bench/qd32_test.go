//go:build linux

package bench_test

import (
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
	"golang.org/x/sys/unix"
)

// BenchmarkQD32 is the performance issue's first target: one goroutine,
// one port, 32 random 4 KiB O_DIRECT reads in flight on a 256 MiB tmpfs
// file (or GOIOCP_QD32_FILE), harvested with GetQueuedCompletionStatusEx
// (at least one, at most 32 at a time) and refilled with one ListIO per
// harvest. GOIOCP_QD32_BATCH=n refills in ListIO batches of at most n
// instead: 16 is the loop fio runs with --iodepth_batch_submit=16, which
// keeps a disk busier (bench/scripts/target3.sh) and costs a second
// io_submit per harvest on tmpfs (target1.sh). Run it with GOMAXPROCS=1
// beside fio. GOIOCP_QD32_KWAIT=1 makes the port with WithKernelWait. It
// reports IOPS.
func BenchmarkQD32(b *testing.B) {
	const size, qd, bs = 256 << 20, 32, 4096
	submitBatch := qd
	if n, err := strconv.Atoi(os.Getenv("GOIOCP_QD32_BATCH")); err == nil && n > 0 {
		submitBatch = n
	}
	name := os.Getenv("GOIOCP_QD32_FILE")
	if name == "" {
		name = "/dev/shm/goiocp-qd32"
		if st, err := os.Stat(name); err != nil || st.Size() != size {
			if err := os.WriteFile(name, make([]byte, size), 0o600); err != nil {
				b.Skip("no tmpfs file:", err)
			}
		}
		if b.N == 1 {
			defer os.Remove(name)
		}
	}
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		b.Skip("O_DIRECT:", err)
	}
	defer f.Close()
	fd := int(f.Fd())
	var opts []port.Option
	if os.Getenv("GOIOCP_QD32_KWAIT") != "" {
		opts = append(opts, port.WithKernelWait())
	}
	p, err := port.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	if err := p.Associate(fd, 0); err != nil {
		b.Fatal(err)
	}
	mem, err := unix.Mmap(-1, 0, qd*bs, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Munmap(mem)
	batch := make([]*aiocb.AIOCB, 0, qd)
	for i := range qd {
		batch = append(batch, &aiocb.AIOCB{Fildes: fd, Buf: mem[i*bs : (i+1)*bs], Opcode: aiocb.OpRead,
			Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pkts := make([]completion.Packet, qd)
	b.ReportAllocs()
	b.ResetTimer()
	done, inflight := 0, 0
	for done < b.N {
		for i := 0; i < len(batch); i += submitBatch {
			part := batch[i:min(len(batch), i+submitBatch)]
			for _, cb := range part {
				cb.Offset = rng.Int64N(size/bs) * bs
			}
			if err := submit.ListIO(submit.NoWait, part, nil); err != nil {
				b.Fatal(err)
			}
			inflight += len(part)
		}
		batch = batch[:0]
		n, err := p.GetQueuedCompletionStatusEx(pkts, 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		for _, pkt := range pkts[:n] {
			if pkt.Err != nil {
				b.Fatal(pkt.Err)
			}
			batch = append(batch, pkt.CB)
		}
		inflight -= n
		done += n
	}
	b.StopTimer()
	b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "IOPS")
	for inflight > 0 {
		n, _ := p.GetQueuedCompletionStatusEx(pkts, 10*time.Second)
		inflight -= n
	}
}
