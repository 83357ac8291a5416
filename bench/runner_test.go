//go:build linux

package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunReport(t *testing.T) {
	engines, _, err := ParseEngines("ports,global-collector,readat")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := Config{
		Engines: engines, Workloads: []Workload{RandRead4K}, Dirs: []Dir{{Label: "disk", Dir: dir}},
		Direct: []bool{true, false}, Gs: []int{1, 2}, QD: 2, Rounds: 2, Duration: 10 * time.Millisecond,
		Size: 1 << 20, Command: "test", Progress: &bytes.Buffer{},
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("files left behind: %v", left)
	}
	if want := len(rep.Meta.Targets) * 2; len(rep.Cells) != want || want == 0 {
		t.Fatalf("%d cells, want %d", len(rep.Cells), want)
	}
	for _, c := range rep.Cells {
		for _, e := range c.Engines {
			if e.Error != "" || len(e.Rounds) != 2 || e.IOPS.Median <= 0 {
				t.Fatalf("cell %+v engine %+v", c, e)
			}
			if e.Engine == EnginePorts && e.Ratio != (Range{1, 1, 1}) {
				t.Fatalf("ports ratio %v", e.Ratio)
			}
		}
	}

	var tab, md, wide, js, svg bytes.Buffer
	if err := rep.WriteWide(&wide); err != nil || !strings.Contains(wide.String(), "| ports | global-collector | readat |") ||
		!strings.Contains(wide.String(), "×1.00") {
		t.Fatalf("wide %v:\n%s", err, wide.String())
	}
	if err := rep.WriteTable(&tab); err != nil || !strings.Contains(tab.String(), "global-collector") {
		t.Fatalf("table %v:\n%s", err, tab.String())
	}
	if err := rep.WriteMarkdown(&md); err != nil || !strings.HasPrefix(md.String(), "| workload |") {
		t.Fatalf("markdown %v:\n%s", err, md.String())
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "r.json")
	if err := os.WriteFile(path, js.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	back, err := ReadReport(path)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := back.WriteJSON(&again); err != nil || !bytes.Equal(js.Bytes(), again.Bytes()) {
		t.Fatal("report does not survive JSON")
	}
	if err := rep.WriteSVG(&svg); err != nil || !bytes.Contains(svg.Bytes(), []byte("<svg")) || !bytes.Contains(svg.Bytes(), []byte("readat")) {
		t.Fatalf("svg %v (%d bytes)", err, svg.Len())
	}
	if err := (&Report{}).WriteSVG(&svg); err == nil {
		t.Fatal("svg of nothing")
	}
}

func TestRunErrors(t *testing.T) {
	if _, err := Run(context.Background(), Config{}); err == nil {
		t.Fatal("empty config accepted")
	}
	engines, _, _ := ParseEngines("ports")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Config{Engines: engines, Workloads: AllWorkloads, Dirs: []Dir{{Label: "disk", Dir: t.TempDir()}},
		Direct: []bool{false}, Gs: []int{1}, QD: 1, Rounds: 1, Duration: time.Millisecond, Size: 1 << 20})
	if err == nil {
		t.Fatal("cancelled run succeeded")
	}
}

func TestParseWorkloads(t *testing.T) {
	ws, err := ParseWorkloads("seqread-128k, randread-4k")
	if err != nil || len(ws) != 2 || ws[0] != SeqRead128K {
		t.Fatalf("%v %v", ws, err)
	}
	if ws, _ := ParseWorkloads("all"); len(ws) != 3 {
		t.Fatal("all")
	}
	if _, err := ParseWorkloads("randread-8k"); err == nil {
		t.Fatal("unknown workload accepted")
	}
}

func TestProgressQuietOffTerminal(t *testing.T) {
	if NewProgress(&bytes.Buffer{}, 3) != nil {
		t.Fatal("progress on a buffer")
	}
	var p *Progress
	p.Step("x")
	p.Clear()
	p = &Progress{w: &bytes.Buffer{}, total: 2, start: time.Now()}
	p.Step("a")
	p.Step("b")
	if s := p.w.(*bytes.Buffer).String(); !strings.Contains(s, "[2/2  50%]") || !strings.Contains(s, "b") {
		t.Fatalf("progress %q", s)
	}
}
