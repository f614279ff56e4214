package notebook

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/graftml/graft/internal/testenv"
)

// testdata/jupyter.ipynb was written by Python's nbformat (make_jupyter.py):
// reading and writing it must give back the same bytes.
func TestRoundTripJupyterFile(t *testing.T) {
	raw, err := os.ReadFile("testdata/jupyter.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	nb, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got, err := nb.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !bytes.Equal(got, raw) {
		t.Errorf("round trip changed the notebook:\n%s", firstDifference(got, raw))
	}

	// The model holds joined text and the values as read.
	if n := len(nb.Cells); n != 5 {
		t.Fatalf("%d cells, want 5", n)
	}
	md, c1, c2, c3, rawCell := nb.Cells[0], nb.Cells[1], nb.Cells[2], nb.Cells[3], nb.Cells[4]
	if md.Type != MarkdownCell || md.ID != "md-1" || md.Source != "# Title\n\nSome *text* with `code`.\n![pic](attachment:pic.png)" {
		t.Errorf("markdown cell %+v", md)
	}
	if png := md.Attachments["pic.png"].(map[string]any)["image/png"]; png != "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1Pe" {
		t.Errorf("attachment %v", png)
	}
	if c1.ExecutionCount != 1 || c1.Source != "x := 1\nfmt.Println(\"héllo\\t<&>\")\nx" {
		t.Errorf("code cell count %d source %q", c1.ExecutionCount, c1.Source)
	}
	if !reflect.DeepEqual(c1.Metadata["tags"], []any{"a", "b"}) || c1.Metadata["collapsed"] != false {
		t.Errorf("cell metadata %v", c1.Metadata)
	}
	if o := c1.Outputs[0]; o.Type != StreamOutput || o.Name != "stdout" || o.Text != "héllo\t<&>\nline2\r\nend" {
		t.Errorf("stream %+v", o)
	}
	if svg := c1.Outputs[2].Data["image/svg+xml"]; svg != "<svg>\n<rect/>\n</svg>\n" {
		t.Errorf("svg joined to %q", svg)
	}
	if w := c1.Outputs[2].Metadata["image/png"].(map[string]any)["width"]; w != json.Number("10") {
		t.Errorf("image width %v (%T)", w, w)
	}
	wantJSON := map[string]any{"a": []any{json.Number("1"), json.Number("2.5"), "x\ny"}, "b": nil}
	if j := c1.Outputs[3].Data["application/json"]; !reflect.DeepEqual(j, wantJSON) {
		t.Errorf("application/json %#v, want %#v", j, wantJSON)
	}
	if o := c1.Outputs[4]; o.Type != ExecuteResultOutput || o.ExecutionCount != 1 || o.Data["text/plain"] != "1" {
		t.Errorf("execute_result %+v", o)
	}
	if o := c2.Outputs[0]; o.EName != "panic" || o.EValue != "boom" || len(o.Traceback) != 3 || o.Traceback[2] != "\tcell[2]:1" {
		t.Errorf("error %+v", o)
	}
	if c3.Source != "" || c3.ExecutionCount != 0 || len(c3.Outputs) != 0 {
		t.Errorf("empty cell %+v", c3)
	}
	if rawCell.Type != RawCell || rawCell.Source != "raw\ntext" || rawCell.Metadata["format"] != "text/html" {
		t.Errorf("raw cell %+v", rawCell)
	}
	custom := nb.Metadata["custom"].(map[string]any)
	if custom["count"] != json.Number("12345678901234567890") || custom["text"] != "naïve ✓ \u2028 <b>&</b>" {
		t.Errorf("custom metadata %v", custom)
	}
}

// firstDifference shows where two texts first differ.
func firstDifference(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-80)
	return "got:  ..." + string(got[from:min(len(got), i+80)]) + "\nwant: ..." + string(want[from:min(len(want), i+80)])
}

