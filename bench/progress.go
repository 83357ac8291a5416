//go:build linux

package bench

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// Progress draws a one-line progress indicator ("[ 12/432   3%] ETA 4m10s
// disk direct randread-4k G=8 round 2/3 ports") on a terminal, rewritten in
// place. A nil *Progress does nothing. It is used by one goroutine.
type Progress struct {
	w     io.Writer
	total int
	done  int
	start time.Time
}

// NewProgress returns a Progress for total steps writing to w, or nil when
// w is not a terminal (so that logs and pipes stay quiet).
func NewProgress(w io.Writer, total int) *Progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &Progress{w: w, total: total, start: time.Now()}
}

// Step shows that the step described by what is starting.
func (p *Progress) Step(what string) {
	if p == nil {
		return
	}
	eta := "?"
	if p.done > 0 {
		left := time.Since(p.start) / time.Duration(p.done) * time.Duration(p.total-p.done)
		eta = left.Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\033[K[%*d/%d %3d%%] ETA %s  %s", len(fmt.Sprint(p.total)), p.done+1, p.total, 100*p.done/max(p.total, 1), eta, what)
	p.done++
}

// Clear erases the line, before a table or a message is printed.
func (p *Progress) Clear() {
	if p == nil {
		return
	}
	fmt.Fprint(p.w, "\r\033[K")
}
