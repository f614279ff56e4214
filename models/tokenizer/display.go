package tokenizer

import (
	"fmt"
	"html"
	"strings"

	"github.com/graftml/graft/display"
)

// String lists the tokens with their ids, as "Hello(15496) Ġworld(995)".
func (e *Encoding) String() string {
	parts := make([]string, e.Len())
	for i := range e.IDs {
		parts[i] = fmt.Sprintf("%s(%d)", e.Tokens[i], e.IDs[i])
	}
	return strings.Join(parts, " ")
}

// Display shows the encoding in a notebook: one row per token with its id,
// offsets, type id and attention mask (text/plain and an HTML table).
func (e *Encoding) Display() display.Bundle {
	var txt, h strings.Builder
	fmt.Fprintf(&txt, "Encoding (%d tokens)\n", e.Len())
	fmt.Fprintf(&txt, "%5s  %-20s %7s  %-11s %4s %4s\n", "#", "token", "id", "offsets", "type", "mask")
	h.WriteString(`<table><thead><tr><th>#</th><th>token</th><th>id</th><th>offsets</th><th>type</th><th>mask</th></tr></thead><tbody>`)
	for i := range e.IDs {
		off := fmt.Sprintf("[%d, %d)", e.Offsets[i][0], e.Offsets[i][1])
		fmt.Fprintf(&txt, "%5d  %-20q %7d  %-11s %4d %4d\n", i, e.Tokens[i], e.IDs[i], off, e.TypeIDs[i], e.AttentionMask[i])
		fmt.Fprintf(&h, "<tr><td>%d</td><td><code>%s</code></td><td>%d</td><td>%s</td><td>%d</td><td>%d</td></tr>",
			i, html.EscapeString(e.Tokens[i]), e.IDs[i], off, e.TypeIDs[i], e.AttentionMask[i])
	}
	h.WriteString("</tbody></table>")
	return display.NewBundle(txt.String(), "text/html", h.String())
}

// Display shows the tokenizer's one-line description in a notebook.
func (t *Tokenizer) Display() display.Bundle { return display.NewBundle(t.String()) }
