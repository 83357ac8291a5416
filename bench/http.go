//go:build linux

package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/internal/httpd"
)

// The HTTP benchmark: wrk against iocphttpd and against Go's
// net/http.FileServer, each a separate process serving the same root, run
// alternately, with the process's CPU time, OS threads and (on the disk)
// the device's reads measured around each wrk run.

// HTTPServers are the servers RunHTTP drives; AcceptServers those of the
// acceptor comparison (iocphttpd with its acceptor goroutine beside its
// OpPoll acceptor).
var (
	HTTPServers   = withURing([]string{"iocphttpd", "nethttp"}, "iocphttpd", "iocphttpd-uring")
	AcceptServers = []string{"iocphttpd", "iocphttpd-goroutine", "nethttp"}
)

// HTTPWorkloads are the request mixes: random 4 KiB ranges of one 64 MiB
// file, or whole 4 KiB files picked at random among 1,024. close4k (the
// acceptor comparison) is small4k with a new connection per request.
var HTTPWorkloads = []string{"range4k", "small4k"}

// The site every HTTP cell serves.
const (
	httpBigFile    = "big.bin"
	httpBigSize    = 64 << 20
	httpSmallFiles = 1024
	httpSmallSize  = 4096
)

// MakeHTTPSite writes the benchmark's files under dir and returns the root.
func MakeHTTPSite(dir string) (string, error) {
	root := filepath.Join(dir, "site")
	if err := os.MkdirAll(filepath.Join(root, "s"), 0o755); err != nil {
		return "", err
	}
	buf := make([]byte, httpBigSize)
	for i := range buf {
		buf[i] = byte(i*7 + i>>12)
	}
	if err := os.WriteFile(filepath.Join(root, httpBigFile), buf, 0o644); err != nil {
		return "", err
	}
	for i := range httpSmallFiles {
		if err := os.WriteFile(filepath.Join(root, "s", strconv.Itoa(i)+".bin"), buf[i*httpSmallSize:(i+1)*httpSmallSize], 0o644); err != nil {
			return "", err
		}
	}
	return root, nil
}

// wrkScripts are the Lua scripts that make wrk's requests.
var wrkScripts = map[string]string{
	"range4k": `math.randomseed(os.time())
request = function()
  local off = math.random(0, ` + strconv.Itoa(httpBigSize/4096-1) + `) * 4096
  return wrk.format("GET", "/` + httpBigFile + `", {["Range"] = "bytes=" .. off .. "-" .. (off + 4095)})
end
`,
	"small4k": `math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/s/" .. math.random(0, ` + strconv.Itoa(httpSmallFiles-1) + `) .. ".bin")
end
`,
	// Every request on a new connection: the acceptor's cost.
	"close4k": `math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/s/" .. math.random(0, ` + strconv.Itoa(httpSmallFiles-1) + `) .. ".bin", {["Connection"] = "close"})
end
`,
}

// HTTPServer is a server process under test.
type HTTPServer struct {
	Name string
	Addr string
	cmd  *exec.Cmd
}

// StartHTTPServer runs exe (iocpbench) with -http-serve as server name over
// root, and waits until it listens.
func StartHTTPServer(exe, name, root string, direct bool) (*HTTPServer, error) {
	args := []string{"-http-serve", name, "-http-root", root}
	if direct {
		args = append(args, "-http-direct")
	}
	cmd := exec.Command(exe, args...)
	if name == "iocphttpd-uring" {
		cmd.Env = append(os.Environ(), "GOIOCP_ENGINE=io_uring")
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stderr).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("%s: did not start: %q %v", name, line, err)
	}
	go io.Copy(io.Discard, stderr)
	return &HTTPServer{Name: name, Addr: addr, cmd: cmd}, nil
}

// Pid is the server's process id.
func (s *HTTPServer) Pid() int { return s.cmd.Process.Pid }

// Stop ends the server with SIGTERM and waits for it.
func (s *HTTPServer) Stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	return s.cmd.Wait()
}