func TestParseOlderNotebook(t *testing.T) {
	// nbformat 4.4, sources and texts as single strings, no ids, one
	// duplicated id and one invalid id among the rest.
	src := `{"nbformat": 4, "nbformat_minor": 4, "metadata": {"signature": "x", "orig_nbformat": 3},
	 "cells": [
	  {"cell_type": "markdown", "metadata": {}, "source": "# A\nb"},
	  {"cell_type": "code", "metadata": {"trusted": true}, "source": "x\ny\n", "execution_count": null,
	   "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n2"}]},
	  {"cell_type": "code", "id": "same", "metadata": {}, "source": "", "execution_count": 3, "outputs": []},
	  {"cell_type": "code", "id": "same", "metadata": {}, "source": "", "execution_count": null, "outputs": []},
	  {"cell_type": "raw", "id": "has space", "metadata": {}, "source": ""}
	 ]}`
	nb, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, c := range nb.Cells {
		if !validID.MatchString(c.ID) || ids[c.ID] {
			t.Errorf("cell %d id %q: not a valid unique id", i, c.ID)
		}
		ids[c.ID] = true
	}
	if nb.Cells[2].ID != "same" || nb.Cells[3].ID == "same" {
		t.Errorf("duplicate ids: first kept %q, second replaced by %q", nb.Cells[2].ID, nb.Cells[3].ID)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(nb.Cells[0].ID) {
		t.Errorf("generated id %q, want eight hex digits", nb.Cells[0].ID)
	}
	out, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "` + nb.Cells[0].ID + `",
   "metadata": {},
   "source": [
    "# A\n",
    "b"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": null,
   "id": "` + nb.Cells[1].ID + `",
   "metadata": {},
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "1\n",
      "2"
     ]
    }
   ],
   "source": [
    "x\n",
    "y\n"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 3,
   "id": "same",
   "metadata": {},
   "outputs": [],
   "source": []
  },
  {
   "cell_type": "code",
   "execution_count": null,
   "id": "` + nb.Cells[3].ID + `",
   "metadata": {},
   "outputs": [],
   "source": []
  },
  {
   "cell_type": "raw",
   "id": "` + nb.Cells[4].ID + `",
   "metadata": {},
   "source": []
  }
 ],
 "metadata": {},
 "nbformat": 4,
 "nbformat_minor": 5
}
`
	if string(out) != want {
		t.Errorf("Marshal:\n%s", firstDifference(out, []byte(want)))
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`{"cells": [`, "invalid JSON"},
		{`[1]`, "the JSON is a list, not an object"},
		{`{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}`, "nbformat 3 is not supported"},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}`, `"cells" is null, want a list`},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "python", "source": ""}]}`,
			`cell 1: unknown cell_type "python"`},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": 5}]}`,
			`cell 1: "source" is a number, want a string or a list of strings`},
		{`{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": "",
			"outputs": [{"output_type": "pager"}]}]}`, `cell 1: output 1: unknown output_type "pager"`},
	} {
		_, err := Parse([]byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%.40s…): error %v, want one containing %q", tc.src, err, tc.want)
		}
	}
}

