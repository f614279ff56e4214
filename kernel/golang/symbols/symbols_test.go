package symbols

import (
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/kernel/golang/stdsymbols"
	"github.com/traefik/yaegi/interp"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel/comm"
	"github.com/graftml/graft/kernel/golang/docs"
	"github.com/graftml/graft/kernel/golang/internal/symgen"
)

// TestTablesUpToDate regenerates the tables and compares them byte for byte
// with the committed files. Extraction type-checks each package and its
// dependencies from source (seconds), so -short skips it.
func TestTablesUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not regenerating the symbol tables")
	}
	stale, err := symgen.Graft.Stale(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stale {
		t.Error(s)
	}
}

func TestPaths(t *testing.T) {
	want := slices.Sorted(slices.Values(symgen.Graft.Paths))
	if got := Paths(); !slices.Equal(got, want) {
		t.Errorf("Paths() = %q, want %q", got, want)
	}
	if _, ok := Symbols["github.com/graftml/graft/nn/optim/optim"]["NewAdamW"]; !ok {
		t.Errorf("Symbols lacks optim.NewAdamW under key .../nn/optim/optim")
	}
}

// newInterp returns an interpreter with the standard library and graft.
func newInterp(t *testing.T) *interp.Interpreter {
	t.Helper()
	i := interp.New(interp.Options{})
	for _, s := range []interp.Exports{stdsymbols.Symbols, Symbols} {
		if err := i.Use(s); err != nil {
			t.Fatal(err)
		}
	}
	return i
}

// eval evaluates the cells in order and returns the last one's value.
func eval(t *testing.T, i *interp.Interpreter, cells ...string) reflect.Value {
	t.Helper()
	var v reflect.Value
	for _, src := range cells {
		var err error
		if v, err = i.Eval(src); err != nil {
			t.Fatalf("eval %q: %v", src, err)
		}
	}
	return v
}

func TestInterpretedTensorCode(t *testing.T) {
	i := newInterp(t)
	v := eval(t, i, `import "github.com/graftml/graft/tensor"`, `
a := tensor.New([]float32{1, 2, 3, 4}, 2, 2)
b := tensor.New([]float32{5, 6, 7, 8}, 2, 2)
c := a.MatMul(b)`, `c.Data()`)
	got, ok := v.Interface().([]float32)
	if !ok {
		t.Fatalf("c.Data() is %v, want []float32", v.Type())
	}
	// [1 2; 3 4] x [5 6; 7 8] = [19 22; 43 50]
	if want := []float32{19, 22, 43, 50}; !slices.Equal(got, want) {
		t.Errorf("matmul = %v, want %v", got, want)
	}
}

func TestInterpretedDisplayer(t *testing.T) {
	i := newInterp(t)
	eval(t, i, `import "github.com/graftml/graft/display"`, `
type card struct{ title string }
func (c card) Display() display.Bundle {
	return display.NewBundle("card "+c.title, display.MIMEHTML, "<b>"+c.title+"</b>")
}
func (c card) String() string { return "plain " + c.title }
type tag int
func (t tag) String() string { return "tag!" }`)
	for _, tc := range []struct{ call, text, html string }{
		{`display.Render(card{"hi"})`, "card hi", "<b>hi</b>"},
		{`display.Render(&card{"yo"})`, "card yo", "<b>yo</b>"},
		// A type with only a String method shows its string.
		{`display.Render(tag(3))`, "tag!", ""},
	} {
		v := eval(t, i, tc.call)
		b, ok := v.Interface().(display.Bundle)
		if !ok {
			t.Fatalf("%s is %v, want display.Bundle", tc.call, v.Type())
		}
		html, _ := b.Data[display.MIMEHTML].(string)
		if b.Text() != tc.text || html != tc.html {
			t.Errorf("%s = %v, want text %q and HTML %q", tc.call, b.Data, tc.text, tc.html)
		}
	}
	// display.Show publishes the interpreted type's own bundle.
	shown := &shownBundles{}
	prev := display.SetFrontend(shown)
	t.Cleanup(func() { display.SetFrontend(prev) })
	eval(t, i, `display.Show(card{"live"})`)
	if len(shown.bundles) != 1 || shown.bundles[0].Text() != "card live" {
		t.Errorf(`display.Show(card{"live"}) published %v, want one bundle with text "card live"`, shown.bundles)
	}
}

// shownBundles is a display.Frontend that records what is published.
type shownBundles struct{ bundles []display.Bundle }

