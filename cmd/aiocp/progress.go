//go:build linux

package main

import (
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is what the copy reports its bytes to.
type progress interface {
	Add(n int)
	Clear()  // erase the bar before a message
	Finish() // erase the bar for good
}

// nopProgress reports nowhere: standard error is not a terminal, or -q.
type nopProgress struct{}

func (nopProgress) Add(int) {}
func (nopProgress) Clear()  {}
func (nopProgress) Finish() {}

// bar is a progress bar on a terminal.
type bar struct{ b *progressbar.ProgressBar }

// newBar draws a bar of total bytes on tty.
func newBar(tty *os.File, total int64) *bar {
	return &bar{progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(tty),
		progressbar.OptionSetDescription("aiocp"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
	)}
}

func (b *bar) Add(n int) { b.b.Add(n) }
func (b *bar) Clear()    { b.b.Clear() }
func (b *bar) Finish()   { b.b.Finish() }
