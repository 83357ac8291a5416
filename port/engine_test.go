//go:build linux

package port_test

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/internal/engine"
	"github.com/goiocp/goiocp/internal/testutil"
	"github.com/goiocp/goiocp/port"
	"github.com/goiocp/goiocp/submit"
)

// TestEngines: native AIO is listed first and makes ports; io_uring is
// listed exactly where the kernel allows it, and then makes ports that run
// on a ring of their own (an io_uring fd while open, none after Close, no
// AIO context), else fails with ENOSYS saying why; an engine that does not
// exist is EINVAL.
func TestEngines(t *testing.T) {
	es := port.Engines()
	if len(es) == 0 || es[0] != port.EngineAIO {
		t.Fatalf("Engines() = %v, want aio first", es)
	}
	listed := slices.Contains(es, port.EngineIOURing)
	p, err := port.New(port.WithEngine(port.EngineAIO))
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	usable := engine.Usable(engine.KindIOURing)
	if listed != (usable == nil) {
		t.Fatalf("Engines() = %v, but io_uring usable: %v", es, usable)
	}
	rings := func() int {
		n := 0
		for _, what := range testutil.FdTable() {
			if strings.Contains(what, "io_uring") {
				n++
			}
		}
		return n
	}
	before, aioBefore := rings(), testutil.AioNr()
	p, err = port.New(port.WithEngine(port.EngineIOURing), port.WithDepth(64))
	if usable != nil {
		if !errors.Is(err, syscall.ENOSYS) && !errors.Is(err, syscall.EPERM) || !strings.Contains(err.Error(), "io_uring") {
			t.Errorf("WithEngine(io_uring) where refused: %v, want ENOSYS or EPERM naming io_uring", err)
		}
	} else {
		if err != nil {
			t.Fatalf("WithEngine(io_uring): %v", err)
		}
		if got := rings(); got != before+1 {
			t.Errorf("an io_uring port holds %d io_uring fds, want 1", got-before)
		}
		if got := testutil.AioNr(); aioBefore >= 0 && got != aioBefore {
			t.Errorf("an io_uring port took %d AIO events", got-aioBefore)
		}
		f, err := os.Open("/dev/zero")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cb := &aiocb.AIOCB{Fildes: int(f.Fd()), Buf: []byte{1, 2, 3}, Flags: aiocb.Extended, Version: aiocb.Vers2, IOCPFD: p.Fd()}
		if err := p.Associate(int(f.Fd()), 9); err != nil {
			t.Fatal(err)
		}
		if err := submit.Read(cb); err != nil {
			t.Fatal(err)
		}
		pkt, err := p.GetQueuedCompletionStatus(5 * time.Second)
		if err != nil || pkt.CB != cb || pkt.Key != 9 || pkt.Bytes != 3 || cb.Buf[0] != 0 {
			t.Errorf("read on io_uring: %+v %v", pkt, err)
		}
		p.Close()
		if got := rings(); got != before {
			t.Errorf("%d io_uring fds left after Close", got-before)
		}
	}
	if _, err := port.New(port.WithEngine(port.Engine(7))); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("WithEngine(7): %v, want EINVAL", err)
	}
	if port.EngineIOURing.String() != "io_uring" || port.EngineAIO.String() != "aio" {
		t.Errorf("names %q %q", port.EngineAIO, port.EngineIOURing)
	}
}

// TestEngineEnv runs this test binary again with GOIOCP_ENGINE set: aio
// makes ports, io_uring makes them where the kernel allows it (else fails
// with ENOSYS naming io_uring), anything else is an error at the first port
// naming the variable.
func TestEngineEnv(t *testing.T) {
	if _, ok := os.LookupEnv("GOIOCP_ENGINE_CHILD"); ok {
		_, err := port.New()
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error())
		} else {
			os.Stdout.WriteString("ok")
		}
		os.Exit(0)
	}
	for env, want := range map[string]string{
		"aio":      "ok",
		"io_uring": "ok",
		"bogus":    `GOIOCP_ENGINE="bogus": want aio or io_uring`,
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestEngineEnv$")
		cmd.Env = append(os.Environ(), "GOIOCP_ENGINE_CHILD=1", "GOIOCP_ENGINE="+env)
		out, _ := cmd.Output()
		if env == "io_uring" && engine.Usable(engine.KindIOURing) != nil {
			want = "io_uring"
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("GOIOCP_ENGINE=%s: %q, want %q", env, out, want)
		}
	}
}
