// Package golang is the language half of graft's Jupyter kernel: it runs Go
// cells with the yaegi interpreter, keeping state across cells, streaming
// output while a cell runs, turning panics and compile errors into one error
// per failing cell, and answering the editor's completion, inspection and
// is-complete questions. It implements kernel.Language.
package golang

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"sync"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel"
)

// Options configures an Interpreter.
type Options struct {
	// Version is graft's version, reported as the implementation version.
	Version string
	// Env is the environment cells see through os.Getenv and %env; nil
	// means the process environment.
	Env []string
	// Exports are extra yaegi symbol tables (import path "dir/name" →
	// symbols) made available to cells, for example graft's own packages.
	Exports []interp.Exports
}

// Interpreter runs Go cells. It implements kernel.Language. Execute runs one
// cell at a time; Complete, Inspect and IsComplete may run concurrently with it.
type Interpreter struct {
	opts Options

	mu sync.Mutex // guards i and the fields below between cells
	i  *interp.Interpreter

	// out is where the running cell's output goes; nil between cells.
	outMu sync.Mutex
	out   kernel.Output
}

// Interface check.
var _ kernel.Language = (*Interpreter)(nil)

// New returns an interpreter with the standard library and the packages of
// opts.Exports available to cells.
func New(opts Options) (*Interpreter, error) {
	in := &Interpreter{opts: opts}
	if err := in.Reset(); err != nil {
		return nil, err
	}
	return in, nil
}

// Reset forgets all state: a fresh interpreter replaces the current one.
func (in *Interpreter) Reset() error {
	i := interp.New(interp.Options{
		Stdout: writerFunc(func(p []byte) (int, error) { in.stream("stdout", string(p)); return len(p), nil }),
		Stderr: writerFunc(func(p []byte) (int, error) { in.stream("stderr", string(p)); return len(p), nil }),
		Stdin:  readerFunc(func(p []byte) (int, error) { return 0, io.EOF }),
		Env:    in.opts.Env,
	})
	if err := i.Use(stdlib.Symbols); err != nil {
		return fmt.Errorf("golang: loading the standard library: %w", err)
	}
	for _, e := range in.opts.Exports {
		if err := i.Use(e); err != nil {
			return fmt.Errorf("golang: loading exported packages: %w", err)
		}
	}
	in.mu.Lock()
	in.i = i
	in.mu.Unlock()
	return nil
}

// Info describes Go for kernel_info_reply.
func (in *Interpreter) Info() kernel.LanguageInfo {
	return kernel.LanguageInfo{
		Name:              "go",
		Version:           strings.TrimPrefix(runtime.Version(), "go"),
		MIMEType:          "text/x-go",
		FileExtension:     ".go",
		PygmentsLexer:     "go",
		CodeMirrorMode:    "go",
		Implementation:    "graft",
		ImplementationVer: in.opts.Version,
		Banner:            "graft: Go " + strings.TrimPrefix(runtime.Version(), "go") + " cells interpreted by yaegi, with graft's tensor and nn packages",
		HelpLinks: []kernel.HelpLink{
			{Text: "Go documentation", URL: "https://go.dev/doc/"},
			{Text: "Go standard library", URL: "https://pkg.go.dev/std"},
			{Text: "graft", URL: "https://github.com/graftml/graft"},
		},
	}
}

// Execute runs one cell.
func (in *Interpreter) Execute(ctx context.Context, req kernel.ExecuteRequest, out kernel.Output) kernel.Result {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.setOut(out)
	defer in.setOut(nil)
	v, err := in.i.EvalWithContext(ctx, req.Code)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return kernel.Result{Error: &kernel.CellError{Name: "Interrupted", Value: "the cell was interrupted"}}
		}
		return kernel.Result{Error: &kernel.CellError{Name: "error", Value: err.Error()}}
	}
	if !req.Silent && v.IsValid() && v.CanInterface() {
		out.Result(display.Render(v.Interface()))
	}
	return kernel.Result{}
}

// Complete returns completions for the code at cursor.
func (in *Interpreter) Complete(code string, cursor int) kernel.Completion {
	return kernel.Completion{CursorStart: cursor, CursorEnd: cursor}
}

// Inspect returns documentation for the name at cursor.
func (in *Interpreter) Inspect(code string, cursor, detail int) kernel.Inspection {
	return kernel.Inspection{}
}

// IsComplete says whether code is ready to run.
func (in *Interpreter) IsComplete(code string) (status, indent string) {
	return "complete", ""
}

func (in *Interpreter) setOut(out kernel.Output) {
	in.outMu.Lock()
	in.out = out
	in.outMu.Unlock()
}

func (in *Interpreter) stream(name, text string) {
	in.outMu.Lock()
	out := in.out
	in.outMu.Unlock()
	if out != nil {
		out.Stream(name, text)
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

var _ = reflect.Value{}