func TestPyFloatRepr(t *testing.T) {
	// Expected values are what CPython's repr prints.
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{1, "1.0"}, {-2.5, "-2.5"}, {0.1, "0.1"}, {0, "0.0"}, {math.Copysign(0, -1), "-0.0"},
		{1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {123456789012345678, "1.2345678901234568e+17"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.5e-7, "1.5e-07"}, {5e-324, "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"}, {1234.5678, "1234.5678"}, {1e100, "1e+100"},
		{0.30000000000000004, "0.30000000000000004"}, {9999999999999998, "9999999999999998.0"},
	} {
		if got := pyFloatRepr(tc.f); got != tc.want {
			t.Errorf("pyFloatRepr(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
	for _, tc := range [][2]string{{"1", "1"}, {"-0", "0"}, {"007", "7"}, {"1E3", "1000.0"}, {"2.50", "2.5"}, {"-1e-7", "-1e-07"}} {
		if got, err := pyNumber(tc[0]); err != nil || got != tc[1] {
			t.Errorf("pyNumber(%q) = %q, %v; want %q", tc[0], got, err, tc[1])
		}
	}
	if _, err := pyNumber("1e999"); err == nil {
		t.Error("pyNumber(1e999): no error for a number out of range")
	}
}

func TestWritePyString(t *testing.T) {
	for _, tc := range [][2]string{
		{"plain", `"plain"`},
		{"q\"b\\s/", `"q\"b\\s/"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x1b\x1f\x7f", `"\u0000\u001b\u001f` + "\x7f" + `"`},
		{"<&> é ✓ \u2028 😀", "\"<&> é ✓ \u2028 😀\""},
		{"bad\xffutf8", "\"bad\ufffdutf8\""},
	} {
		var buf bytes.Buffer
		writePyString(&buf, tc[0])
		if buf.String() != tc[1] {
			t.Errorf("writePyString(%q) = %s, want %s", tc[0], buf.String(), tc[1])
		}
	}
}

func TestSplitLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a\nb", []string{"a\n", "b"}},
		{"a\n\n", []string{"a\n", "\n"}},
		{"a\r\nb\rc", []string{"a\r\n", "b\r", "c"}},
		{"a\vb\fc\x1cd\x1de\x1ef\u0085g\u2028h\u2029i", []string{"a\v", "b\f", "c\x1c", "d\x1d", "e\x1e", "f\u0085", "g\u2028", "h\u2029", "i"}},
		{"\r\r\n", []string{"\r", "\r\n"}},
	} {
		if got := splitLines(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitLines(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestPythonAgrees checks the notebooks written here with Python's nbformat:
// they validate against the nbformat 4.5 schema, and nbformat writes them
// back unchanged. It also checks pyFloatRepr against Python's repr.
func TestPythonAgrees(t *testing.T) {
	python := testenv.RequirePython(t, "nbformat")
	dir := t.TempDir()
	var files []string
	write := func(name string, nb *Notebook) {
		path := filepath.Join(dir, name)
		if err := nb.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	write("run.ipynb", runNotebookFixture(t))
	parsed, err := ReadFile("testdata/jupyter.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	write("jupyter.ipynb", parsed)
	bare := New()
	bare.Cells = []*Cell{{Type: CodeCell, Source: "x\n"}, {Type: MarkdownCell, Source: "*y*"}}
	write("bare.ipynb", bare)

	rng := rand.New(rand.NewPCG(1, 2))
	var floats, reprs []string
	for range 300 {
		f := math.Ldexp(rng.Float64()+0.5, rng.IntN(400)-200)
		if rng.IntN(2) == 0 {
			f = -f
		}
		floats = append(floats, strconv.FormatFloat(f, 'g', -1, 64))
		reprs = append(reprs, pyFloatRepr(f))
	}
	script := `
import json, sys, nbformat
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    again = nbformat.writes(nb) + "\n"
    if again != text:
        print("DIFFERS", path)
        print(again)
floats = json.loads(sys.argv[1])
print(json.dumps([repr(float(s)) for s in floats]))
`
	args := append([]string{"-c", script, mustJSON(floats)}, files...)
	out, err := exec.Command(python, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	text := strings.TrimSpace(string(out))
	if strings.Contains(text, "DIFFERS") {
		t.Fatalf("nbformat rewrites a notebook written here:\n%s", text)
	}
	var pyReprs []string
	if err := json.Unmarshal([]byte(text), &pyReprs); err != nil {
		t.Fatalf("python output %q: %v", text, err)
	}
	for i := range reprs {
		if reprs[i] != pyReprs[i] {
			t.Errorf("float %s: pyFloatRepr %s, Python repr %s", floats[i], reprs[i], pyReprs[i])
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