func (s *shownBundles) Publish(b display.Bundle, id string, update bool) {
	s.bundles = append(s.bundles, b)
}
func (s *shownBundles) Clear(wait bool) {}

func TestInterpretedInterfaceImplementations(t *testing.T) {
	i := newInterp(t)
	eval(t, i, `import (
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)`, `
type double struct{}
func (double) Forward(x *tensor.Tensor) *tensor.Tensor { return x.Scale(2) }
type half struct{}
func (half) Float64() float64 { return 0.5 }
func (half) NormFloat64() float64 { return 0 }
func (half) Uint64() uint64 { return 1 }
func (half) Perm(n int) []int { return make([]int, n) }
func (half) Shuffle(n int, swap func(i, j int)) {}`)
	for _, tc := range []struct {
		expr string
		want []float32
	}{
		// An interpreted nn.Layer inside a compiled nn.Sequential: double,
		// the compiled ReLU, double again. (yaegi v0.16.1 does not wrap
		// interpreted values passed as separate variadic interface
		// arguments, hence the explicit slice.)
		{`nn.NewSequential([]nn.Layer{double{}, nn.NewActivation("relu"), double{}}...).Forward(tensor.New([]float32{-1, 0.5, 2}, 3)).Data()`, []float32{0, 2, 8}},
		// An interpreted tensor.Rand always drawing 0.5: lo + (hi-lo)*0.5.
		{`tensor.Uniform(half{}, 1, 3, 2).Data()`, []float32{2, 2}},
	} {
		v := eval(t, i, tc.expr)
		if got, _ := v.Interface().([]float32); !slices.Equal(got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.expr, v, tc.want)
		}
	}
}

func TestUnknownSymbolError(t *testing.T) {
	i := newInterp(t)
	eval(t, i, `import "github.com/graftml/graft/tensor"`)
	_, err := i.Eval("tensor.NoSuchThing(1)")
	if err == nil || !strings.Contains(err.Error(), "NoSuchThing") {
		t.Errorf("calling a missing graft symbol: err = %v, want one naming NoSuchThing", err)
	}
}

// sentMessages records what comms send, standing in for the kernel.
type sentMessages struct{ sends []map[string]any }

func (s *sentMessages) Open(id, target string, data map[string]any) error { return nil }
func (s *sentMessages) Send(id string, data map[string]any) error {
	s.sends = append(s.sends, data)
	return nil
}
func (s *sentMessages) Close(id string, data map[string]any) error { return nil }

func TestInterpretedCommTarget(t *testing.T) {
	rec := &sentMessages{}
	prev := comm.SetTransport(rec)
	t.Cleanup(func() {
		comm.SetTransport(prev)
		comm.Reset()
	})
	i := newInterp(t)
	eval(t, i, `import "github.com/graftml/graft/kernel/comm"`, `
var opened []string`, `
comm.RegisterTarget("echo", func(c *comm.Comm, data map[string]any) {
	opened = append(opened, c.Target())
	c.OnMessage(func(msg map[string]any) { c.Send(map[string]any{"echo": msg["n"]}) })
})`)
	// The frontend opens a comm on the interpreted target and sends to it.
	if err := comm.HandleOpen("c1", "echo", nil); err != nil {
		t.Fatal(err)
	}
	if err := comm.HandleMessage("c1", map[string]any{"n": 7.0}); err != nil {
		t.Fatal(err)
	}
	if got := eval(t, i, "opened").Interface(); !reflect.DeepEqual(got, []string{"echo"}) {
		t.Errorf("interpreted open handler saw %v, want [echo]", got)
	}
	if want := []map[string]any{{"echo": 7.0}}; !reflect.DeepEqual(rec.sends, want) {
		t.Errorf("comm sent %v, want %v", rec.sends, want)
	}
}

// TestNothingSkipped checks that every exported package-level name of graft's
// exported packages (from the documentation index) has a symbol: yaegi's
// extractor skips generic functions and types, which cells could then not use.
func TestNothingSkipped(t *testing.T) {
	for _, p := range Paths() {
		tab := Symbols[p+"/"+path.Base(p)]
		if _, ok := docs.Lookup(p); !ok {
			t.Errorf("documentation index lacks %s; run go generate ./kernel/golang/docs", p)
		}
		for _, m := range docs.Members(p, "") {
			if _, ok := tab[m.Name]; !ok {
				t.Errorf("%s.%s has no yaegi symbol (generic?), so cells cannot use it: %s", path.Base(p), m.Name, m.Signature)
			}
		}
	}
}
