//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/bench"
)

// httpGroup is a root the HTTP benchmark serves: where it lies, and
// whether iocphttpd reads it with O_DIRECT.
type httpGroup struct {
	name   string
	dir    string
	direct bool
}

// runHTTP runs the HTTP benchmark: for each root (tmpfs, the disk buffered,
// the disk with O_DIRECT), both servers as processes, and for each workload
// and connection count, rounds of wrk against each in turn. It prints the
// medians as a Markdown table with iocphttpd's ratio to net/http.
func runHTTP(connList string, rounds int, d time.Duration, tmpfs, disk string, withStrace, acceptOnly bool) error {
	conns, err := ints(connList)
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk not installed: apt-get install -y wrk")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if acceptOnly {
		return runAccept(exe, conns, rounds, d, tmpfs)
	}
	var groups []httpGroup
	if tmpfs != "" {
		groups = append(groups, httpGroup{"tmpfs", tmpfs, false})
	}
	if disk != "" {
		groups = append(groups, httpGroup{"disk", disk, false}, httpGroup{"disk O_DIRECT", disk, true})
	}
	wrkThreads := min(2, runtime.NumCPU())
	fmt.Printf("HTTP: wrk -t%d --latency against iocphttpd and net/http.FileServer, each its own process (GOMAXPROCS=%d), %d rounds of %v, servers alternating; medians\n", wrkThreads, runtime.NumCPU(), rounds, d)
	fmt.Println("range4k: random 4 KiB ranges of a 64 MiB file; small4k: whole 4 KiB files, 1,024 of them. net/http reads through the page cache in every group.")
	fmt.Println()
	fmt.Println("| root | workload | conns | server | req/s | p50 µs | p99 µs | CPU µs/req | peak threads | non-2xx | socket errors | device reads/req | ×net/http |")
	fmt.Println("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	sites := map[string]string{}
	for _, g := range groups {
		root, ok := sites[g.dir]
		if !ok {
			tmp, err := os.MkdirTemp(g.dir, "goiocp-http-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			if root, err = bench.MakeHTTPSite(tmp); err != nil {
				return err
			}
			sites[g.dir] = root
		}
		diskDev := ""
		if g.name != "tmpfs" {
			diskDev = bench.DiskOf(root)
		}
		servers := map[string]*bench.HTTPServer{}
		for _, name := range bench.HTTPServers {
			s, err := bench.StartHTTPServer(exe, name, root, g.direct)
			if err != nil {
				return err
			}
			defer s.Stop()
			servers[name] = s
			// Warm up: page cache, mime tables, the server's first
			// connections.
			if _, err := bench.RunWrk(s, "range4k", 64, wrkThreads, time.Second, ""); err != nil {
				return err
			}
		}
		for _, wl := range bench.HTTPWorkloads {
			for _, n := range conns {
				got := map[string][]bench.HTTPResult{}
				for range rounds {
					for _, name := range bench.HTTPServers {
						res, err := bench.RunWrk(servers[name], wl, n, wrkThreads, d, diskDev)
						if err != nil {
							return fmt.Errorf("%s %s %s %d conns: %w", g.name, wl, name, n, err)
						}
						got[name] = append(got[name], res)
					}
				}
				base := medianBy(got["nethttp"], httpRate).PerSec
				for _, name := range bench.HTTPServers {
					m := medianBy(got[name], httpRate)
					dev := "–"
					if m.DeviceReads >= 0 && m.Requests > 0 {
						dev = fmt.Sprintf("%.2f", float64(m.DeviceReads)/float64(m.Requests))
					}
					fmt.Printf("| %s | %s | %d | %s | %.0f | %.0f | %.0f | %.1f | %d | %d | %d | %s | %.2f |\n",
						g.name, wl, n, name, m.PerSec, us(m.P50), us(m.P99), us(m.CPUPerReq), m.Threads,
						m.Non2xx, m.SocketErrors, dev, m.PerSec/base)
				}
			}
		}
		if withStrace && g.name == "tmpfs" {
			for _, name := range bench.HTTPServers {
				if err := straceCell(servers[name], wrkThreads); err != nil {
					return err
				}
			}
		}
		for _, s := range servers {
			s.Stop()
		}
	}
	return nil
}

