//go:build linux

package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes r as JSON: the meta indented, then one line per cell,
// which keeps the file small and its diffs readable.
func (r *Report) WriteJSON(w io.Writer) error {
	meta, err := json.MarshalIndent(r.Meta, " ", " ")
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("{\"meta\": ")
	b.Write(meta)
	b.WriteString(",\n \"cells\": [")
	for i, c := range r.Cells {
		line, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n  ")
		b.Write(line)
	}
	b.WriteString("\n ]\n}\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// ReadReport reads a report written by WriteJSON.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	return &r, nil
}

// tableHeader are the columns of the tables.
var tableHeader = []string{"workload", "target", "G", "engine", "IOPS median [min–max]", "MB/s", "p50 µs", "p99 µs", "p99.9 µs", "CPU µs/req", "allocs/req", "× ports [min–max]", "new threads"}

// rows renders every engine result of r as table cells.
func (r *Report) rows() [][]string {
	var out [][]string
	for _, c := range r.Cells {
		for _, e := range c.Engines {
			row := []string{c.Workload, c.Target(), fmt.Sprint(c.G), e.Engine}
			if e.Error != "" && len(e.Rounds) == 0 {
				row = append(row, "error: "+shorten(e.Error, 60))
				out = append(out, row)
				continue
			}
			allocs := "n/a"
			if e.Allocs.Median >= 0 {
				allocs = fmt.Sprintf("%.2f", e.Allocs.Median)
			}
			ratio := "—"
			if e.Ratio.Median > 0 {
				ratio = fmt.Sprintf("%.2f [%.2f–%.2f]", e.Ratio.Median, e.Ratio.Min, e.Ratio.Max)
			}
			row = append(row,
				fmt.Sprintf("%s [%s–%s]", si(e.IOPS.Median), si(e.IOPS.Min), si(e.IOPS.Max)),
				fmt.Sprintf("%.0f", e.MBps.Median),
				fmt.Sprintf("%.1f", e.P50.Median),
				fmt.Sprintf("%.1f", e.P99.Median),
				fmt.Sprintf("%.1f", e.P999.Median),
				fmt.Sprintf("%.2f", e.CPU.Median),
				allocs, ratio, threadsText(e.Threads))
			out = append(out, row)
		}
	}
	return out
}

// WriteTable writes r as an aligned text table, one line per engine and
// cell, with a blank line between cells.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(tableHeader, "\t"))
	prev := ""
	for _, row := range r.rows() {
		key := strings.Join(row[:3], " ")
		if prev != "" && key != prev {
			// Empty cells, not an empty line: tabwriter aligns columns only
			// within a run of lines with cells.
			fmt.Fprintln(tw, strings.Repeat("\t", len(tableHeader)-1))
		}
		prev = key
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Meta.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}

// WriteMarkdown writes r as a Markdown table.
func (r *Report) WriteMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(tableHeader, " | "), strings.Repeat("---|", len(tableHeader)))
	for _, row := range r.rows() {
		for len(row) < len(tableHeader) {
			row = append(row, "")
		}
		if _, err := fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | ")); err != nil {
			return err
		}
	}
	return nil
}

// threadsText formats EngineResult.Threads.
func threadsText(n int) string {
	if n < 0 {
		return "n/a"
	}
	return fmt.Sprint(n)
}

// si formats n with a k or M suffix.
func si(n float64) string {
	switch {
	case n >= 10e6:
		return fmt.Sprintf("%.0fM", n/1e6)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	case n >= 10e3:
		return fmt.Sprintf("%.0fk", n/1e3)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

// shorten cuts s to n runes.
func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// WriteWide writes r as a Markdown table with one row per cell and one
// column per engine, each holding "median IOPS ×ratio-to-ports · CPU µs per
// request" (the README's summary; WriteMarkdown has every figure).
func (r *Report) WriteWide(w io.Writer) error {
	var engines []string
	for _, c := range r.Cells {
		for _, e := range c.Engines {
			if !slices.Contains(engines, e.Engine) {
				engines = append(engines, e.Engine)
			}
		}
	}
	fmt.Fprintf(w, "| workload | target | G | %s |\n|%s\n", strings.Join(engines, " | "), strings.Repeat("---|", 3+len(engines)))
	for _, c := range r.Cells {
		row := []string{c.Workload, c.Target(), fmt.Sprint(c.G)}
		for _, name := range engines {
			cell := ""
			for _, e := range c.Engines {
				switch {
				case e.Engine != name:
				case len(e.Rounds) == 0:
					cell = "error"
				default:
					cell = si(e.IOPS.Median)
					if e.Ratio.Median > 0 {
						cell += fmt.Sprintf(" ×%.2f", e.Ratio.Median)
					}
					cell += fmt.Sprintf(" · %.1f µs", e.CPU.Median)
				}
			}
			row = append(row, cell)
		}
		if _, err := fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | ")); err != nil {
			return err
		}
	}
	return nil
}
