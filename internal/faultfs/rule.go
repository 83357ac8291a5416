//go:build linux

package faultfs

import (
	"context"
	"syscall"
	"time"
)

// Op is the kind of file system request a Rule applies to.
type Op int

// The request kinds.
const (
	AnyOp Op = iota // every read, write and fsync
	Read            // FUSE_READ
	Write           // FUSE_WRITE
	Fsync           // FUSE_FSYNC
)

// String returns the request kind's name.
func (o Op) String() string {
	switch o {
	case AnyOp:
		return "any"
	case Read:
		return "read"
	case Write:
		return "write"
	case Fsync:
		return "fsync"
	}
	return "op?"
}

// Rule is one fault. It applies to the requests of kind Op whose byte range
// overlaps [Off, Off+Len) (Len <= 0 means the one byte at Off; fsyncs match
// any range), at most Times times (0: every time). The first rule of a file
// that applies decides the request's fate, in this order: wait (Delay, then
// Hold), then fail with Err, else transfer at most Short bytes.
type Rule struct {
	Op  Op
	Off int64
	Len int64

	// Err, when not 0, fails the request with this errno (EIO, ENOSPC...).
	Err syscall.Errno
	// Short, when > 0, transfers at most Short bytes: a read returns the
	// first Short bytes asked for, a write stores them and reports Short.
	Short int
	// Delay holds the request this long before answering it.
	Delay time.Duration
	// Hold, when not nil, holds the request until Hold is closed, the mount
	// ends, HoldLimit passes or the kernel interrupts the request.
	Hold <-chan struct{}
	// Times bounds how often the rule applies; 0 is no bound.
	Times int
}

// matches reports whether r applies to a request of kind op on [off, off+n).
func (r *Rule) matches(op Op, off int64, n int) bool {
	if r.Op != AnyOp && r.Op != op {
		return false
	}
	if op == Fsync {
		return true
	}
	l := r.Len
	if l <= 0 {
		l = 1
	}
	end := off + int64(n)
	if n == 0 {
		end = off + 1
	}
	return off < r.Off+l && r.Off < end
}

// HoldLimit bounds how long a Hold keeps a request: past it the request
// goes on as if released, so a test that forgets to close a Hold channel
// fails its own checks instead of hanging the suite.
const HoldLimit = 60 * time.Second

// wait sleeps for the rule's Delay and then waits for its Hold. The end of
// the mount cuts both short (the request then goes on normally); so does the
// kernel's interruption of the request, and then wait reports false (the
// request is answered EINTR).
func (r *Rule) wait(ctx context.Context, done <-chan struct{}) bool {
	if r.Delay > 0 {
		t := time.NewTimer(r.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-done:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if r.Hold != nil {
		t := time.NewTimer(HoldLimit)
		defer t.Stop()
		select {
		case <-r.Hold:
		case <-t.C:
		case <-done:
		case <-ctx.Done():
			return false
		}
	}
	return true
}
