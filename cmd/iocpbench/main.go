//go:build linux

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goiocp/goiocp/bench"
	"github.com/goiocp/goiocp/internal/engine"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "iocpbench:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		engines   = flag.String("engines", "ports,ports-uring,global,readat,fio", "engines, comma separated: ports, ports-uring, ports-kwait, ports-uring-kwait, global-ebusy, global-collector, readat, fio-libaio, fio-io_uring, fio-io_uring-fixed; global = both global shapes, fio = the three fio engines, all = every one")
		workloads = flag.String("workloads", "all", "workloads, comma separated: randread-4k, randwrite-4k, seqread-128k, all")
		gList     = flag.String("g", "1,2,4,8,16,64", "goroutine counts G, comma separated")
		qd        = flag.Int("qd", 8, "requests in flight per goroutine (readat: always 1); G×qd must fit the default context (1024) for the global engines")
		rounds    = flag.Int("rounds", 3, "rounds per cell; engines alternate within each round")
		duration  = flag.Duration("duration", time.Second, "run time of one engine in one round of one cell")
		tmpfs     = flag.String("tmpfs", "/dev/shm", "tmpfs directory for the CPU-bound target; empty to skip")
		disk      = flag.String("disk", "/var/tmp", "directory on a disk for the device-bound target; empty to skip")
		file      = flag.String("file", "", "an existing file to run on instead of -tmpfs and -disk (its contents are overwritten by write workloads)")
		direct    = flag.String("direct", "both", "O_DIRECT: on, off or both")
		sizeMiB   = flag.Int64("size", 256, "size of each created file in MiB")
		out       = flag.String("out", "bench/results", "directory for the JSON and SVG; empty for none")
		name      = flag.String("name", "", "base name of the output files (default iocpbench-DATE)")
		quick     = flag.Bool("quick", false, "the demo profile: ports (AIO and io_uring), global and readat, randread-4k O_DIRECT on a temp file on tmpfs (/dev/shm) and on the disk, G 1,4,16,64, 3 rounds of 300ms, no files written, a verdict per target; explicit flags still win")
		format    = flag.String("format", "table", "table, markdown (every figure) or wide (Markdown, one row per cell: IOPS, ×ports, CPU µs/req per engine)")
		from      = flag.String("from", "", "render a saved JSON report instead of running")
		svg       = flag.String("svg", "", "with -from: write the plot to this file")
		jsonOut   = flag.String("json", "", "with -from: write the report again to this file")
	)
	flag.BoolVar(quick, "demo", false, "same as -quick")
	sockets := flag.String("sockets", "", "run the socket benchmark instead, over these connection counts (e.g. 1,64,1000): ports against net.Conn, ping-pong of -msg sizes, -rounds rounds of -duration")
	msgSizes := flag.String("msg", "64,4096", "with -sockets: message sizes in bytes, comma separated")
	fileCell := flag.String("file-one", "", "internal: run one cell of -files, given as JSON, and print its result as JSON")
	files := flag.String("files", "", "run the file benchmark instead, over these goroutine counts (e.g. 1,64,2000,10000): package file against os.File, 4 KiB random reads and writes on -disk and -tmpfs, -direct, -rounds rounds of -duration, files of -size MiB")
	httpConns := flag.String("http", "", "run the HTTP benchmark instead, over these connection counts (e.g. 64,256,1000): iocphttpd against net/http.FileServer with wrk, on -tmpfs and -disk (buffered and O_DIRECT), -rounds rounds of -duration")
	httpStrace := flag.Bool("http-strace", false, "with -http: also count each server's system calls per request under strace")
	httpAccept := flag.Bool("http-accept", false, "with -http: compare the acceptors instead (iocphttpd's OpPoll, its acceptor goroutine, net/http), a new connection per request, on -tmpfs")
	httpServe := flag.String("http-serve", "", "internal: serve -http-root with this server (iocphttpd, nethttp) until SIGTERM")
	httpRoot := flag.String("http-root", "", "internal: with -http-serve, the root")
	httpDirect := flag.Bool("http-direct", false, "internal: with -http-serve, O_DIRECT")
	ringOnly := flag.Bool("uring-ring-only", false, "io_uring ports send files in memory (tmpfs) through the ring and its io-wq workers too, instead of copying in the submitter")
	flag.Parse()
	engine.URingRingOnly = *ringOnly

	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		def := func(name string, v *string, q string) {
			if !set[name] {
				*v = q
			}
		}
		def("engines", engines, "ports,ports-uring,global,readat")
		def("workloads", workloads, "randread-4k")
		def("g", gList, "1,4,16,64")
		def("direct", direct, "on")
		// Both: tmpfs, where the CPU is the limit and the waiter shows,
		// and the disk beside it, where the device sets the pace.
		if _, err := os.Stat("/dev/shm"); err != nil {
			def("tmpfs", tmpfs, "")
		}
		def("disk", disk, os.TempDir())
		def("out", out, "")
		if !set["duration"] {
			*duration = 300 * time.Millisecond
		}
		if !set["size"] {
			*sizeMiB = 64
		}
	}

	if *httpServe != "" {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		return bench.ServeHTTP(*httpServe, *httpRoot, *httpDirect, stop)
	}
	if *httpConns != "" {
		return runHTTP(*httpConns, *rounds, *duration, *tmpfs, *disk, *httpStrace, *httpAccept)
	}
	if *sockets != "" {
		return runSockets(*sockets, *msgSizes, *rounds, *duration)
	}
	if *fileCell != "" {
		return fileOne(*fileCell)
	}
	if *files != "" {
		gs, err := ints(*files)
		if err != nil {
			return err
		}
		directs := map[string][]bool{"on": {true}, "off": {false}, "both": {true, false}}[*direct]
		if directs == nil {
			return fmt.Errorf("-direct %q: want on, off or both", *direct)
		}
		return runFiles(gs, map[string]string{"disk": *disk, "tmpfs": *tmpfs}, directs, *rounds, *duration, *sizeMiB)
	}
	if *from != "" {
		rep, err := bench.ReadReport(*from)
		if err != nil {
			return err
		}
		if *svg != "" {
			if err := writeFile(*svg, rep.WriteSVG); err != nil {
				return err
			}
		}
		if *jsonOut != "" {
			if err := writeFile(*jsonOut, rep.WriteJSON); err != nil {
				return err
			}
		}
		return render(rep, *format)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := bench.Config{QD: *qd, Rounds: *rounds, Duration: *duration, Size: *sizeMiB << 20,
		Command: "iocpbench " + strings.Join(os.Args[1:], " "), Progress: os.Stderr, Log: os.Stderr}
	var err error
	var notes []string
	if cfg.Engines, notes, err = bench.ParseEngines(*engines); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(os.Stderr, "note:", n)
	}
	if len(cfg.Engines) == 0 {
		return fmt.Errorf("no engine to run")
	}
	if cfg.Workloads, err = bench.ParseWorkloads(*workloads); err != nil {
		return err
	}
	for s := range strings.SplitSeq(*gList, ",") {
		g, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || g < 1 {
			return fmt.Errorf("bad G %q", s)
		}
		cfg.Gs = append(cfg.Gs, g)
	}
	switch *direct {
	case "on":
		cfg.Direct = []bool{true}
	case "off":
		cfg.Direct = []bool{false}
	case "both":
		cfg.Direct = []bool{true, false}
	default:
		return fmt.Errorf("bad -direct %q: on, off or both", *direct)
	}
	switch {
	case *file != "":
		cfg.Dirs = []bench.Dir{{Label: "file", File: *file}}
	default:
		if *tmpfs != "" {
			cfg.Dirs = append(cfg.Dirs, bench.Dir{Label: "tmpfs", Dir: *tmpfs})
		}
		if *disk != "" {
			cfg.Dirs = append(cfg.Dirs, bench.Dir{Label: "disk", Dir: *disk})
		}
	}
	if len(cfg.Dirs) == 0 {
		return fmt.Errorf("nothing to run on: set -tmpfs, -disk or -file")
	}

	rep, err := bench.Run(ctx, cfg)
	if rep != nil && len(rep.Cells) > 0 {
		if rerr := render(rep, *format); rerr != nil {
			return rerr
		}
		if *format == "table" {
			fmt.Println()
			for _, l := range rep.Verdict() {
				fmt.Println(l)
			}
		}
		if *out != "" {
			base := *name
			if base == "" {
				base = "iocpbench-" + time.Now().Format("20060102-150405")
			}
			if err := os.MkdirAll(*out, 0o755); err != nil {
				return err
			}
			for _, o := range []struct {
				ext   string
				write func(io.Writer) error
			}{{".json", rep.WriteJSON}, {".svg", rep.WriteSVG}} {
				p := filepath.Join(*out, base+o.ext)
				if err := writeFile(p, o.write); err != nil {
					return err
				}
				fmt.Fprintln(os.Stderr, "wrote", p)
			}
		}
	}
	return err
}

// render prints rep in format.
func render(rep *bench.Report, format string) error {
	switch format {
	case "table":
		return rep.WriteTable(os.Stdout)
	case "markdown":
		return rep.WriteMarkdown(os.Stdout)
	case "wide":
		return rep.WriteWide(os.Stdout)
	}
	return fmt.Errorf("bad -format %q: table, markdown or wide", format)
}

// writeFile creates path and fills it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
