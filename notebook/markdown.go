package notebook

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"
)

// MarkdownToHTML renders the Markdown notebooks use — ATX and setext
// headings, paragraphs, emphasis, code spans, fenced and indented code
// blocks, ordered and unordered (nested) lists, block quotes, rules, pipe
// tables, links, images and hard line breaks — as HTML. Everything else,
// raw HTML included, is escaped and shown as text, so the result is safe to
// embed in a page. Links and images only keep URLs with a harmless scheme
// (http, https, mailto, ftp, relative); images may also be data:image URIs.
func MarkdownToHTML(src string) string {
	return renderMarkdown(src, nil)
}

// renderMarkdown renders src; attachments (a cell's name → MIME bundle)
// resolve image links written as attachment:NAME.
func renderMarkdown(src string, attachments map[string]any) string {
	src = strings.ReplaceAll(strings.ReplaceAll(src, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(strings.ReplaceAll(src, "\t", "    "), "\n")
	var sb strings.Builder
	md := mdRenderer{attachments: attachments}
	md.blocks(&sb, lines)
	return sb.String()
}

type mdRenderer struct {
	attachments map[string]any
}

var (
	mdHeading    = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	mdFence      = regexp.MustCompile("^( {0,3})(`{3,}|~{3,})[ \t]*([^`]*)$")
	mdRule       = regexp.MustCompile(`^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$`)
	mdSetext     = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
	mdListItem   = regexp.MustCompile(`^( {0,3})([-*+]|(\d{1,9})[.)])( +|$)`)
	mdQuote      = regexp.MustCompile(`^ {0,3}> ?`)
	mdTableDelim = regexp.MustCompile(`^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$`)
)

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// indentOf counts leading spaces.
func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// startsBlock reports whether line begins a block that interrupts a paragraph.
func startsBlock(line string) bool {
	return mdHeading.MatchString(line) || mdFence.MatchString(line) || mdRule.MatchString(line) ||
		mdQuote.MatchString(line) || mdListItem.MatchString(line) && !isBlank(mdListItem.ReplaceAllString(line, ""))
}

// blocks renders a sequence of lines as block elements.
func (md *mdRenderer) blocks(sb *strings.Builder, lines []string) {
	for i := 0; i < len(lines); {
		line := lines[i]
		switch {
		case isBlank(line):
			i++
		case mdFence.MatchString(line):
			i = md.fenced(sb, lines, i)
		case mdHeading.MatchString(line):
			m := mdHeading.FindStringSubmatch(line)
			md.heading(sb, len(m[1]), m[2])
			i++
		case mdRule.MatchString(line):
			sb.WriteString("<hr>\n")
			i++
		case mdQuote.MatchString(line):
			var inner []string
			for ; i < len(lines) && !isBlank(lines[i]); i++ {
				inner = append(inner, mdQuote.ReplaceAllString(lines[i], ""))
			}
			sb.WriteString("<blockquote>\n")
			md.blocks(sb, inner)
			sb.WriteString("</blockquote>\n")
		case mdListItem.MatchString(line):
			i = md.list(sb, lines, i)
		case indentOf(line) >= 4:
			var code []string
			for ; i < len(lines) && (isBlank(lines[i]) || indentOf(lines[i]) >= 4); i++ {
				code = append(code, strings.TrimPrefix(lines[i], "    "))
			}
			for len(code) > 0 && isBlank(code[len(code)-1]) {
				code = code[:len(code)-1]
			}
			sb.WriteString("<pre><code>" + html.EscapeString(strings.Join(code, "\n")+"\n") + "</code></pre>\n")
		case i+1 < len(lines) && strings.Contains(line, "|") && mdTableDelim.MatchString(lines[i+1]) && strings.Contains(lines[i+1], "-"):
			i = md.table(sb, lines, i)
		default:
			i = md.paragraph(sb, lines, i)
		}
	}
}

func (md *mdRenderer) heading(sb *strings.Builder, level int, text string) {
	text = strings.TrimSpace(text)
	fmt.Fprintf(sb, "<h%d id=\"%s\">%s</h%d>\n", level, html.EscapeString(slug(text)), md.inline(text), level)
}

// slug makes a heading's anchor the way Jupyter does: spaces become dashes.
func slug(text string) string {
	var sb strings.Builder
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			sb.WriteRune(r)
		case unicode.IsSpace(r):
			sb.WriteByte('-')
		}
	}
	return sb.String()
}

