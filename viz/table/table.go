// Package table shows tabular values in notebooks: a Table of rows and
// columns that displays as a compact HTML table (readable in JupyterLab's
// light and dark themes, the classic Notebook, VS Code and nbconvert HTML)
// with an aligned plain-text fallback, and Results, the table of mean ± std
// per method and metric that comparing runs produces. All text given by the
// user is escaped in the HTML. The package depends only on display and the
// standard library.
package table

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/graftml/graft/display"
)

// Cell is a table cell with its text and layout given explicitly. AddRow and
// SetFooter accept a Cell beside plain values, for text that must be
// right-aligned (a preformatted number) or emphasised (the best result).
type Cell struct {
	Text  string // shown as it is (escaped in HTML)
	Bold  bool   // strong in HTML; followed by " *" in text
	Right bool   // right-aligned, as numbers are
}

// Table is a table of rows under named columns, shown as HTML with a
// text/plain fallback. Cells may be strings, numbers, bools, Cells, errors,
// fmt.Stringers or anything fmt can print; numbers are right-aligned, floats
// written with Digits significant digits. The zero value of each exported
// field is a sensible default.
type Table struct {
	// Caption is shown above the table; "" shows none.
	Caption string
	// MaxRows limits how many rows are shown, the rest summarised as
	// "… N more rows"; 0 or less shows every row.
	MaxRows int
	// Digits is the number of significant digits floats are written with;
	// 0 means 4, and a negative value means as many as needed to read the
	// exact value back.
	Digits int
	// Thousands writes integers with thousands separators (1,234,567).
	Thousands bool

	columns []string
	rows    [][]any
	footer  []any
}

// New returns an empty table with the given column headers.
func New(columns ...string) *Table {
	return &Table{columns: append([]string(nil), columns...)}
}

// Columns returns the column headers.
func (t *Table) Columns() []string { return append([]string(nil), t.columns...) }

// Len returns the number of rows added (shown or not).
func (t *Table) Len() int { return len(t.rows) }

// SetCaption sets the caption and returns t, so that it can end a chain.
func (t *Table) SetCaption(caption string) *Table {
	t.Caption = caption
	return t
}

// AddRow appends a row with one cell per column. It returns an error naming
// the row and both counts when the number of cells differs from the number
// of columns; the table is then unchanged.
func (t *Table) AddRow(cells ...any) error {
	if err := t.checkWidth(fmt.Sprintf("row %d", len(t.rows)+1), cells); err != nil {
		return err
	}
	t.rows = append(t.rows, append([]any(nil), cells...))
	return nil
}

// SetFooter sets a row shown after all others and set apart from them, such
// as totals; with no cells it removes the footer. Like AddRow it returns an
// error when the number of cells differs from the number of columns.
func (t *Table) SetFooter(cells ...any) error {
	if len(cells) == 0 {
		t.footer = nil
		return nil
	}
	if err := t.checkWidth("footer", cells); err != nil {
		return err
	}
	t.footer = append([]any(nil), cells...)
	return nil
}

func (t *Table) checkWidth(what string, cells []any) error {
	if len(cells) == len(t.columns) {
		return nil
	}
	return fmt.Errorf("table: %s has %s, want %s", what, plural(len(cells), "cell", "cells"), plural(len(t.columns), "column", "columns"))
}

// plural writes n with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// layout is the table ready to write: cells formatted, rows cut to MaxRows.
type layout struct {
	header  []string
	rows    [][]Cell
	footer  []Cell // nil when there is none
	hidden  int    // rows left out by MaxRows
	right   []bool // per column: every body cell is right-aligned
	hasBold []bool // per column: some cell is bold
}

func (t *Table) layout() layout {
	l := layout{header: t.columns}
	shown := t.rows
	if t.MaxRows > 0 && len(shown) > t.MaxRows {
		l.hidden = len(shown) - t.MaxRows
		shown = shown[:t.MaxRows]
	}
	for _, r := range shown {
		l.rows = append(l.rows, t.formatRow(r))
	}
	if t.footer != nil {
		l.footer = t.formatRow(t.footer)
	}
	n := len(t.columns)
	l.right = make([]bool, n)
	l.hasBold = make([]bool, n)
	for j := range n {
		l.right[j] = len(l.rows) > 0
		for _, r := range l.rows {
			if r[j].Text != "" && !r[j].Right {
				l.right[j] = false
			}
			l.hasBold[j] = l.hasBold[j] || r[j].Bold
		}
		if l.footer != nil {
			l.hasBold[j] = l.hasBold[j] || l.footer[j].Bold
		}
	}
	return l
}

func (t *Table) formatRow(r []any) []Cell {
	out := make([]Cell, len(r))
	for j, v := range r {
		out[j] = t.format(v)
	}
	return out
}

// format turns one value into a cell.
func (t *Table) format(v any) Cell {
	switch x := v.(type) {
	case nil:
		return Cell{}
	case Cell:
		return x
	case string:
		return Cell{Text: x}
	case bool:
		return Cell{Text: strconv.FormatBool(x)}
	case float64:
		return Cell{Text: t.formatFloat(x, 64), Right: true}
	case float32:
		return Cell{Text: t.formatFloat(float64(x), 32), Right: true}
	case int:
		return t.intCell(int64(x))
	case int8:
		return t.intCell(int64(x))
	case int16:
		return t.intCell(int64(x))
	case int32:
		return t.intCell(int64(x))
	case int64:
		return t.intCell(x)
	case uint:
		return t.uintCell(uint64(x), false)
	case uint8:
		return t.uintCell(uint64(x), false)
	case uint16:
		return t.uintCell(uint64(x), false)
	case uint32:
		return t.uintCell(uint64(x), false)
	case uint64:
		return t.uintCell(x, false)
	case error:
		return Cell{Text: x.Error()}
	case fmt.Stringer:
		return Cell{Text: x.String()}
	}
	return Cell{Text: fmt.Sprint(v)}
}

