package viz

import (
	"errors"
	"strings"
	"testing"

	"github.com/graftml/graft/display"
)

func bundleFigure(t *testing.T) *Figure {
	t.Helper()
	f, err := Lines([]Series{{Name: "loss", X: []float64{0, 1, 2}, Y: []float64{3, 2, 1}}}, LineOptions{Options: Options{Title: "a <b> curve"}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFigureBundle(t *testing.T) {
	b := FigureBundle("summary", bundleFigure(t), nil)
	if b.Data[display.MIMEText] != "summary" {
		t.Errorf("text/plain %q, want the summary", b.Data[display.MIMEText])
	}
	if png, _ := b.Data[display.MIMEPNG].([]byte); len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Errorf("no PNG in the bundle")
	}
	b = FigureBundle("summary", nil, errors.New("nothing to draw"))
	if b.Data[display.MIMEText] != "summary\n(no figure: nothing to draw)" || b.Data[display.MIMEPNG] != nil {
		t.Errorf("failed figure: %v", b.Data)
	}
}

func TestTableBundle(t *testing.T) {
	b := TableBundle("table text", "<table></table>", bundleFigure(t), nil)
	h, _ := b.Data[display.MIMEHTML].(string)
	if !strings.HasPrefix(h, "<table></table><br><img alt=") || !strings.Contains(h, "data:image/png;base64,iVBOR") {
		t.Errorf("HTML %.120q: want the table then the embedded PNG", h)
	}
	if strings.Contains(h, "<b>") {
		t.Errorf("the figure's title is not escaped in the alt text: %.200q", h)
	}
	if b.Data[display.MIMEPNG] == nil || b.Data[display.MIMEText] != "table text" {
		t.Errorf("bundle lacks the PNG or the text: %v", b.Data[display.MIMEText])
	}
	b = TableBundle("table text", "<table></table>", nil, errors.New("a < b"))
	if h := b.Data[display.MIMEHTML]; h != "<table></table><p>(no figure: a &lt; b)</p>" || b.Data[display.MIMEPNG] != nil {
		t.Errorf("failed figure: HTML %q", h)
	}
}