func (md *mdRenderer) fenced(sb *strings.Builder, lines []string, i int) int {
	m := mdFence.FindStringSubmatch(lines[i])
	indent, fence, info := len(m[1]), m[2], strings.TrimSpace(m[3])
	var code []string
	i++
	for ; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if indentOf(lines[i]) < 4 && strings.HasPrefix(t, fence[:3]) && strings.Trim(t, fence[:1]) == "" && len(t) >= len(fence) {
			i++
			break
		}
		l := lines[i]
		for k := 0; k < indent && strings.HasPrefix(l, " "); k++ {
			l = l[1:]
		}
		code = append(code, l)
	}
	class := ""
	if lang, _, _ := strings.Cut(info, " "); lang != "" {
		class = fmt.Sprintf(" class=\"language-%s\"", html.EscapeString(lang))
	}
	body := strings.Join(code, "\n")
	if len(code) > 0 {
		body += "\n"
	}
	fmt.Fprintf(sb, "<pre><code%s>%s</code></pre>\n", class, html.EscapeString(body))
	return i
}

func (md *mdRenderer) paragraph(sb *strings.Builder, lines []string, i int) int {
	var para []string
	for ; i < len(lines); i++ {
		line := lines[i]
		if len(para) > 0 && mdSetext.MatchString(line) {
			level := 1
			if strings.TrimSpace(line)[0] == '-' {
				level = 2
			}
			md.heading(sb, level, strings.Join(trimAll(para), " "))
			return i + 1
		}
		if isBlank(line) || len(para) > 0 && startsBlock(line) {
			break
		}
		para = append(para, line)
	}
	sb.WriteString("<p>" + md.inlineLines(para) + "</p>\n")
	return i
}

func trimAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

