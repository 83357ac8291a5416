//go:build linux

package libaio_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/goiocp/goiocp/aiocb"
	"github.com/goiocp/goiocp/libaio"
	"golang.org/x/sys/unix"
)

// TestPrepPoll: io_prep_poll on a pipe completes with the ready mask once
// data arrives; a pending poll is cancelled; no events is EINVAL.
func TestPrepPoll(t *testing.T) {
	q := newQueue(t, 8)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	cb := &aiocb.AIOCB{}
	libaio.PrepPoll(cb, p[0], unix.POLLIN)
	if n, err := q.Submit([]*aiocb.AIOCB{cb}); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	evs := make([]libaio.Event, 1)
	if n, _ := q.GetEvents(1, evs, 20*time.Millisecond); n != 0 {
		t.Fatalf("poll of an empty pipe completed: %+v", evs[0])
	}
	unix.Write(p[1], []byte("x"))
	if n, err := q.GetEvents(1, evs, 5*time.Second); n != 1 || err != nil || evs[0].CB != cb || evs[0].Res&unix.POLLIN == 0 {
		t.Fatalf("GetEvents = %d, %v, %+v; want POLLIN", n, err, evs[0])
	}
	unix.Read(p[0], make([]byte, 1))

	libaio.PrepPoll(cb, p[0], unix.POLLIN)
	if n, err := q.Submit([]*aiocb.AIOCB{cb}); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if ev, err := q.Cancel(cb); err != nil || !errors.Is(ev.Err, syscall.ECANCELED) {
		t.Errorf("Cancel of a pending poll = %+v, %v; want ECANCELED", ev, err)
	}
	libaio.PrepPoll(cb, p[0], 0)
	if _, err := q.Submit([]*aiocb.AIOCB{cb}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("a poll with no events: %v, want EINVAL", err)
	}
}
