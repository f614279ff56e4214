package golang

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel"
)

// event is one thing a cell sent to its Output.
type event struct {
	kind   string // "stdout", "stderr", "display", "update", "result", "clear", "input"
	text   string // stream text, the bundle's text/plain, or the prompt
	bundle display.Bundle
	id     string
}

// fakeOutput records a cell's outputs in order. Input answers with the next
// of inputs, or fails with inputErr.
type fakeOutput struct {
	mu       sync.Mutex
	events   []event
	inputs   []string
	inputErr error
	onStream func(text string) // called on each stream write
}

func (f *fakeOutput) add(e event) {
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
}

func (f *fakeOutput) Stream(name, text string) {
	f.add(event{kind: name, text: text})
	if f.onStream != nil {
		f.onStream(text)
	}
}

func (f *fakeOutput) Display(b display.Bundle, id string, update bool) {
	kind := "display"
	if update {
		kind = "update"
	}
	f.add(event{kind: kind, text: b.Text(), bundle: b, id: id})
}

func (f *fakeOutput) Result(b display.Bundle) {
	f.add(event{kind: "result", text: b.Text(), bundle: b})
}

func (f *fakeOutput) Clear(wait bool) { f.add(event{kind: "clear"}) }

func (f *fakeOutput) Input(prompt string, password bool) (string, error) {
	f.add(event{kind: "input", text: prompt})
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inputErr != nil {
		return "", f.inputErr
	}
	if len(f.inputs) == 0 {
		return "", errors.New("fakeOutput: no more input")
	}
	s := f.inputs[0]
	f.inputs = f.inputs[1:]
	return s, nil
}

// stream returns everything written to the named stream.
func (f *fakeOutput) stream(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, e := range f.events {
		if e.kind == name {
			b.WriteString(e.text)
		}
	}
	return b.String()
}

// results returns the text/plain of each Out[n].
func (f *fakeOutput) results() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.events {
		if e.kind == "result" {
			out = append(out, e.text)
		}
	}
	return out
}

// kinds returns the kinds of the events in order, merging consecutive
// writes to the same stream.
func (f *fakeOutput) kinds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.events {
		if len(out) > 0 && out[len(out)-1] == e.kind && (e.kind == "stdout" || e.kind == "stderr") {
			continue
		}
		out = append(out, e.kind)
	}
	return out
}

func newInterp(t testing.TB) *Interpreter {
	t.Helper()
	in, err := New(Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// exec runs code as cell n and returns its outputs and result.
func exec(t testing.TB, in *Interpreter, n int, code string) (*fakeOutput, kernel.Result) {
	t.Helper()
	out := &fakeOutput{}
	res := in.Execute(context.Background(), kernel.ExecuteRequest{Code: code, ExecutionCount: n}, out)
	return out, res
}

// mustExec runs code and fails the test if the cell fails.
func mustExec(t testing.TB, in *Interpreter, n int, code string) *fakeOutput {
	t.Helper()
	out, res := exec(t, in, n, code)
	if res.Error != nil {
		t.Fatalf("cell %q failed: %s: %s\n%s", code, res.Error.Name, res.Error.Value, strings.Join(res.Error.Traceback, "\n"))
	}
	return out
}
