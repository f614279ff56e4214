package display

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
)

// HTML is an HTML fragment shown as rendered HTML, with its text (tags removed)
// as the plain-text fallback.
type HTML string

// Display implements Displayer.
func (h HTML) Display() Bundle {
	return NewBundle(htmlText(string(h)), MIMEHTML, string(h))
}

// Markdown is Markdown text, rendered by the frontend.
type Markdown string

// Display implements Displayer.
func (m Markdown) Display() Bundle {
	return NewBundle(string(m), MIMEMarkdown, string(m))
}

// SVG is an SVG document shown as a vector image.
type SVG string

// Display implements Displayer.
func (s SVG) Display() Bundle {
	return NewBundle("<SVG image>", MIMESVG, string(s))
}

// PNG is an encoded PNG image.
type PNG []byte

// Display implements Displayer.
func (p PNG) Display() Bundle {
	w, h, ok := pngSize(p)
	text := fmt.Sprintf("<PNG image, %d bytes>", len(p))
	if ok {
		text = fmt.Sprintf("<PNG image %dx%d>", w, h)
	}
	return NewBundle(text, MIMEPNG, []byte(p))
}

// pngSize reads the width and height from a PNG's IHDR chunk.
func pngSize(p []byte) (w, h int, ok bool) {
	if len(p) < 24 || string(p[1:4]) != "PNG" || string(p[12:16]) != "IHDR" {
		return 0, 0, false
	}
	be := func(b []byte) int { return int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3]) }
	return be(p[16:20]), be(p[20:24]), true
}

// LaTeX is a LaTeX formula or fragment, usually between $ … $ or $$ … $$.
type LaTeX string

// Display implements Displayer.
func (l LaTeX) Display() Bundle {
	return NewBundle(string(l), MIMELaTeX, string(l))
}

// Text is plain text shown as it is, without the quotes a string value gets.
type Text string

// Display implements Displayer.
func (t Text) Display() Bundle { return NewBundle(string(t)) }

// JSON returns a displayable value that frontends render as a JSON tree; v must
// be encodable by encoding/json. The plain-text form is the indented JSON, or
// the encoding error.
func JSON(v any) Displayer {
	return jsonValue{v}
}

type jsonValue struct{ v any }

// Display implements Displayer: the JSON tree, and the indented JSON as text.
func (j jsonValue) Display() Bundle {
	raw, err := json.MarshalIndent(j.v, "", "  ")
	if err != nil {
		return NewBundle(fmt.Sprintf("display.JSON: %v", err))
	}
	var generic any
	_ = json.Unmarshal(raw, &generic)
	return NewBundle(string(raw), MIMEJSON, generic)
}

var tagPattern = regexp.MustCompile(`<[^>]*>`)

// htmlText is a readable plain-text stand-in for an HTML fragment.
func htmlText(s string) string {
	t := strings.TrimSpace(html.UnescapeString(tagPattern.ReplaceAllString(s, "")))
	if t == "" {
		return "<HTML>"
	}
	return t
}