func httpRate(r bench.HTTPResult) float64 { return r.PerSec }

// straceCell counts the system calls of the server while wrk runs range4k
// over 64 connections for 2 s, and prints the calls per request and the
// most frequent calls.
func straceCell(s *bench.HTTPServer, wrkThreads int) error {
	if _, err := exec.LookPath("strace"); err != nil {
		fmt.Printf("\n%s: strace not installed (apt-get install -y strace)\n", s.Name)
		return nil
	}
	out, err := os.CreateTemp("", "strace-*.txt")
	if err != nil {
		return err
	}
	out.Close()
	defer os.Remove(out.Name())
	tr := exec.Command("strace", "-f", "-c", "-o", out.Name(), "-p", strconv.Itoa(s.Pid()))
	if err := tr.Start(); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // attached to every thread
	res, err := bench.RunWrk(s, "range4k", 64, wrkThreads, 2*time.Second, "")
	tr.Process.Signal(syscall.SIGINT)
	tr.Wait()
	if err != nil {
		return err
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		return err
	}
	type call struct {
		name  string
		calls int64
	}
	var calls []call
	var total int64
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || f[0] == "%" || strings.HasPrefix(f[0], "-") {
			continue
		}
		n, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			continue
		}
		name := f[len(f)-1]
		if name == "total" {
			total = n
			continue
		}
		calls = append(calls, call{name, n})
	}
	slices.SortFunc(calls, func(a, b call) int { return int(b.calls - a.calls) })
	per := func(n int64) float64 { return float64(n) / float64(max(res.Requests, 1)) }
	var top []string
	for _, c := range calls[:min(len(calls), 8)] {
		top = append(top, fmt.Sprintf("%s %.2f", c.name, per(c.calls)))
	}
	fmt.Printf("\n%s under strace -f -c (tmpfs, range4k, 64 conns, 2 s, %d requests): %.2f system calls per request: %s\n",
		s.Name, res.Requests, per(total), strings.Join(top, ", "))
	return nil
}

// runAccept compares the acceptors: iocphttpd with its OpPoll acceptor,
// with its acceptor goroutine, and net/http, each request of wrk on a new
// connection (close4k) on tmpfs.
func runAccept(exe string, conns []int, rounds int, d time.Duration, tmpfs string) error {
	tmp, err := os.MkdirTemp(tmpfs, "goiocp-http-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root, err := bench.MakeHTTPSite(tmp)
	if err != nil {
		return err
	}
	wrkThreads := min(2, runtime.NumCPU())
	fmt.Printf("acceptors: wrk -t%d, a new connection per request (close4k) on tmpfs, %d rounds of %v, servers alternating; medians\n\n", wrkThreads, rounds, d)
	fmt.Println("| conns | server | req/s (= connections/s) | p50 µs | p99 µs | CPU µs/req | peak threads | socket errors | ×net/http |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	servers := map[string]*bench.HTTPServer{}
	for _, name := range bench.AcceptServers {
		s, err := bench.StartHTTPServer(exe, name, root, false)
		if err != nil {
			return err
		}
		defer s.Stop()
		servers[name] = s
	}
	for _, n := range conns {
		got := map[string][]bench.HTTPResult{}
		for range rounds {
			for _, name := range bench.AcceptServers {
				res, err := bench.RunWrk(servers[name], "close4k", n, wrkThreads, d, "")
				if err != nil {
					return err
				}
				got[name] = append(got[name], res)
			}
		}
		base := medianBy(got["nethttp"], httpRate).PerSec
		for _, name := range bench.AcceptServers {
			m := medianBy(got[name], httpRate)
			fmt.Printf("| %d | %s | %.0f | %.0f | %.0f | %.1f | %d | %d | %.2f |\n", n, name, m.PerSec, us(m.P50), us(m.P99),
				us(m.CPUPerReq), m.Threads, m.SocketErrors, m.PerSec/base)
		}
	}
	return nil
}
