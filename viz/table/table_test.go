package table

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/graftml/graft/display"
)

func mustAdd(t *testing.T, tb *Table, cells ...any) {
	t.Helper()
	if err := tb.AddRow(cells...); err != nil {
		t.Fatal(err)
	}
}

func TestTextAndHTMLExact(t *testing.T) {
	tb := New("name", "shape", "params")
	tb.Thousands = true
	tb.Caption = "a model"
	mustAdd(t, tb, "fc.weight", "(3,4)", 12)
	mustAdd(t, tb, "embed.weight", "(50000,24)", 1200000)
	mustAdd(t, tb, "scale", 0.123456, -2.5)
	if err := tb.SetFooter("total", "", 1200012); err != nil {
		t.Fatal(err)
	}
	wantText := `a model
name          shape          params
------------  ----------  ---------
fc.weight     (3,4)              12
embed.weight  (50000,24)  1,200,000
scale             0.1235       -2.5
------------  ----------  ---------
total                     1,200,012`
	if got := tb.String(); got != wantText {
		t.Errorf("text:\n%s\nwant:\n%s", got, wantText)
	}
	wantHTML := `<table style="font-variant-numeric:tabular-nums">
<caption style="text-align:left;white-space:nowrap">a model</caption>
<thead><tr><th style="text-align:left">name</th><th style="text-align:left">shape</th><th style="text-align:right">params</th></tr></thead>
<tbody>
<tr><td style="text-align:left">fc.weight</td><td style="text-align:left">(3,4)</td><td style="text-align:right">12</td></tr>
<tr><td style="text-align:left">embed.weight</td><td style="text-align:left">(50000,24)</td><td style="text-align:right">1,200,000</td></tr>
<tr><td style="text-align:left">scale</td><td style="text-align:right">0.1235</td><td style="text-align:right">-2.5</td></tr>
</tbody>
<tfoot><tr style="font-weight:bold"><td style="text-align:left">total</td><td style="text-align:left"></td><td style="text-align:right">1,200,012</td></tr></tfoot>
</table>`
	if got := tb.HTML(); got != wantHTML {
		t.Errorf("html:\n%s\nwant:\n%s", got, wantHTML)
	}
	b := display.Render(tb)
	if b.Text() != wantText || b.Data[display.MIMEHTML] != wantHTML {
		t.Errorf("Display bundle differs from String/HTML: %v", b.Data)
	}
}