// inlineLines renders a paragraph's lines, turning a line ending in two
// spaces or a backslash into a hard break.
func (md *mdRenderer) inlineLines(lines []string) string {
	var sb strings.Builder
	for k, l := range lines {
		l = strings.TrimLeft(l, " ")
		brk := false
		if k < len(lines)-1 {
			if strings.HasSuffix(l, "  ") {
				brk = true
			} else if strings.HasSuffix(l, "\\") && !strings.HasSuffix(l, "\\\\") {
				brk, l = true, l[:len(l)-1]
			}
		}
		sb.WriteString(md.inline(strings.TrimRight(l, " ")))
		if brk {
			sb.WriteString("<br>")
		}
		if k < len(lines)-1 {
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// list renders a list starting at lines[i] and returns the index after it.
func (md *mdRenderer) list(sb *strings.Builder, lines []string, i int) int {
	first := mdListItem.FindStringSubmatch(lines[i])
	ordered := first[3] != ""
	marker := first[2][len(first[2])-1:]
	if ordered {
		if first[3] != "1" {
			fmt.Fprintf(sb, "<ol start=\"%s\">\n", strings.TrimLeft(first[3], "0"))
		} else {
			sb.WriteString("<ol>\n")
		}
	} else {
		sb.WriteString("<ul>\n")
	}
	for i < len(lines) {
		m := mdListItem.FindStringSubmatch(lines[i])
		if m == nil || (m[3] != "") != ordered || m[2][len(m[2])-1:] != marker {
			break
		}
		content := indentOf(lines[i]) + len(m[2]) + len(m[4])
		if len(m[4]) > 4 { // a code block inside the item starts one space after the marker
			content = indentOf(lines[i]) + len(m[2]) + 1
		}
		item := []string{lines[i][min(content, len(lines[i])):]}
		i++
		for i < len(lines) {
			l := lines[i]
			if isBlank(l) {
				// The item goes on after a blank line only if indented.
				j := i
				for j < len(lines) && isBlank(lines[j]) {
					j++
				}
				if j < len(lines) && indentOf(lines[j]) >= content {
					item = append(item, "")
					i = j
					continue
				}
				break
			}
			if indentOf(l) >= content {
				item = append(item, l[content:])
				i++
				continue
			}
			if mdListItem.MatchString(l) || startsBlock(l) {
				break
			}
			item = append(item, l) // lazy continuation of the item's paragraph
			i++
		}
		var inner strings.Builder
		md.blocks(&inner, item)
		s := inner.String()
		if strings.HasPrefix(s, "<p>") && strings.Count(s, "<p>") == 1 && strings.HasSuffix(s, "</p>\n") {
			s = strings.TrimSuffix(strings.TrimPrefix(s, "<p>"), "</p>\n")
		} else if strings.HasPrefix(s, "<p>") {
			if k := strings.Index(s, "</p>\n"); k >= 0 && !strings.Contains(s[:k], "\n<") {
				s = s[3:k] + "\n" + s[k+5:]
			}
		}
		sb.WriteString("<li>" + strings.TrimSuffix(s, "\n") + "</li>\n")
		// Blank lines between items keep the list going.
		j := i
		for j < len(lines) && isBlank(lines[j]) {
			j++
		}
		if j < len(lines) && j > i && mdListItem.MatchString(lines[j]) {
			i = j
		}
	}
	if ordered {
		sb.WriteString("</ol>\n")
	} else {
		sb.WriteString("</ul>\n")
	}
	return i
}

// table renders a pipe table whose header is lines[i].
func (md *mdRenderer) table(sb *strings.Builder, lines []string, i int) int {
	header := tableCells(lines[i])
	delims := tableCells(lines[i+1])
	align := make([]string, len(header))
	for k := range align {
		if k >= len(delims) {
			break
		}
		d := strings.TrimSpace(delims[k])
		switch {
		case strings.HasPrefix(d, ":") && strings.HasSuffix(d, ":"):
			align[k] = " style=\"text-align: center\""
		case strings.HasSuffix(d, ":"):
			align[k] = " style=\"text-align: right\""
		case strings.HasPrefix(d, ":"):
			align[k] = " style=\"text-align: left\""
		}
	}
	sb.WriteString("<table>\n<thead>\n<tr>")
	for k, h := range header {
		fmt.Fprintf(sb, "<th%s>%s</th>", align[k], md.inline(strings.TrimSpace(h)))
	}
	sb.WriteString("</tr>\n</thead>\n<tbody>\n")
	for i += 2; i < len(lines) && !isBlank(lines[i]) && !startsBlock(lines[i]); i++ {
		row := tableCells(lines[i])
		sb.WriteString("<tr>")
		for k := range header {
			cell := ""
			if k < len(row) {
				cell = strings.TrimSpace(row[k])
			}
			fmt.Fprintf(sb, "<td%s>%s</td>", align[k], md.inline(cell))
		}
		sb.WriteString("</tr>\n")
	}
	sb.WriteString("</tbody>\n</table>\n")
	return i
}

// tableCells splits a table row at unescaped pipes outside code spans.
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	if strings.HasSuffix(line, "|") && !strings.HasSuffix(line, "\\|") {
		line = line[:len(line)-1]
	}
	var cells []string
	var cur strings.Builder
	inCode := false
	for k := 0; k < len(line); k++ {
		c := line[k]
		switch {
		case c == '\\' && k+1 < len(line) && line[k+1] == '|':
			cur.WriteByte('|')
			k++
		case c == '`':
			inCode = !inCode
			cur.WriteByte(c)
		case c == '|' && !inCode:
			cells = append(cells, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(cells, cur.String())
}

// inline renders inline Markdown: escapes, code spans, links, images,
// autolinks, emphasis; everything else is escaped text.
func (md *mdRenderer) inline(s string) string {
	var sb strings.Builder
	md.inlineTo(&sb, s)
	return sb.String()
}

const mdPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

func (md *mdRenderer) inlineTo(sb *strings.Builder, s string) {
	text := 0 // start of pending plain text
	flush := func(end int) {
		sb.WriteString(html.EscapeString(s[text:end]))
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte(mdPunct, s[i+1]) >= 0:
			flush(i)
			sb.WriteString(html.EscapeString(s[i+1 : i+2]))
			i += 2
			text = i
			continue
		case c == '`':
			if end, code, ok := codeSpan(s, i); ok {
				flush(i)
				sb.WriteString("<code>" + html.EscapeString(code) + "</code>")
				i, text = end, end
				continue
			}
			// An unmatched run of backticks is literal text.
			j := i
			for j < len(s) && s[j] == '`' {
				j++
			}
			i = j
			continue
		case c == '!' && i+1 < len(s) && s[i+1] == '[':
			if end, label, url, title, ok := linkAt(s, i+1); ok {
				flush(i)
				md.image(sb, label, url, title)
				i, text = end, end
				continue
			}
		case c == '[':
			if end, label, url, title, ok := linkAt(s, i); ok {
				flush(i)
				md.link(sb, label, url, title)
				i, text = end, end
				continue
			}
		case c == '<':
			if end := strings.IndexByte(s[i:], '>'); end > 0 {
				u := s[i+1 : i+end]
				if !strings.ContainsAny(u, " <") && (strings.Contains(u, "://") || strings.HasPrefix(strings.ToLower(u), "mailto:")) && safeURL(u, false) {
					flush(i)
					fmt.Fprintf(sb, "<a href=\"%s\">%s</a>", html.EscapeString(u), html.EscapeString(u))
					i += end + 1
					text = i
					continue
				}
			}
		case c == '*' || c == '_':
			if end, inner, strong, ok := emphasisAt(s, i); ok {
				flush(i)
				tag := "em"
				if strong {
					tag = "strong"
				}
				sb.WriteString("<" + tag + ">")
				md.inlineTo(sb, inner)
				sb.WriteString("</" + tag + ">")
				i, text = end, end
				continue
			}
			// Skip the whole delimiter run so that "**" does not reopen as "*".
			j := i
			for j < len(s) && s[j] == c {
				j++
			}
			i = j
			continue
		}
		i++
	}
	flush(len(s))
}

// codeSpan finds the code span whose opening backtick run starts at s[i].
func codeSpan(s string, i int) (end int, code string, ok bool) {
	n := 0
	for i+n < len(s) && s[i+n] == '`' {
		n++
	}
	run := strings.Repeat("`", n)
	for j := i + n; j < len(s); {
		k := strings.Index(s[j:], run)
		if k < 0 {
			return 0, "", false
		}
		k += j
		// The closing run must be exactly n backticks long.
		m := k
		for m < len(s) && s[m] == '`' {
			m++
		}
		if m-k == n {
			code = s[i+n : k]
			if len(code) >= 2 && code[0] == ' ' && code[len(code)-1] == ' ' && strings.Trim(code, " ") != "" {
				code = code[1 : len(code)-1]
			}
			return m, code, true
		}
		j = m
	}
	return 0, "", false
}

// linkAt parses [label](url "title") starting at the '[' at s[i].
func linkAt(s string, i int) (end int, label, url, title string, ok bool) {
	depth := 0
	j := i
	for ; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
			continue
		case '`':
			if e, _, ok := codeSpan(s, j); ok {
				j = e - 1
			}
			continue
		case '[':
			depth++
		case ']':
			depth--
		}
		if depth == 0 {
			break
		}
	}
	if j >= len(s) || j+1 >= len(s) || s[j+1] != '(' {
		return 0, "", "", "", false
	}
	label = s[i+1 : j]
	k := j + 2
	parens := 0
	for ; k < len(s); k++ {
		if s[k] == '(' {
			parens++
		} else if s[k] == ')' {
			if parens == 0 {
				break
			}
			parens--
		}
	}
	if k >= len(s) {
		return 0, "", "", "", false
	}
	dest := strings.TrimSpace(s[j+2 : k])
	if sp := strings.IndexAny(dest, " \t"); sp >= 0 {
		t := strings.TrimSpace(dest[sp:])
		if len(t) >= 2 && (t[0] == '"' && t[len(t)-1] == '"' || t[0] == '\'' && t[len(t)-1] == '\'') {
			title = t[1 : len(t)-1]
			dest = dest[:sp]
		}
	}
	dest = strings.TrimSuffix(strings.TrimPrefix(dest, "<"), ">")
	return k + 1, label, dest, title, true
}

// emphasisAt parses *em*, _em_, **strong** or __strong__ (and ***both***)
// starting at the delimiter run at s[i].
func emphasisAt(s string, i int) (end int, inner string, strong bool, ok bool) {
	c := s[i]
	run := delimRun(s, i)
	n := min(run, 2)
	if i+run >= len(s) || s[i+run] == ' ' || s[i+run] == '\n' {
		return 0, "", false, false
	}
	// Underscores inside a word are not emphasis.
	if c == '_' && i > 0 && isWordByte(s[i-1]) {
		return 0, "", false, false
	}
	open := i + n
	for j := i + run; j < len(s); j++ {
		switch {
		case s[j] == '\\':
			j++
		case s[j] == '`':
			if e, _, ok := codeSpan(s, j); ok {
				j = e - 1
			}
		case s[j] == c:
			l := delimRun(s, j)
			closes := (n == 1 && l%2 == 1 || n == 2 && l >= 2) && s[j-1] != ' '
			if c == '_' && j+l < len(s) && isWordByte(s[j+l]) {
				closes = false
			}
			if closes {
				return j + l, s[open : j+l-n], n == 2, true
			}
			j += l - 1 // a nested run, opening or closing
		}
	}
	return 0, "", false, false
}

// delimRun is the length of the run of s[i] characters starting at i.
func delimRun(s string, i int) int {
	j := i
	for j < len(s) && s[j] == s[i] {
		j++
	}
	return j - i
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= 0x80
}

func (md *mdRenderer) link(sb *strings.Builder, label, url, title string) {
	if !safeURL(url, false) {
		md.inlineTo(sb, label)
		return
	}
	sb.WriteString("<a href=\"" + html.EscapeString(url) + "\"")
	if title != "" {
		sb.WriteString(" title=\"" + html.EscapeString(title) + "\"")
	}
	sb.WriteString(">")
	md.inlineTo(sb, label)
	sb.WriteString("</a>")
}

func (md *mdRenderer) image(sb *strings.Builder, alt, url, title string) {
	if name, ok := strings.CutPrefix(url, "attachment:"); ok {
		url = attachmentURI(md.attachments, name)
	}
	if url == "" || !safeURL(url, true) {
		sb.WriteString(html.EscapeString(alt))
		return
	}
	sb.WriteString("<img src=\"" + html.EscapeString(url) + "\" alt=\"" + html.EscapeString(alt) + "\"")
	if title != "" {
		sb.WriteString(" title=\"" + html.EscapeString(title) + "\"")
	}
	sb.WriteString(">")
}

// attachmentURI returns a data: URI for a cell attachment, or "".
func attachmentURI(attachments map[string]any, name string) string {
	bundle, _ := attachments[name].(map[string]any)
	for _, mime := range []string{"image/png", "image/jpeg", "image/gif", "image/svg+xml"} {
		if v, ok := bundle[mime]; ok {
			return dataURI(mime, v)
		}
	}
	return ""
}

var urlScheme = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*):`)

// safeURL reports whether a link (or, with image, an image source) may be
// kept: relative URLs and http, https, mailto and ftp ones; for images also
// base64 data:image URIs (an <img> never runs a script, SVG or not).
func safeURL(u string, image bool) bool {
	clean := strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, u)
	m := urlScheme.FindStringSubmatch(clean)
	if m == nil {
		return true
	}
	switch strings.ToLower(m[1]) {
	case "http", "https", "mailto", "ftp":
		return true
	case "data":
		lower := strings.ToLower(clean)
		return image && (strings.HasPrefix(lower, "data:image/png;") || strings.HasPrefix(lower, "data:image/jpeg;") ||
			strings.HasPrefix(lower, "data:image/gif;") || strings.HasPrefix(lower, "data:image/webp;") ||
			strings.HasPrefix(lower, "data:image/svg+xml;base64,"))
	}
	return false
}
