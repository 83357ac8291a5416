//go:build linux

package bench_test

import (
	"os"
	"testing"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/bench"
	"github.com/goiocp/goiocp/completion"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// hot is a port with one associated file and n page-aligned 4 KiB read
// requests naming it.
type hot struct {
	p    *port.Port
	cbs  []*aiocb.AIOCB
	pkts []completion.Packet
}

// newHot sets up the hot-path fixture on tmpfs (O_DIRECT when it is
// accepted), or on the test's temp dir when there is no /dev/shm.
func newHot(tb testing.TB, n int) *hot {
	tb.Helper()
	dir := "/dev/shm"
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = tb.TempDir()
	}
	path, err := bench.CreateFile(dir, 1<<20)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.Remove(path) })
	tg := bench.Target{Path: path, Size: 1 << 20, Direct: bench.ProbeDirect(path) == nil}
	f, err := tg.Open()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	bufs, err := bench.NewBuffers(n, 4096)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := port.New(port.WithDepth(max(n, 64)))
	if err != nil {
		tb.Fatal(err)
	}
	// Cleanups run last-in first-out: the port closes (and the kernel lets go
	// of the buffers) before they are unmapped.
	tb.Cleanup(func() { bufs.Free() })
	tb.Cleanup(func() { p.Close() })
	fd := int(f.Fd())
	if err := p.Associate(fd, 7); err != nil {
		tb.Fatal(err)
	}
	h := &hot{p: p, pkts: make([]completion.Packet, n)}
	for i := range n {
		h.cbs = append(h.cbs, &aiocb.AIOCB{Fildes: fd, Offset: int64(i) * 4096, Buf: bufs.Slot(i),
			Opcode: aiocb.OpRead, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()})
	}
	return h
}

// one submits one read and harvests its packet.
func (h *hot) one(tb testing.TB) {
	if err := submit.Read(h.cbs[0]); err != nil {
		tb.Fatal(err)
	}
	pkt, err := h.p.GetQueuedCompletionStatus(port.Infinite)
	if err != nil || pkt.Err != nil || pkt.Bytes != 4096 {
		tb.Fatalf("packet %+v, %v", pkt, err)
	}
}

// batch submits every request with one ListIO and harvests them all with
// GetQueuedCompletionStatusEx.
func (h *hot) batch(tb testing.TB) {
	if err := submit.ListIO(submit.NoWait, h.cbs, nil); err != nil {
		tb.Fatal(err)
	}
	for got := 0; got < len(h.cbs); {
		n, err := h.p.GetQueuedCompletionStatusEx(h.pkts, port.Infinite)
		if err != nil {
			tb.Fatal(err)
		}
		for _, pk := range h.pkts[:n] {
			if pk.Err != nil || pk.Bytes != 4096 {
				tb.Fatalf("packet %+v", pk)
			}
		}
		got += n
	}
}

// BenchmarkSubmitHarvest is one request: submit.Read and
// GetQueuedCompletionStatus.
func BenchmarkSubmitHarvest(b *testing.B) {
	h := newHot(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		h.one(b)
	}
}

// BenchmarkListIO32 is a ListIO batch of 32 reads to one port, harvested
// with GetQueuedCompletionStatusEx; one op is the whole batch.
func BenchmarkListIO32(b *testing.B) {
	h := newHot(b, 32)
	b.ReportAllocs()
	for b.Loop() {
		h.batch(b)
	}
}

// BenchmarkPostGet is PostQueuedCompletionStatus and
// GetQueuedCompletionStatus of that packet.
func BenchmarkPostGet(b *testing.B) {
	p, err := port.New()
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	cb := &aiocb.AIOCB{}
	b.ReportAllocs()
	for b.Loop() {
		if err := p.PostQueuedCompletionStatus(1, 2, cb); err != nil {
			b.Fatal(err)
		}
		if pkt, err := p.GetQueuedCompletionStatus(0); err != nil || pkt.CB != cb {
			b.Fatalf("packet %+v, %v", pkt, err)
		}
	}
}

// BenchmarkGetQueuedCompletionStatusEx harvests 32 posted packets with
// GetQueuedCompletionStatusEx; one op is 32 posts and the harvest.
func BenchmarkGetQueuedCompletionStatusEx(b *testing.B) {
	p, err := port.New()
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	pkts := make([]completion.Packet, 32)
	b.ReportAllocs()
	for b.Loop() {
		for i := range 32 {
			if err := p.PostQueuedCompletionStatus(i, uintptr(i), nil); err != nil {
				b.Fatal(err)
			}
		}
		for got := 0; got < 32; {
			n, err := p.GetQueuedCompletionStatusEx(pkts, 0)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
}

// TestZeroAllocs checks that the steady-state hot paths allocate nothing:
// one submit+harvest on a port, and a ListIO batch of 32 (NoWait, nil
// sigevent, all to one port) harvested with GetQueuedCompletionStatusEx.
func TestZeroAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, so counts are meaningless")
	}
	h1 := newHot(t, 1)
	h32 := newHot(t, 32)
	one := testing.AllocsPerRun(200, func() { h1.one(t) })
	batch := testing.AllocsPerRun(50, func() { h32.batch(t) })
	t.Logf("allocations: %v per submit+harvest, %v per ListIO batch of 32", one, batch)
	if one != 0 || batch != 0 {
		t.Errorf("hot paths allocate: %v per submit+harvest, %v per ListIO batch of 32", one, batch)
	}
}
