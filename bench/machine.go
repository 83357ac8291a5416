//go:build linux

package bench

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Meta describes the run: when, where and how.
type Meta struct {
	Date       string   `json:"date"`
	Command    string   `json:"command"`
	CPUs       int      `json:"cpus"`
	GOMAXPROCS int      `json:"gomaxprocs"`
	CPUModel   string   `json:"cpu_model,omitempty"`
	Kernel     string   `json:"kernel"`
	Arch       string   `json:"arch"`
	GoVersion  string   `json:"go"`
	Fio        string   `json:"fio,omitempty"`
	Targets    []Target `json:"targets"`
	QD         int      `json:"qd"`
	Rounds     int      `json:"rounds"`
	DurationMS int64    `json:"cell_ms"`
	Notes      []string `json:"notes,omitempty"`
}

// machineMeta fills what the machine says about itself.
func machineMeta() Meta {
	m := Meta{
		Date:       time.Now().Format(time.RFC3339),
		CPUs:       runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Arch:       runtime.GOARCH,
		GoVersion:  runtime.Version(),
		Fio:        FioVersion(),
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return m
}
