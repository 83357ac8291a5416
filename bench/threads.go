//go:build linux

package bench

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// osThreads returns the process's OS thread count (/proc/self/status).
func osThreads() int { return threadsOf("self") }

// threadsOf returns the OS thread count of process pid ("self", or a
// number), 0 if it cannot be read.
func threadsOf(pid string) int {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// sampleThreads samples the process's thread count every interval until
// the returned func is called, which returns the most seen, the count at
// that moment included.
func sampleThreads(interval time.Duration) (stop func() int) {
	return sampleThreadsOf("self", interval)
}

// sampleThreadsOf is sampleThreads for process pid ("self", or a number).
func sampleThreadsOf(pid string, interval time.Duration) (stop func() int) {
	done := make(chan struct{})
	result := make(chan int)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		peak := 0
		for {
			peak = max(peak, threadsOf(pid))
			select {
			case <-t.C:
			case <-done:
				result <- max(peak, threadsOf(pid))
				return
			}
		}
	}()
	return func() int {
		close(done)
		return <-result
	}
}
