//go:build linux

package port_test

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// TestThousandPorts: 1,000 ports of depth 32 (32,000 events) fit the
// default /proc/sys/fs/aio-max-nr of 65,536 and work together: each reads
// its own block and harvests exactly its own packet.
func TestThousandPorts(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const P, depth = 1000, 32
	data := testutil.Pattern(30, P*16)
	_, fd := testutil.File(t, t.TempDir(), data, os.O_RDONLY)
	ports := make([]*port.Port, P)
	for i := range ports {
		p, err := port.New(port.WithDepth(depth))
		if err != nil {
			for _, q := range ports[:i] {
				q.Close()
			}
			t.Fatalf("port %d of %d: %v", i, P, err)
		}
		p.Associate(fd, uintptr(i))
		ports[i] = p
	}
	defer func() {
		// io_destroy waits for an RCU grace period (milliseconds); closing
		// in parallel lets those waits overlap.
		var wg sync.WaitGroup
		for _, p := range ports {
			wg.Go(func() { p.Close() })
		}
		wg.Wait()
	}()
	var wg sync.WaitGroup
	for i, p := range ports {
		wg.Go(func() {
			cb := cbFor(p, fd, int64(i*16), make([]byte, 16))
			if err := submit.Read(cb); err != nil {
				t.Error(err)
				return
			}
			pkt, err := p.GetQueuedCompletionStatus(30 * time.Second)
			if err != nil || pkt.CB != cb || pkt.Key != uintptr(i) || pkt.Bytes != 16 ||
				testutil.Equal(cb.Buf, data[i*16:i*16+16]) >= 0 {
				t.Errorf("port %d: %+v %v", i, pkt, err)
			}
		})
	}
	wg.Wait()
}
