package display

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"reflect"
	"strings"
	"testing"
)

type recorder struct {
	published []Bundle
	ids       []string
	updates   []bool
	clears    []bool
}

func (r *recorder) Publish(b Bundle, id string, update bool) {
	r.published = append(r.published, b)
	r.ids = append(r.ids, id)
	r.updates = append(r.updates, update)
}

func (r *recorder) Clear(wait bool) { r.clears = append(r.clears, wait) }

type stringer struct{}

func (stringer) String() string { return "a stringer" }

type rich struct{}

func (rich) Display() Bundle { return Bundle{Data: map[string]any{MIMEHTML: "<b>x</b>"}} }

func TestRender(t *testing.T) {
	var nilPtr *int
	for _, tc := range []struct {
		name string
		v    any
		want map[string]any
	}{
		{"nil", nil, map[string]any{MIMEText: "<nil>"}},
		{"string quoted", "hi\n", map[string]any{MIMEText: `"hi\n"`}},
		{"int", 42, map[string]any{MIMEText: "42"}},
		{"slice", []float32{1, 2.5}, map[string]any{MIMEText: "[1 2.5]"}},
		{"error", errors.New("boom"), map[string]any{MIMEText: "boom"}},
		{"stringer", stringer{}, map[string]any{MIMEText: "a stringer"}},
		{"func", strings.ToUpper, map[string]any{MIMEText: "<func(string) string>"}},
		{"nil pointer", nilPtr, map[string]any{MIMEText: "(*int)(nil)"}},
		{"displayer without text gets one", rich{}, map[string]any{MIMEHTML: "<b>x</b>", MIMEText: "<display.rich>"}},
		{"HTML", HTML("<p>a &amp; <i>b</i></p>"), map[string]any{MIMEHTML: "<p>a &amp; <i>b</i></p>", MIMEText: "a & b"}},
		{"empty HTML", HTML("<br>"), map[string]any{MIMEHTML: "<br>", MIMEText: "<HTML>"}},
		{"Markdown", Markdown("**b**"), map[string]any{MIMEMarkdown: "**b**", MIMEText: "**b**"}},
		{"SVG", SVG("<svg/>"), map[string]any{MIMESVG: "<svg/>", MIMEText: "<SVG image>"}},
		{"LaTeX", LaTeX("$x^2$"), map[string]any{MIMELaTeX: "$x^2$", MIMEText: "$x^2$"}},
		{"Text unquoted", Text("plain"), map[string]any{MIMEText: "plain"}},
		{"JSON", JSON(map[string]int{"a": 1}), map[string]any{MIMEJSON: map[string]any{"a": 1.0}, MIMEText: "{\n  \"a\": 1\n}"}},
		{"JSON error", JSON(func() {}), map[string]any{MIMEText: "display.JSON: json: unsupported type: func()"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Render(tc.v).Data; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Render(%#v) = %#v, want %#v", tc.v, got, tc.want)
			}
		})
	}
}

func TestPNGSize(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 7, 3))); err != nil {
		t.Fatal(err)
	}
	b := PNG(buf.Bytes()).Display()
	if got := b.Text(); got != "<PNG image 7x3>" {
		t.Errorf("text %q, want <PNG image 7x3>", got)
	}
	if !bytes.Equal(b.Data[MIMEPNG].([]byte), buf.Bytes()) {
		t.Error("PNG bytes changed")
	}
	if got := PNG("not a png").Display().Text(); got != "<PNG image, 9 bytes>" {
		t.Errorf("text of a non-PNG %q", got)
	}
}

func TestShowUpdateClearReachTheFrontend(t *testing.T) {
	r := &recorder{}
	prev := SetFrontend(r)
	defer SetFrontend(prev)
	if !HasFrontend() {
		t.Error("HasFrontend false with a frontend installed")
	}

	h := Show(Text("first"))
	h.Update(Text("second"))
	other := Show(1)
	Clear(true)

	if len(r.published) != 3 {
		t.Fatalf("%d outputs published, want 3", len(r.published))
	}
	if r.ids[0] != h.ID() || r.ids[1] != h.ID() || r.ids[2] != other.ID() || h.ID() == other.ID() || h.ID() == "" {
		t.Errorf("display ids %q (handles %q, %q): an update must reuse its handle's id, new outputs get new ones", r.ids, h.ID(), other.ID())
	}
	if !reflect.DeepEqual(r.updates, []bool{false, true, false}) {
		t.Errorf("update flags %v, want [false true false]", r.updates)
	}
	if r.published[1].Text() != "second" || r.published[2].Text() != "1" {
		t.Errorf("published %q, %q", r.published[1].Text(), r.published[2].Text())
	}
	if !reflect.DeepEqual(r.clears, []bool{true}) {
		t.Errorf("clears %v, want [true]", r.clears)
	}
}

func TestOutsideAKernelShowPrintsText(t *testing.T) {
	prev := SetFrontend(nil)
	defer SetFrontend(prev)
	if HasFrontend() {
		t.Error("HasFrontend true with no frontend")
	}
	var buf bytes.Buffer
	old := stdout
	stdout = &buf
	defer func() { stdout = old }()

	h := Show(HTML("<b>bold</b> move"))
	h.Update("again")
	Clear(false) // nothing to clear in a terminal
	var nilHandle *Handle
	nilHandle.Update("ignored")

	if got, want := buf.String(), "bold move\n\"again\"\n"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}
