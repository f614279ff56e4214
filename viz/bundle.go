package viz

import (
	"encoding/base64"
	"html"

	"github.com/graftml/graft/display"
)

// FigureBundle is the display of a value drawn as a figure: the figure's
// images with text as the text/plain form. When the figure could not be
// drawn (err set, or f nil) it is the text alone with the reason appended,
// so a value always shows something.
func FigureBundle(text string, f *Figure, err error) display.Bundle {
	if err != nil {
		return display.NewBundle(text + "\n(no figure: " + err.Error() + ")")
	}
	if f == nil {
		return display.NewBundle(text)
	}
	b := f.Display()
	b.Data[display.MIMEText] = text
	return b
}

// TableBundle is the display of a value shown as a table (its HTML
// tableHTML, its plain text text) with a figure below it: in HTML the
// figure follows the table as an embedded PNG, and the PNG is also the
// bundle's image/png for frontends that show no HTML. When the figure could
// not be drawn (err set, or f nil) the table stands alone, with the reason
// under it.
func TableBundle(text, tableHTML string, f *Figure, err error) display.Bundle {
	if err == nil && f != nil {
		var png []byte
		png, err = f.PNG()
		if err == nil {
			b := display.NewBundle(text, display.MIMEHTML,
				tableHTML+`<br><img alt="`+html.EscapeString(f.String())+`" src="data:image/png;base64,`+base64.StdEncoding.EncodeToString(png)+`">`)
			b.Data[display.MIMEPNG] = png
			return b
		}
	}
	if err != nil {
		tableHTML += "<p>(no figure: " + html.EscapeString(err.Error()) + ")</p>"
	}
	return display.NewBundle(text, display.MIMEHTML, tableHTML)
}