// HTTPResult is one wrk run against one server.
type HTTPResult struct {
	Server       string
	Workload     string
	Conns        int
	Requests     int64
	PerSec       float64
	P50, P99     time.Duration
	Non2xx       int64 // wrk's "Non-2xx or 3xx responses"
	SocketErrors int64 // connect + read + write + timeout
	CPUPerReq    time.Duration
	Threads      int   // the most OS threads the server had during the run
	DeviceReads  int64 // reads the disk completed during the run; -1 on tmpfs
}

// RunWrk runs wrk with workload's script against srv for d with conns
// connections on threads wrk threads (wrk counts whole seconds: d is
// rounded, to at least 1 s). disk names the block device to
// count reads on ("" for none).
func RunWrk(srv *HTTPServer, workload string, conns, threads int, d time.Duration, disk string) (HTTPResult, error) {
	res := HTTPResult{Server: srv.Name, Workload: workload, Conns: conns, DeviceReads: -1}
	script, ok := wrkScripts[workload]
	if !ok {
		return res, fmt.Errorf("workload %q: want one of %s", workload, strings.Join(HTTPWorkloads, ", "))
	}
	f, err := os.CreateTemp("", "wrk-*.lua")
	if err != nil {
		return res, err
	}
	defer os.Remove(f.Name())
	f.WriteString(script)
	f.Close()
	pid := strconv.Itoa(srv.Pid())
	cpu0 := cpuOf(pid)
	r0, _ := deviceOps(disk)
	peak := sampleThreadsOf(pid, 20*time.Millisecond)
	out, err := exec.Command("wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", fmt.Sprintf("%ds", max(1, int(d.Round(time.Second).Seconds()))), "--latency", "-s", f.Name(), "http://"+srv.Addr+"/").CombinedOutput()
	res.Threads = peak()
	cpu := cpuOf(pid) - cpu0
	if r1, _ := deviceOps(disk); disk != "" && r0 >= 0 {
		res.DeviceReads = r1 - r0
	}
	if err != nil {
		return res, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	if err := parseWrk(string(out), &res); err != nil {
		return res, fmt.Errorf("%w\n%s", err, out)
	}
	if res.Requests > 0 {
		res.CPUPerReq = cpu / time.Duration(res.Requests)
	}
	return res, nil
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkP50      = regexp.MustCompile(`\s50%\s+([\d.]+)(us|ms|s)`)
	wrkP99      = regexp.MustCompile(`\s99%\s+([\d.]+)(us|ms|s)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSockErr  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk's report (with --latency).
func parseWrk(out string, res *HTTPResult) error {
	m := wrkRequests.FindStringSubmatch(out)
	r := wrkRate.FindStringSubmatch(out)
	if m == nil || r == nil {
		return errors.New("wrk: no request count in its output")
	}
	res.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	res.PerSec, _ = strconv.ParseFloat(r[1], 64)
	res.P50, res.P99 = wrkDuration(wrkP50.FindStringSubmatch(out)), wrkDuration(wrkP99.FindStringSubmatch(out))
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		res.Non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkSockErr.FindStringSubmatch(out); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			res.SocketErrors += n
		}
	}
	return nil
}

func wrkDuration(m []string) time.Duration {
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	unit := map[string]float64{"us": 1e3, "ms": 1e6, "s": 1e9}[m[2]]
	return time.Duration(v * unit)
}

// cpuOf is the user and system CPU time of process pid so far.
func cpuOf(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * time.Second / 100 // USER_HZ
}

// ServeHTTP is the body of iocpbench -http-serve: it runs server name over
// root on a free loopback port, prints "listening on ADDR" to stderr, and
// serves until SIGTERM or SIGINT.
func ServeHTTP(name, root string, direct bool, stop <-chan os.Signal) error {
	switch name {
	case "iocphttpd", "iocphttpd-goroutine", "iocphttpd-uring": // -uring: GOIOCP_ENGINE=io_uring, set by StartHTTPServer
		srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0", Root: root, Direct: direct, AcceptGoroutine: name == "iocphttpd-goroutine"})
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "listening on %s\n", srv.Addr())
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	case "nethttp":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: http.FileServer(http.Dir(root)), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
		fmt.Fprintf(os.Stderr, "listening on %s\n", ln.Addr())
		go srv.Serve(ln)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	}
	return fmt.Errorf("server %q: want one of %s", name, strings.Join(HTTPServers, ", "))
}
