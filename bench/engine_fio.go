//go:build linux

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Fio is a fio engine: fio with IOEngine ("libaio" or "io_uring"),
// numjobs = G threads, iodepth = qd, on the same file, time based for the
// job's duration, with JSON output. Latency is fio's lat_ns (submission to
// completion, lat_percentiles=1); CPU time is fio's own usr_cpu + sys_cpu
// over its job runtime. Allocations are not counted (-1).
type Fio struct {
	Path     string // the fio binary
	IOEngine string
	Fixed    bool // io_uring with registered files and fixed buffers
}

// Name returns "fio-" and the ioengine, "-fixed" added with Fixed.
func (f Fio) Name() string {
	if f.Fixed {
		return EngineFioIOUringFixed
	}
	return "fio-" + f.IOEngine
}

// Args returns fio's command line for job, without the binary.
func (f Fio) Args(job Job) []string {
	direct := "0"
	if job.Target.Direct {
		direct = "1"
	}
	ms := max(job.Duration.Milliseconds(), 1)
	var extra []string
	if f.Fixed {
		extra = []string{"--registerfiles=1", "--fixedbufs=1"}
	}
	return append([]string{
		"--name=iocpbench",
		"--filename=" + job.Target.Path,
		"--size=" + strconv.FormatInt(job.Target.Size, 10),
		"--rw=" + job.Workload.FioRW(),
		"--bs=" + strconv.Itoa(job.Workload.Size),
		"--direct=" + direct,
		"--ioengine=" + f.IOEngine,
		"--iodepth=" + strconv.Itoa(job.QD),
		"--numjobs=" + strconv.Itoa(job.G),
		"--thread",
		"--group_reporting",
		"--time_based",
		"--runtime=" + strconv.FormatInt(ms, 10) + "ms",
		"--lat_percentiles=1",
		"--percentile_list=50:99:99.9",
		"--randrepeat=0",
		"--invalidate=0",
		"--output-format=json",
	}, extra...)
}

// Run runs fio for job and parses its JSON report.
func (f Fio) Run(ctx context.Context, job Job) (Sample, error) {
	cmd := exec.CommandContext(ctx, f.Path, f.Args(job)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return Sample{}, fmt.Errorf("%s: %w: %s", f.Name(), err, strings.TrimSpace(errb.String()))
	}
	return ParseFio(out.Bytes(), job.Workload.Op)
}

// fioReport is the part of fio's --output-format=json that the suite reads.
type fioReport struct {
	Jobs []struct {
		Error      int     `json:"error"`
		UsrCPU     float64 `json:"usr_cpu"` // percent of job_runtime
		SysCPU     float64 `json:"sys_cpu"`
		JobRuntime int64   `json:"job_runtime"` // ms, summed over the jobs
		Read       fioDir  `json:"read"`
		Write      fioDir  `json:"write"`
	} `json:"jobs"`
}

// fioDir is one direction of a fio job.
type fioDir struct {
	IOBytes  int64   `json:"io_bytes"`
	BWBytes  float64 `json:"bw_bytes"`
	IOPS     float64 `json:"iops"`
	Runtime  int64   `json:"runtime"` // ms
	TotalIOs int64   `json:"total_ios"`
	LatNS    struct {
		Percentile map[string]float64 `json:"percentile"`
	} `json:"lat_ns"`
}

// ParseFio turns fio's JSON report (one group, group_reporting) into a
// Sample for the direction op.
func ParseFio(data []byte, op Op) (Sample, error) {
	// fio may print notes before the JSON.
	if i := bytes.IndexByte(data, '{'); i > 0 {
		data = data[i:]
	}
	var r fioReport
	if err := json.Unmarshal(data, &r); err != nil {
		return Sample{}, fmt.Errorf("parse fio output: %w", err)
	}
	if len(r.Jobs) != 1 {
		return Sample{}, fmt.Errorf("parse fio output: %d job groups, want 1", len(r.Jobs))
	}
	j := r.Jobs[0]
	if j.Error != 0 {
		return Sample{}, fmt.Errorf("fio: job error %d", j.Error)
	}
	d := j.Read
	if op == OpWrite {
		d = j.Write
	}
	if d.TotalIOs == 0 || d.Runtime == 0 {
		return Sample{}, fmt.Errorf("fio: no %s completed", op)
	}
	pct := func(k string) time.Duration { return time.Duration(d.LatNS.Percentile[k]) }
	cpu := (j.UsrCPU + j.SysCPU) / 100 * float64(j.JobRuntime) * 1e6 // ns
	return Sample{
		Requests:     d.TotalIOs,
		Bytes:        d.IOBytes,
		Elapsed:      time.Duration(d.Runtime) * time.Millisecond,
		IOPS:         d.IOPS,
		MBps:         d.BWBytes / 1e6,
		P50:          pct("50.000000"),
		P99:          pct("99.000000"),
		P999:         pct("99.900000"),
		CPUPerReq:    cpu / float64(d.TotalIOs),
		AllocsPerReq: -1,
	}, nil
}

// FioVersion returns `fio --version`, or "" when fio is not installed.
func FioVersion() string {
	p, err := exec.LookPath("fio")
	if err != nil {
		return ""
	}
	out, err := exec.Command(p, "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