func TestUserTextIsEscapedInHTML(t *testing.T) {
	evil := `<script>alert(1)</script>`
	tb := New(evil, `a&b "q"`)
	tb.Caption = evil
	mustAdd(t, tb, evil, Cell{Text: "<b>x</b>", Bold: true})
	got := tb.HTML()
	if strings.Contains(got, "<script>") || strings.Contains(got, "<b>") {
		t.Fatalf("unescaped user text in:\n%s", got)
	}
	for _, want := range []string{
		`<caption style="text-align:left;white-space:nowrap">&lt;script&gt;alert(1)&lt;/script&gt;</caption>`,
		`<th style="text-align:left">&lt;script&gt;alert(1)&lt;/script&gt;</th>`,
		`<th style="text-align:left">a&amp;b &#34;q&#34;</th>`,
		`<td style="text-align:left">&lt;script&gt;alert(1)&lt;/script&gt;</td>`,
		`<td style="text-align:left"><strong>&lt;b&gt;x&lt;/b&gt;</strong></td>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in:\n%s", want, got)
		}
	}
	// The plain text shows the text as it is.
	if !strings.Contains(tb.String(), evil) {
		t.Errorf("text lost the cell: %s", tb.String())
	}
}

func TestRowWidthErrors(t *testing.T) {
	tb := New("a", "b", "c")
	mustAdd(t, tb, 1, 2, 3)
	mustAdd(t, tb, 1, 2, 3)
	err := tb.AddRow(1, 2, 3, 4)
	if err == nil || err.Error() != "table: row 3 has 4 cells, want 3 columns" {
		t.Errorf("got %v", err)
	}
	err = tb.AddRow("x")
	if err == nil || err.Error() != "table: row 3 has 1 cell, want 3 columns" {
		t.Errorf("got %v", err)
	}
	if tb.Len() != 2 {
		t.Errorf("a refused row was added: %d rows", tb.Len())
	}
	err = tb.SetFooter("total", 1)
	if err == nil || err.Error() != "table: footer has 2 cells, want 3 columns" {
		t.Errorf("got %v", err)
	}
	one := New("only")
	if err := one.AddRow(); err == nil || err.Error() != "table: row 1 has 0 cells, want 1 column" {
		t.Errorf("got %v", err)
	}
}

func TestMaxRowsSummarisesTheRest(t *testing.T) {
	tb := New("step", "loss")
	for i := range 5 {
		mustAdd(t, tb, i, 1/float64(i+1))
	}
	tb.MaxRows = 2
	wantText := `step  loss
----  ----
   0     1
   1   0.5
… 3 more rows`
	if got := tb.String(); got != wantText {
		t.Errorf("text:\n%s\nwant:\n%s", got, wantText)
	}
	if got := tb.HTML(); !strings.Contains(got, `<tr><td colspan="2" style="text-align:left">… 3 more rows</td></tr>`) ||
		strings.Count(got, "<tr>") != 4 { // header, two rows, the summary line
		t.Errorf("html:\n%s", got)
	}
	tb.MaxRows = 4
	if got := tb.String(); !strings.HasSuffix(got, "\n… 1 more row") {
		t.Errorf("text:\n%s", got)
	}
	tb.MaxRows = 0
	if got := tb.String(); strings.Contains(got, "more row") || !strings.HasSuffix(got, "\n   4     0.2") {
		t.Errorf("all rows should show:\n%s", got)
	}
}

func TestCellFormatting(t *testing.T) {
	tb := New("v")
	cases := []struct {
		v     any
		text  string
		right bool
	}{
		{1234567, "1234567", true},
		{-42, "-42", true},
		{int64(math.MinInt64), "-9223372036854775808", true},
		{uint64(math.MaxUint64), "18446744073709551615", true},
		{3.14159265, "3.142", true},
		{float32(0.1), "0.1", true},
		{1e-7, "1e-07", true},
		{123456.0, "1.235e+05", true},
		{math.NaN(), "NaN", true},
		{math.Inf(-1), "-Inf", true},
		{true, "true", false},
		{nil, "", false},
		{errors.New("boom"), "boom", false},
		{1500 * time.Millisecond, "1.5s", false},
		{[]int{1, 2}, "[1 2]", false},
		{Cell{Text: "x", Right: true}, "x", true},
	}
	for _, c := range cases {
		got := tb.format(c.v)
		if got.Text != c.text || got.Right != c.right {
			t.Errorf("format(%#v) = %+v, want %q right=%v", c.v, got, c.text, c.right)
		}
	}
	tb.Thousands = true
	for v, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", -1234567: "-1,234,567", 123456: "123,456"} {
		if got := tb.format(v).Text; got != want {
			t.Errorf("thousands %d: %q, want %q", v, got, want)
		}
		if got := GroupDigits(v); got != want {
			t.Errorf("GroupDigits(%d) = %q, want %q", v, got, want)
		}
	}
	tb.Digits = 2
	if got := tb.format(3.14159).Text; got != "3.1" {
		t.Errorf("2 digits: %q", got)
	}
	tb.Digits = -1
	if got := tb.format(3.14159).Text; got != "3.14159" {
		t.Errorf("exact digits: %q", got)
	}
}

func TestTextKeepsCellsOnOneLineAndBoldAligned(t *testing.T) {
	tb := New("name", "score")
	mustAdd(t, tb, "two\nlines", Cell{Text: "0.5", Right: true, Bold: true})
	mustAdd(t, tb, "tab\there", Cell{Text: "0.25", Right: true})
	want := `name       score
---------  -------
two lines    0.5 *
tab here    0.25`
	if got := tb.String(); got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
}

func TestEmptyTable(t *testing.T) {
	tb := New("a", "bb")
	want := "a  bb\n-  --"
	if got := tb.String(); got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	wantHTML := `<table style="font-variant-numeric:tabular-nums">
<thead><tr><th style="text-align:left">a</th><th style="text-align:left">bb</th></tr></thead>
<tbody>
</tbody>
</table>`
	if got := tb.HTML(); got != wantHTML {
		t.Errorf("html:\n%s\nwant:\n%s", got, wantHTML)
	}
	if tb.SetCaption("c") != tb || tb.Caption != "c" {
		t.Error("SetCaption")
	}
	if err := tb.SetFooter(); err != nil {
		t.Error(err)
	}
}

// BenchmarkDisplay1000Rows renders a 1,000-row, 4-column table as HTML and text.
func BenchmarkDisplay1000Rows(b *testing.B) {
	tb := New("name", "shape", "params", "trainable")
	tb.Thousands = true
	for i := range 1000 {
		_ = tb.AddRow("layers.weight", "(768,768)", 589824+i, i%2 == 0)
	}
	for b.Loop() {
		tb.Display()
	}
}