func (t *Table) formatFloat(v float64, bits int) string {
	digits := t.Digits
	if digits == 0 {
		digits = 4
	}
	if digits < 0 {
		digits = -1
	}
	return strconv.FormatFloat(v, 'g', digits, bits)
}

func (t *Table) intCell(v int64) Cell {
	if v < 0 {
		return t.uintCell(uint64(-v), true) // -MinInt64 wraps to itself, whose uint64 is the magnitude
	}
	return t.uintCell(uint64(v), false)
}

func (t *Table) uintCell(v uint64, negative bool) Cell {
	s := strconv.FormatUint(v, 10)
	if t.Thousands {
		s = groupDigits(s)
	}
	if negative {
		s = "-" + s
	}
	return Cell{Text: s, Right: true}
}

// GroupDigits writes n with a comma between groups of three digits
// (-1,234,567), as Python's format "{:,d}" does.
func GroupDigits(n int) string {
	return (&Table{Thousands: true}).intCell(int64(n)).Text
}

// groupDigits puts a comma between groups of three digits.
func groupDigits(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	first := len(digits) % 3
	if first == 0 {
		first = 3
	}
	b.WriteString(digits[:first])
	for i := first; i < len(digits); i += 3 {
		b.WriteByte(',')
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// oneLine keeps a text cell on one line.
var oneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ")

// moreRows is the line that stands for rows left out.
func moreRows(n int) string {
	return "… " + plural(n, "more row", "more rows")
}

// Display implements display.Displayer: HTML with a text/plain fallback.
func (t *Table) Display() display.Bundle {
	return display.NewBundle(t.String(), display.MIMEHTML, t.HTML())
}

// String returns the table as plain text: the caption, the header, a rule,
// the rows with aligned columns (numbers right-aligned) and the footer.
func (t *Table) String() string {
	l := t.layout()
	n := len(l.header)
	texts := func(r []Cell) []string {
		out := make([]string, n)
		for j, c := range r {
			s := oneLine.Replace(c.Text)
			switch {
			case c.Bold:
				s += " *"
			case l.hasBold[j] && s != "" && c.Right:
				s += "  " // keeps numbers aligned with the bold ones
			}
			out[j] = s
		}
		return out
	}
	header := texts(headerCells(l))
	body := make([][]string, len(l.rows))
	for i, r := range l.rows {
		body[i] = texts(r)
	}
	var footer []string
	if l.footer != nil {
		footer = texts(l.footer)
	}
	width := make([]int, n)
	for _, r := range append(append([][]string{header}, body...), footer) {
		for j, s := range r {
			width[j] = max(width[j], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	if t.Caption != "" {
		b.WriteString(t.Caption)
		b.WriteByte('\n')
	}
	writeLine := func(cells []string, right func(j int) bool) {
		var line strings.Builder
		for j, s := range cells {
			if j > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(s))
			if right(j) {
				line.WriteString(pad + s)
			} else {
				line.WriteString(s + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	rule := make([]string, n)
	for j := range rule {
		rule[j] = strings.Repeat("-", width[j])
	}
	left := func(int) bool { return false }
	writeLine(header, func(j int) bool { return l.right[j] })
	writeLine(rule, left)
	for i, r := range body {
		writeLine(r, func(j int) bool { return l.rows[i][j].Right })
	}
	if l.hidden > 0 {
		b.WriteString(moreRows(l.hidden))
		b.WriteByte('\n')
	}
	if footer != nil {
		writeLine(rule, left)
		writeLine(footer, func(j int) bool { return l.footer[j].Right })
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// headerCells returns the column headers as cells aligned like their columns.
func headerCells(l layout) []Cell {
	out := make([]Cell, len(l.header))
	for j, h := range l.header {
		out[j] = Cell{Text: h, Right: l.right[j]}
	}
	return out
}

// HTML returns the table as an HTML fragment: a <table> with a caption,
// header, body and footer, styled only by alignment (inline), so that the
// frontend's theme supplies colours and borders.
func (t *Table) HTML() string {
	l := t.layout()
	var b strings.Builder
	b.WriteString(`<table style="font-variant-numeric:tabular-nums">` + "\n")
	if t.Caption != "" {
		b.WriteString(`<caption style="text-align:left;white-space:nowrap">` + html.EscapeString(t.Caption) + "</caption>\n")
	}
	writeRow := func(tag, trStyle string, cells []Cell) {
		b.WriteString("<tr" + trStyle + ">")
		for _, c := range cells {
			align := "left"
			if c.Right {
				align = "right"
			}
			text := html.EscapeString(c.Text)
			if c.Bold {
				text = "<strong>" + text + "</strong>"
			}
			fmt.Fprintf(&b, `<%s style="text-align:%s">%s</%s>`, tag, align, text, tag)
		}
		b.WriteString("</tr>")
	}
	b.WriteString("<thead>")
	writeRow("th", "", headerCells(l))
	b.WriteString("</thead>\n<tbody>\n")
	for _, r := range l.rows {
		writeRow("td", "", r)
		b.WriteByte('\n')
	}
	if l.hidden > 0 {
		fmt.Fprintf(&b, `<tr><td colspan="%d" style="text-align:left">%s</td></tr>`+"\n", max(len(l.header), 1), moreRows(l.hidden))
	}
	b.WriteString("</tbody>\n")
	if l.footer != nil {
		b.WriteString("<tfoot>")
		writeRow("td", ` style="font-weight:bold"`, l.footer)
		b.WriteString("</tfoot>\n")
	}
	b.WriteString("</table>")
	return b.String()
}
