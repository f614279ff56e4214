package notebook

import (
	"fmt"
	"html"
	"strconv"
	"strings"
)

// ansiToHTML escapes text for HTML and turns its ANSI SGR escape sequences
// (bold, italic, underline, the 16 standard colours, 256-colour and 24-bit
// colours, foreground and background) into styled spans, as tracebacks and
// coloured logs use them. Other escape sequences are removed.
func ansiToHTML(text string) string {
	var sb strings.Builder
	var st ansiState
	open := false
	for i := 0; i < len(text); {
		if text[i] != 0x1b {
			j := strings.IndexByte(text[i:], 0x1b)
			if j < 0 {
				j = len(text) - i
			}
			sb.WriteString(html.EscapeString(text[i : i+j]))
			i += j
			continue
		}
		seqEnd, params, final := parseEscape(text, i)
		i = seqEnd
		if final != 'm' {
			continue
		}
		st.apply(params)
		if open {
			sb.WriteString("</span>")
			open = false
		}
		if style := st.style(); style != "" {
			sb.WriteString("<span style=\"" + style + "\">")
			open = true
		}
	}
	if open {
		sb.WriteString("</span>")
	}
	return sb.String()
}

// StripANSI removes ANSI escape sequences (colours, cursor movement, window
// titles) from text, as for a traceback printed to a file.
func StripANSI(text string) string {
	var sb strings.Builder
	for i := 0; i < len(text); {
		if text[i] != 0x1b {
			j := strings.IndexByte(text[i:], 0x1b)
			if j < 0 {
				j = len(text) - i
			}
			sb.WriteString(text[i : i+j])
			i += j
			continue
		}
		i, _, _ = parseEscape(text, i)
	}
	return sb.String()
}

// parseEscape reads the escape sequence starting with ESC at text[i]. It
// returns the index after it, the parameters of a CSI sequence and its final
// byte (0 for anything that is not CSI).
func parseEscape(text string, i int) (end int, params string, final byte) {
	j := i + 1
	if j >= len(text) {
		return j, "", 0
	}
	switch text[j] {
	case '[': // CSI: parameters and intermediates, then a final byte @–~
		k := j + 1
		for k < len(text) && (text[k] < 0x40 || text[k] > 0x7e) {
			k++
		}
		if k >= len(text) {
			return len(text), "", 0
		}
		return k + 1, text[j+1 : k], text[k]
	case ']': // OSC: up to BEL or ESC \
		for k := j + 1; k < len(text); k++ {
			if text[k] == 0x07 {
				return k + 1, "", 0
			}
			if text[k] == 0x1b && k+1 < len(text) && text[k+1] == '\\' {
				return k + 2, "", 0
			}
		}
		return len(text), "", 0
	}
	return j + 1, "", 0 // a two-byte escape
}

// ansiState is the current SGR state.
type ansiState struct {
	bold, italic, underline bool
	fg, bg                  string // CSS colours, "" for the default
}

// The 16 standard colours, as nbconvert's HTML output shows them.
var ansiColours = [16]string{
	"#3e424d", "#e75c58", "#00a250", "#ddb62b", "#208ffb", "#d160c4", "#60c6c8", "#c5c1b4",
	"#282c36", "#b22b31", "#007427", "#b27d12", "#0065ca", "#a03196", "#258f8f", "#a1a6b2",
}

func (st *ansiState) apply(params string) {
	if params == "" {
		*st = ansiState{}
		return
	}
	codes := strings.Split(params, ";")
	for k := 0; k < len(codes); k++ {
		n, err := strconv.Atoi(codes[k])
		if err != nil {
			n = 0
			if codes[k] != "" {
				continue
			}
		}
		switch {
		case n == 0:
			*st = ansiState{}
		case n == 1:
			st.bold = true
		case n == 3:
			st.italic = true
		case n == 4:
			st.underline = true
		case n == 22:
			st.bold = false
		case n == 23:
			st.italic = false
		case n == 24:
			st.underline = false
		case n >= 30 && n <= 37:
			st.fg = ansiColours[n-30]
		case n >= 90 && n <= 97:
			st.fg = ansiColours[n-90+8]
		case n == 39:
			st.fg = ""
		case n >= 40 && n <= 47:
			st.bg = ansiColours[n-40]
		case n >= 100 && n <= 107:
			st.bg = ansiColours[n-100+8]
		case n == 49:
			st.bg = ""
		case n == 38 || n == 48:
			colour, used := extendedColour(codes[k+1:])
			k += used
			if n == 38 {
				st.fg = colour
			} else {
				st.bg = colour
			}
		}
	}
}

// extendedColour reads "5;N" (256 colours) or "2;R;G;B" (24-bit) and returns
// the CSS colour ("" when malformed) and how many codes it used.
func extendedColour(codes []string) (string, int) {
	num := func(k int) (int, bool) {
		if k >= len(codes) {
			return 0, false
		}
		n, err := strconv.Atoi(codes[k])
		return n, err == nil && n >= 0 && n <= 255
	}
	mode, ok := num(0)
	if !ok {
		return "", len(codes)
	}
	switch mode {
	case 5:
		n, ok := num(1)
		if !ok {
			return "", min(2, len(codes))
		}
		return colour256(n), 2
	case 2:
		r, ok1 := num(1)
		g, ok2 := num(2)
		b, ok3 := num(3)
		if !ok1 || !ok2 || !ok3 {
			return "", min(4, len(codes))
		}
		return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b), 4
	}
	return "", 1
}

// colour256 returns the CSS colour of xterm's 256-colour palette entry n.
func colour256(n int) string {
	switch {
	case n < 16:
		return ansiColours[n]
	case n < 232:
		n -= 16
		level := func(v int) int {
			if v == 0 {
				return 0
			}
			return 55 + 40*v
		}
		return fmt.Sprintf("rgb(%d,%d,%d)", level(n/36), level(n/6%6), level(n%6))
	}
	g := 8 + 10*(n-232)
	return fmt.Sprintf("rgb(%d,%d,%d)", g, g, g)
}

func (st ansiState) style() string {
	var parts []string
	if st.fg != "" {
		parts = append(parts, "color: "+st.fg)
	}
	if st.bg != "" {
		parts = append(parts, "background-color: "+st.bg)
	}
	if st.bold {
		parts = append(parts, "font-weight: bold")
	}
	if st.italic {
		parts = append(parts, "font-style: italic")
	}
	if st.underline {
		parts = append(parts, "text-decoration: underline")
	}
	return strings.Join(parts, "; ")
}

// terminalText shows text as a terminal would: a carriage return not
// followed by a newline returns to the start of the line, a backspace moves
// back one character, and what follows overwrites what was there. Progress
// bars written with \r show their last state.
func terminalText(text string) string {
	if !strings.ContainsAny(text, "\r\b") {
		return text
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for k, line := range lines {
		var cur []rune
		col := 0
		for _, r := range line {
			switch r {
			case '\r':
				col = 0
			case '\b':
				if col > 0 {
					col--
				}
			default:
				if col < len(cur) {
					cur[col] = r
				} else {
					cur = append(cur, r)
				}
				col++
			}
		}
		lines[k] = string(cur)
	}
	return strings.Join(lines, "\n")
}
