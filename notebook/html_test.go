package notebook

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

func TestMarkdownToHTML(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"headings", "# One\n### Three *x* ###\n####### seven",
			"<h1 id=\"One\">One</h1>\n<h3 id=\"Three-x\">Three <em>x</em></h3>\n<p>####### seven</p>\n"},
		{"setext", "Big\n===\nSmall\n---", "<h1 id=\"Big\">Big</h1>\n<h2 id=\"Small\">Small</h2>\n"},
		{"paragraphs", "one\ntwo\n\nthree", "<p>one\ntwo</p>\n<p>three</p>\n"},
		{"emphasis", "*a* **b** _c_ __d__ ***e*** snake_case_name 2*3*4",
			"<p><em>a</em> <strong>b</strong> <em>c</em> <strong>d</strong> <strong><em>e</em></strong> snake_case_name 2<em>3</em>4</p>\n"},
		{"nested emphasis", "*a **b** c*", "<p><em>a <strong>b</strong> c</em></p>\n"},
		{"unclosed", "a * b ** c _d", "<p>a * b ** c _d</p>\n"},
		{"code span", "use `x < y && *p*` or ``a`b``", "<p>use <code>x &lt; y &amp;&amp; *p*</code> or <code>a`b</code></p>\n"},
		{"escapes", `\*not em\* a\_b \\`, "<p>*not em* a_b \\</p>\n"},
		{"raw html escaped", "<script>alert(1)</script> & <b>x</b>",
			"<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;</p>\n"},
		{"fenced", "```go\nif a < b {\n}\n```\nafter", "<pre><code class=\"language-go\">if a &lt; b {\n}\n</code></pre>\n<p>after</p>\n"},
		{"tilde fence unclosed", "~~~\ncode", "<pre><code>code\n</code></pre>\n"},
		{"indented code", "para\n\n    x := 1\n    y := 2\n\nend", "<p>para</p>\n<pre><code>x := 1\ny := 2\n</code></pre>\n<p>end</p>\n"},
		{"unordered list", "- a\n- b *c*\n* other", "<ul>\n<li>a</li>\n<li>b <em>c</em></li>\n</ul>\n<ul>\n<li>other</li>\n</ul>\n"},
		{"ordered list", "3. x\n4. y", "<ol start=\"3\">\n<li>x</li>\n<li>y</li>\n</ol>\n"},
		{"nested list", "1. a\n   - b\n   - c\n2. d", "<ol>\n<li>a\n<ul>\n<li>b</li>\n<li>c</li>\n</ul></li>\n<li>d</li>\n</ol>\n"},
		{"loose list", "- a\n\n- b\n\nafter", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<p>after</p>\n"},
		{"list after paragraph", "text\n- item", "<p>text</p>\n<ul>\n<li>item</li>\n</ul>\n"},
		{"quote", "> quoted *x*\n> more", "<blockquote>\n<p>quoted <em>x</em>\nmore</p>\n</blockquote>\n"},
		{"rule", "a\n\n---\n\n***", "<p>a</p>\n<hr>\n<hr>\n"},
		{"link", `[the *docs*](https://go.dev/doc "Go docs")`, "<p><a href=\"https://go.dev/doc\" title=\"Go docs\">the <em>docs</em></a></p>\n"},
		{"relative link", "[x](other.ipynb#sec)", "<p><a href=\"other.ipynb#sec\">x</a></p>\n"},
		{"unsafe link", "[click](javascript:alert(1)) [d](data:text/html,x) [v]( JavaScript:x)",
			"<p>click d v</p>\n"},
		{"autolink", "see <https://a.b/c?d=1&e=2>", "<p>see <a href=\"https://a.b/c?d=1&amp;e=2\">https://a.b/c?d=1&amp;e=2</a></p>\n"},
		{"image", `![a "plot"](plot.png)`, "<p><img src=\"plot.png\" alt=\"a &#34;plot&#34;\"></p>\n"},
		{"unsafe image", "![x](javascript:1)", "<p>x</p>\n"},
		{"hard break", "a  \nb\\\nc", "<p>a<br>\nb<br>\nc</p>\n"},
		{"table", "| a | b |\n|:--|--:|\n| `x\\|y` | 2 |\n| 3 |", "<table>\n<thead>\n<tr><th style=\"text-align: left\">a</th><th style=\"text-align: right\">b</th></tr>\n</thead>\n<tbody>\n<tr><td style=\"text-align: left\"><code>x|y</code></td><td style=\"text-align: right\">2</td></tr>\n<tr><td style=\"text-align: left\">3</td><td style=\"text-align: right\"></td></tr>\n</tbody>\n</table>\n"},
		{"math left as text", "$a_1 < b$", "<p>$a_1 &lt; b$</p>\n"},
	} {
		if got := MarkdownToHTML(tc.in); got != tc.want {
			t.Errorf("%s: MarkdownToHTML(%q)\n got %q\nwant %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestANSIToHTML(t *testing.T) {
	for _, tc := range [][2]string{
		{"plain <x>", "plain &lt;x&gt;"},
		{"\x1b[31mred\x1b[0m after", "<span style=\"color: #e75c58\">red</span> after"},
		{"\x1b[1;32mbold green\x1b[39m bold\x1b[m", "<span style=\"color: #00a250; font-weight: bold\">bold green</span><span style=\"font-weight: bold\"> bold</span>"},
		{"\x1b[38;5;196mx\x1b[48;2;1;2;3my", "<span style=\"color: rgb(255,0,0)\">x</span><span style=\"color: rgb(255,0,0); background-color: rgb(1,2,3)\">y</span>"},
		{"\x1b[2K\x1b]0;title\x07text\x1b[A", "text"},
		{"\x1b[94mbright", "<span style=\"color: #0065ca\">bright</span>"},
	} {
		if got := ansiToHTML(tc[0]); got != tc[1] {
			t.Errorf("ansiToHTML(%q)\n got %q\nwant %q", tc[0], got, tc[1])
		}
	}
}

func TestStripANSI(t *testing.T) {
	in := "\x1b[1;31mError\x1b[0m: \x1b]0;t\x07bad\x1b[2K <x>"
	if got, want := StripANSI(in), "Error: bad <x>"; got != want {
		t.Errorf("StripANSI(%q) = %q, want %q", in, got, want)
	}
}

func TestTerminalText(t *testing.T) {
	for _, tc := range [][2]string{
		{"10%\r50%\r100%\ndone\n", "100%\ndone\n"},
		{"abcdef\rXY", "XYcdef"},
		{"line\r\nnext", "line\nnext"},
		{"ab\bc", "ac"},
	} {
		if got := terminalText(tc[0]); got != tc[1] {
			t.Errorf("terminalText(%q) = %q, want %q", tc[0], got, tc[1])
		}
	}
}

func TestWriteHTML(t *testing.T) {
	svg := `<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>`
	nb := newNotebook(
		&Cell{Type: MarkdownCell, Source: "# My *Report*\n\nText with <script>bad()</script>.\n\n![att](attachment:a.png)",
			Attachments: map[string]any{"a.png": map[string]any{"image/png": base64.StdEncoding.EncodeToString(tinyPNG)}}},
		&Cell{Type: CodeCell, Source: "fmt.Println(\"<b>hi</b>\")\nx", ExecutionCount: 1, Outputs: []*Output{
			stream("stdout", "<b>hi</b> & bye\nstep 1\rstep 2\n"),
			{Type: ExecuteResultOutput, ExecutionCount: 1, Data: map[string]any{"text/plain": "42 <int>"}},
		}},
		&Cell{Type: CodeCell, Source: "plot()", ExecutionCount: 2, Outputs: []*Output{
			{Type: DisplayDataOutput, Data: map[string]any{"text/plain": "<PNG>", "image/png": "iVBORw0KGgoAAAANSUhE\nUgAAAAEAAAABCAIAAACQd1Pe"},
				Metadata: map[string]any{"image/png": map[string]any{"width": 300}}},
			{Type: DisplayDataOutput, Data: map[string]any{"text/plain": "<SVG>", "image/svg+xml": svg}},
			{Type: DisplayDataOutput, Data: map[string]any{"text/plain": "table", "text/html": "<table><tr><td>1</td></tr></table>"}},
			{Type: DisplayDataOutput, Data: map[string]any{"text/plain": "md", "text/markdown": "**bold**"}},
		}},
		&Cell{Type: CodeCell, Source: "panic(1)", ExecutionCount: 3, Outputs: []*Output{
			errorOut("panic", "1", "\x1b[31mpanic\x1b[0m: 1 <here>", "\tcell[3]:1"),
		}},
		&Cell{Type: RawCell, Source: "<p>raw html</p>", Metadata: map[string]any{"format": "text/html"}},
		&Cell{Type: RawCell, Source: "\\LaTeX only", Metadata: map[string]any{"format": "text/latex"}},
	)
	nb.EnsureIDs()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, nb, HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	contains := []string{
		"<title>My Report</title>",
		"<h1 id=\"My-Report\">My <em>Report</em></h1>",
		"Text with &lt;script&gt;bad()&lt;/script&gt;.",
		// the attachment becomes a data URI
		"<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1Pe\" alt=\"att\">",
		"<div class=\"prompt in\">In&nbsp;[1]:</div>",
		"<code class=\"language-go\">fmt.Println(&#34;&lt;b&gt;hi&lt;/b&gt;&#34;)\nx</code>",
		"<div class=\"output stream stdout\"><pre>&lt;b&gt;hi&lt;/b&gt; &amp; bye\nstep 2\n</pre></div>",
		"<div class=\"prompt out\">Out[1]:</div>",
		"<pre>42 &lt;int&gt;</pre>",
		// a base64 PNG split over lines is joined, and its width kept
		"<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1Pe\" width=\"300\" alt=\"\">",
		"<img src=\"data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(svg)) + "\" alt=\"\">",
		"<div class=\"output display_data\"><table><tr><td>1</td></tr></table></div>",
		"<div class=\"markdown\"><p><strong>bold</strong></p>\n</div>",
		"<pre><span style=\"color: #e75c58\">panic</span>: 1 &lt;here&gt;\n\tcell[3]:1</pre>",
		"<p>raw html</p>",
		"id=\"cell-" + nb.Cells[1].ID + "\"",
	}
	for _, want := range contains {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, banned := range []string{"\x1b", "<script", "<link", "LaTeX only", "src=\"http", "step 1"} {
		if strings.Contains(page, banned) {
			t.Errorf("page contains %q", banned)
		}
	}
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(page, "</html>\n") {
		t.Error("page is not a complete HTML document")
	}
	// Every URL the page refers to is inline.
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "data:") {
			t.Errorf("page refers to %q", m[1])
		}
	}
}

func TestDataURIRejectsBadBase64(t *testing.T) {
	if got := dataURI("image/png", `abc"onerror="x`); got != "" {
		t.Errorf("dataURI kept invalid base64: %q", got)
	}
	if got := dataURI("image/png", 42); got != "" {
		t.Errorf("dataURI of a number: %q", got)
	}
}
