//go:build linux

package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// iopsPoints are one engine's IOPS medians against G with min–max bars.
type iopsPoints struct {
	g           []float64
	med, lo, hi []float64
}

func (p iopsPoints) Len() int                        { return len(p.g) }
func (p iopsPoints) XY(i int) (float64, float64)     { return p.g[i], p.med[i] }
func (p iopsPoints) YError(i int) (float64, float64) { return p.med[i] - p.lo[i], p.hi[i] - p.med[i] }

// gTicks marks the G values on a log2 axis.
type gTicks []float64

// Ticks implements plot.Ticker.
func (t gTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for _, g := range t {
		if g >= min && g <= max {
			ts = append(ts, plot.Tick{Value: g, Label: strconv.FormatFloat(g, 'f', -1, 64)})
		}
	}
	return ts
}

// kTicks labels IOPS in thousands.
type kTicks struct{}

// Ticks implements plot.Ticker.
func (kTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value/1e3, 'f', -1, 64) + "k"
		}
	}
	return ts
}

// WriteSVG draws IOPS against G, one line per engine (median, with a bar
// from the min to the max round), in one panel per workload (rows) and
// target (columns), and writes the SVG to w.
func (r *Report) WriteSVG(w io.Writer) error {
	var rows, cols []string
	index := func(list *[]string, s string) int {
		for i, x := range *list {
			if x == s {
				return i
			}
		}
		*list = append(*list, s)
		return len(*list) - 1
	}
	type key struct{ row, col int }
	panels := map[key]map[string]*iopsPoints{}
	var engines []string
	for _, c := range r.Cells {
		k := key{index(&rows, c.Workload), index(&cols, c.Target())}
		if panels[k] == nil {
			panels[k] = map[string]*iopsPoints{}
		}
		for _, e := range c.Engines {
			if len(e.Rounds) == 0 {
				continue
			}
			index(&engines, e.Engine)
			p := panels[k][e.Engine]
			if p == nil {
				p = &iopsPoints{}
				panels[k][e.Engine] = p
			}
			p.g = append(p.g, float64(c.G))
			p.med = append(p.med, e.IOPS.Median)
			p.lo = append(p.lo, e.IOPS.Min)
			p.hi = append(p.hi, e.IOPS.Max)
		}
	}
	if len(panels) == 0 {
		return fmt.Errorf("write svg: no results")
	}
	var gs gTicks
	seen := map[float64]bool{}
	for _, c := range r.Cells {
		if !seen[float64(c.G)] {
			seen[float64(c.G)] = true
			gs = append(gs, float64(c.G))
		}
	}

	plots := make([][]*plot.Plot, len(rows))
	for i := range rows {
		plots[i] = make([]*plot.Plot, len(cols))
		for j := range cols {
			p := plot.New()
			p.Title.Text = rows[i] + " · " + cols[j]
			p.X.Label.Text = "goroutines G"
			p.Y.Label.Text = "IOPS"
			p.Y.Min = 0
			p.Y.Tick.Marker = kTicks{}
			p.X.Tick.Marker = gs
			if len(gs) > 1 {
				p.X.Scale = plot.LogScale{}
			}
			p.Legend.Top = true
			p.Legend.TextStyle.Font.Size = vg.Points(7)
			p.Add(plotter.NewGrid())
			for ei, name := range engines {
				pts := panels[key{i, j}][name]
				if pts == nil {
					continue
				}
				line, scatter, err := plotter.NewLinePoints(pts)
				if err != nil {
					return fmt.Errorf("write svg: %w", err)
				}
				line.Color = plotutil.Color(ei)
				line.Dashes = plotutil.Dashes(ei)
				scatter.Color = plotutil.Color(ei)
				scatter.Shape = plotutil.Shape(ei)
				bars, err := plotter.NewYErrorBars(pts)
				if err != nil {
					return fmt.Errorf("write svg: %w", err)
				}
				bars.Color = plotutil.Color(ei)
				p.Add(line, scatter, bars)
				p.Legend.Add(name, line, scatter)
				for _, y := range pts.hi {
					p.Y.Max = math.Max(p.Y.Max, y*1.25) // room for the legend
				}
			}
			plots[i][j] = p
		}
	}
	const pw, ph = 9 * vg.Centimeter, 7 * vg.Centimeter
	c := vgsvg.New(vg.Length(len(cols))*pw, vg.Length(len(rows))*ph)
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: len(rows), Cols: len(cols), PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j, p := range plots[i] {
			p.Draw(canvases[i][j])
		}
	}
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("write svg: %w", err)
	}
	return nil
}
