package notebook

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"
)

// HTMLOptions configures WriteHTML.
type HTMLOptions struct {
	// Title is the page title; "" takes the notebook's first heading, or
	// "Notebook".
	Title string
}

// WriteHTML renders the notebook as one self-contained HTML page: styles
// inline, no scripts and nothing loaded from elsewhere. Markdown cells are
// rendered (raw HTML in them is escaped), code cells show their source with
// In [n] prompts and their outputs: streams and errors as preformatted text
// (HTML escaped, ANSI colours kept as styles, \r progress lines collapsed),
// execute results with Out[n] prompts, and each rich output in the first of
// its types this renders: text/html (included as it is — it came from the
// notebook's own code), text/markdown, image/svg+xml, image/png, image/jpeg,
// image/gif (inlined as data: URIs), text/latex, application/json,
// text/plain. Raw cells appear only when their format is HTML, as in
// nbconvert.
func WriteHTML(w io.Writer, nb *Notebook, opts HTMLOptions) error {
	bw := bufio.NewWriter(w)
	title := opts.Title
	if title == "" {
		title = firstHeading(nb)
	}
	fmt.Fprintf(bw, pageHead, html.EscapeString(title), pageStyle)
	for _, c := range nb.Cells {
		writeCell(bw, c)
	}
	bw.WriteString(pageFoot)
	return bw.Flush()
}

const pageHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="graft">
<title>%s</title>
<style>%s</style>
</head>
<body>
<main class="notebook">
`

const pageFoot = `</main>
</body>
</html>
`

const pageStyle = `
body { margin: 0; background: #fff; color: #1f2328; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.notebook { max-width: 1000px; margin: 0 auto; padding: 24px 16px 64px; }
.cell { display: grid; grid-template-columns: 80px minmax(0, 1fr); column-gap: 8px; margin: 10px 0; }
.cell > * { grid-column: 2; }
.prompt { grid-column: 1; font: 13px/1.6 "SFMono-Regular", Menlo, Consolas, monospace; text-align: right; white-space: nowrap; padding-top: 6px; }
.prompt.in { color: #303f9f; }
.prompt.out { color: #d84315; }
pre, code { font-family: "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 13px; }
pre { margin: 0; white-space: pre-wrap; word-wrap: break-word; tab-size: 4; }
.source { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; padding: 6px 10px; }
.output { padding: 4px 0 4px 10px; overflow-x: auto; }
.stream.stderr { background: #fff5f5; }
.error pre { background: #fff0f0; padding: 6px 10px; border-left: 3px solid #cf222e; }
.output img { max-width: 100%; height: auto; }
.output table, .markdown table { border-collapse: collapse; }
.output th, .output td, .markdown th, .markdown td { border: 1px solid #d0d7de; padding: 3px 8px; }
.markdown { padding: 0 10px; }
.markdown pre { background: #f6f8fa; padding: 8px 10px; border-radius: 4px; }
.markdown code { background: #f6f8fa; padding: 1px 4px; border-radius: 3px; }
.markdown pre code { background: none; padding: 0; }
.markdown blockquote { margin: 0; padding: 0 12px; color: #57606a; border-left: 3px solid #d0d7de; }
.markdown img { max-width: 100%; }
`

// firstHeading is the text of the first Markdown heading, or "Notebook".
func firstHeading(nb *Notebook) string {
	for _, c := range nb.Cells {
		if c.Type != MarkdownCell {
			continue
		}
		for _, line := range strings.Split(c.Source, "\n") {
			if m := mdHeading.FindStringSubmatch(line); m != nil && strings.TrimSpace(m[2]) != "" {
				return stripMarkup(strings.TrimSpace(m[2]))
			}
		}
	}
	return "Notebook"
}

var markup = regexp.MustCompile("[*_`]")

func stripMarkup(s string) string { return markup.ReplaceAllString(s, "") }

func cellAnchor(c *Cell) string {
	return " id=\"cell-" + html.EscapeString(c.ID) + "\""
}

func writeCell(w *bufio.Writer, c *Cell) {
	switch c.Type {
	case MarkdownCell:
		fmt.Fprintf(w, "<div class=\"cell markdown\"%s>\n<div>\n%s</div>\n</div>\n", cellAnchor(c), renderMarkdown(c.Source, c.Attachments))
	case RawCell:
		format, _ := c.Metadata["format"].(string)
		if format == "" {
			format, _ = c.Metadata["raw_mimetype"].(string)
		}
		if format == "text/html" || format == "html" {
			fmt.Fprintf(w, "<div class=\"cell raw\"%s>\n%s\n</div>\n", cellAnchor(c), c.Source)
		}
	case CodeCell:
		fmt.Fprintf(w, "<div class=\"cell code\"%s>\n", cellAnchor(c))
		fmt.Fprintf(w, "<div class=\"prompt in\">In&nbsp;[%s]:</div>\n", promptNumber(c.ExecutionCount))
		fmt.Fprintf(w, "<pre class=\"source\"><code class=\"language-go\">%s</code></pre>\n", html.EscapeString(c.Source))
		for _, o := range c.Outputs {
			writeOutput(w, o)
		}
		w.WriteString("</div>\n")
	}
}

func promptNumber(n int) string {
	if n <= 0 {
		return "&nbsp;"
	}
	return fmt.Sprint(n)
}

func writeOutput(w *bufio.Writer, o *Output) {
	switch o.Type {
	case StreamOutput:
		fmt.Fprintf(w, "<div class=\"output stream %s\"><pre>%s</pre></div>\n",
			html.EscapeString(o.Name), ansiToHTML(terminalText(o.Text)))
	case ErrorOutput:
		tb := strings.Join(o.Traceback, "\n")
		if len(o.Traceback) == 0 {
			tb = o.EName + ": " + o.EValue
		}
		fmt.Fprintf(w, "<div class=\"output error\"><pre>%s</pre></div>\n", ansiToHTML(tb))
	case ExecuteResultOutput:
		fmt.Fprintf(w, "<div class=\"prompt out\">Out[%s]:</div>\n", promptNumber(o.ExecutionCount))
		fmt.Fprintf(w, "<div class=\"output execute_result\">%s</div>\n", renderBundle(o.Data, o.Metadata))
	case DisplayDataOutput:
		fmt.Fprintf(w, "<div class=\"output display_data\">%s</div>\n", renderBundle(o.Data, o.Metadata))
	}
}

// renderBundle renders the richest MIME type of a bundle this page can show.
func renderBundle(data, metadata map[string]any) string {
	str := func(mime string) (string, bool) {
		switch v := data[mime].(type) {
		case string:
			return v, true
		case []any:
			s, err := multiline(v, mime)
			return s, err == nil
		}
		return "", false
	}
	if s, ok := str("text/html"); ok {
		return s
	}
	if s, ok := str("text/markdown"); ok {
		return "<div class=\"markdown\">" + MarkdownToHTML(s) + "</div>"
	}
	for _, mime := range []string{"image/svg+xml", "image/png", "image/jpeg", "image/gif"} {
		if v, ok := data[mime]; ok {
			if uri := dataURI(mime, v); uri != "" {
				return "<img src=\"" + uri + "\"" + imageSize(metadata, mime) + " alt=\"\">"
			}
		}
	}
	if s, ok := str("text/latex"); ok {
		return "<pre class=\"latex\">" + html.EscapeString(s) + "</pre>"
	}
	if v, ok := data["application/json"]; ok {
		if raw, err := json.MarshalIndent(v, "", "  "); err == nil {
			return "<pre class=\"json\">" + html.EscapeString(string(raw)) + "</pre>"
		}
	}
	if s, ok := str("text/plain"); ok {
		return "<pre>" + ansiToHTML(s) + "</pre>"
	}
	return ""
}

// imageSize returns width and height attributes from an output's metadata
// ({"image/png": {"width": 300, "height": 200}} or top-level width/height).
func imageSize(metadata map[string]any, mime string) string {
	m, _ := metadata[mime].(map[string]any)
	if m == nil {
		m = metadata
	}
	var attrs string
	for _, key := range []string{"width", "height"} {
		switch v := m[key].(type) {
		case json.Number:
			if f, err := v.Float64(); err == nil && f > 0 {
				attrs += fmt.Sprintf(" %s=\"%g\"", key, f)
			}
		case float64:
			if v > 0 {
				attrs += fmt.Sprintf(" %s=\"%g\"", key, v)
			}
		case int:
			if v > 0 {
				attrs += fmt.Sprintf(" %s=\"%d\"", key, v)
			}
		}
	}
	return attrs
}

var base64Text = regexp.MustCompile(`^[A-Za-z0-9+/]*={0,2}$`)

// dataURI returns a data: URI for an image output value: the base64 text
// notebooks store for binary images (whitespace removed), or the SVG text,
// base64-encoded. It returns "" for a value that is not valid.
func dataURI(mime string, v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []any:
		var err error
		if s, err = multiline(x, mime); err != nil {
			return ""
		}
	case []byte:
		return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(x)
	default:
		return ""
	}
	if mime == "image/svg+xml" {
		return "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(s))
	}
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if s == "" || !base64Text.MatchString(s) {
		return ""
	}
	return "data:" + mime + ";base64," + s
}
