package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel"
	"github.com/graftml/graft/notebook"
)

// scriptLang is a kernel.Language whose cells are lines of commands:
// "print TEXT" streams TEXT and a newline to stdout, "warn TEXT" to stderr,
// "image" displays a PNG, "fail TEXT" fails the cell, "wait" blocks until
// the cell is interrupted (closing waiting first, if not nil).
type scriptLang struct{ waiting chan struct{} }

var pngBytes = []byte("\x89PNG\r\n\x1a\nfake")

func (scriptLang) Info() kernel.LanguageInfo { return kernel.LanguageInfo{Name: "go", Version: "test"} }
func (s scriptLang) Execute(ctx context.Context, req kernel.ExecuteRequest, out kernel.Output) kernel.Result {
	for _, line := range strings.Split(req.Code, "\n") {
		cmd, arg, _ := strings.Cut(line, " ")
		switch cmd {
		case "print":
			out.Stream("stdout", arg+"\n")
		case "warn":
			out.Stream("stderr", arg+"\n")
		case "image":
			out.Display(display.Render(display.PNG(pngBytes)), "", false)
		case "fail":
			return kernel.Result{Error: &kernel.CellError{Name: "Error", Value: arg, Traceback: []string{"\x1b[31mError\x1b[0m: " + arg, "\tcell:1"}}}
		case "wait":
			if s.waiting != nil {
				close(s.waiting)
			}
			<-ctx.Done()
			return kernel.Result{Error: &kernel.CellError{Name: "Interrupted", Value: "interrupted"}}
		}
	}
	return kernel.Result{}
}
func (scriptLang) Complete(string, int) kernel.Completion     { return kernel.Completion{} }
func (scriptLang) Inspect(string, int, int) kernel.Inspection { return kernel.Inspection{} }
func (scriptLang) IsComplete(string) (string, string)         { return "complete", "" }
func (scriptLang) Reset() error                               { return nil }

// useScriptLang makes graft run use a scriptLang for the test.
func useScriptLang(t *testing.T) scriptLang {
	prev := newLanguage
	lang := scriptLang{waiting: make(chan struct{})}
	newLanguage = func() (kernel.Language, error) { return lang, nil }
	t.Cleanup(func() { newLanguage = prev })
	return lang
}

// writeNotebook writes a notebook with one code cell per source.
func writeNotebook(t *testing.T, sources ...string) string {
	t.Helper()
	nb := notebook.New()
	for _, s := range sources {
		nb.Cells = append(nb.Cells, &notebook.Cell{Type: notebook.CodeCell, Source: s})
	}
	path := filepath.Join(t.TempDir(), "nb.ipynb")
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func readNotebook(t *testing.T, path string) *notebook.Notebook {
	t.Helper()
	nb, err := notebook.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return nb
}

func TestParseRunArgs(t *testing.T) {
	o, err := parseRunArgs([]string{"a.ipynb", "-o", "b.ipynb", "--html=c.html", "--timeout", "90s", "--allow-errors", "-v"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := runOptions{notebook: "a.ipynb", out: "b.ipynb", html: "c.html", timeout: 90 * time.Second, allowErrors: true, verbose: true}
	if o != want {
		t.Errorf("parsed %+v, want %+v", o, want)
	}
	o, err = parseRunArgs([]string{"--timeout=2.5", "x.ipynb"}, io.Discard)
	if err != nil || o.timeout != 2500*time.Millisecond || o.out != "x.ipynb" || o.html != "" {
		t.Errorf("parsed %+v, %v; want a 2.5s timeout, output back into x.ipynb", o, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "missing NOTEBOOK.ipynb"},
		{[]string{"a.ipynb", "b.ipynb"}, "one notebook at a time"},
		{[]string{"a.ipynb", "--timeout", "soon"}, "neither a duration"},
		{[]string{"a.ipynb", "--timeout", "-1s"}, "negative timeout"},
		{[]string{"a.ipynb", "--bogus"}, "flag provided but not defined"},
	} {
		if _, err := parseRunArgs(tc.args, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseRunArgs(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	if _, err := parseRunArgs([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

func TestExecuteNotebookInPlace(t *testing.T) {
	useScriptLang(t)
	path := writeNotebook(t, "print one\nprint two", "warn careful\nimage")
	html := filepath.Join(filepath.Dir(path), "nb.html")
	var stdout, stderr bytes.Buffer
	err := executeNotebook(context.Background(), runOptions{notebook: path, out: path, html: html}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	nb := readNotebook(t, path)
	c0, c1 := nb.Cells[0], nb.Cells[1]
	if c0.ExecutionCount != 1 || len(c0.Outputs) != 1 || c0.Outputs[0].Text != "one\ntwo\n" {
		t.Errorf("first cell: count %d, outputs %+v", c0.ExecutionCount, c0.Outputs)
	}
	if c1.ExecutionCount != 2 || len(c1.Outputs) != 2 || c1.Outputs[0].Name != "stderr" ||
		c1.Outputs[1].Data["image/png"] != "iVBORw0KGgpmYWtl" {
		t.Errorf("second cell: count %d, outputs %+v", c1.ExecutionCount, c1.Outputs)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte(`src="data:image/png;base64,iVBORw0KGgpmYWtl"`)) {
		t.Error("the HTML page lacks the inlined image")
	}
	// Quiet without --verbose: one summary line, nothing on stderr.
	if !strings.HasPrefix(stdout.String(), "graft run: "+path+": 2 cells run in ") ||
		!strings.HasSuffix(stdout.String(), "; wrote "+path+" and "+html+"\n") || strings.Count(stdout.String(), "\n") != 1 {
		t.Errorf("stdout %q, want one summary line", stdout.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q, want nothing", stderr.String())
	}
}

func TestExecuteNotebookVerbose(t *testing.T) {
	useScriptLang(t)
	path := writeNotebook(t, "print one", "warn two")
	out := filepath.Join(filepath.Dir(path), "out.ipynb")
	before, _ := os.ReadFile(path)
	var stdout, stderr bytes.Buffer
	if err := executeNotebook(context.Background(), runOptions{notebook: path, out: out, verbose: true}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "one\ngraft run: ") || stderr.String() != "two\n" {
		t.Errorf("verbose run: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("-o OUT changed the input notebook")
	}
	if nb := readNotebook(t, out); nb.Cells[0].Outputs[0].Text != "one\n" {
		t.Errorf("OUT holds %+v", nb.Cells[0].Outputs)
	}
}

func TestExecuteNotebookCellError(t *testing.T) {
	useScriptLang(t)
	path := writeNotebook(t, "print ok", "fail broken", "print after")
	var stdout, stderr bytes.Buffer
	err := executeNotebook(context.Background(), runOptions{notebook: path, out: path}, &stdout, &stderr)
	var ee *notebook.ExecError
	if !errors.As(err, &ee) || ee.Index != 1 || ee.Err.Value != "broken" {
		t.Fatalf("executeNotebook returned %v, want the error of cell 2", err)
	}
	// The notebook is written anyway, with the error in its cell.
	nb := readNotebook(t, path)
	if o := nb.Cells[1].Outputs; len(o) != 1 || o[0].Type != notebook.ErrorOutput || o[0].EValue != "broken" {
		t.Errorf("failing cell outputs %+v", o)
	}
	if len(nb.Cells[2].Outputs) != 0 {
		t.Errorf("the cell after the error ran: %+v", nb.Cells[2].Outputs)
	}
	// The traceback goes to stderr, without colour codes when it is no terminal.
	if want := "cell 2 (In [2]) failed:\nError: broken\n\tcell:1\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	if !strings.Contains(stdout.String(), "2 cells run in") || !strings.Contains(stdout.String(), "1 failed") {
		t.Errorf("summary %q", stdout.String())
	}

	stdout.Reset()
	stderr.Reset()
	if err := executeNotebook(context.Background(), runOptions{notebook: path, out: path, allowErrors: true}, &stdout, &stderr); err != nil {
		t.Fatalf("--allow-errors: %v", err)
	}
	if nb := readNotebook(t, path); len(nb.Cells[2].Outputs) != 1 {
		t.Errorf("--allow-errors: the cell after the error did not run")
	}
	if !strings.Contains(stdout.String(), "3 cells run in") || !strings.Contains(stdout.String(), "1 failed") {
		t.Errorf("summary %q", stdout.String())
	}
}

func TestExecuteNotebookTimeout(t *testing.T) {
	useScriptLang(t)
	path := writeNotebook(t, "wait", "print never")
	err := executeNotebook(context.Background(), runOptions{notebook: path, out: path, timeout: 20 * time.Millisecond}, io.Discard, io.Discard)
	var ee *notebook.ExecError
	if !errors.As(err, &ee) || ee.Err.Name != "TimeoutError" {
		t.Fatalf("executeNotebook returned %v, want a TimeoutError", err)
	}
	if o := readNotebook(t, path).Cells[0].Outputs; len(o) != 1 || o[0].EName != "TimeoutError" {
		t.Errorf("timed-out cell outputs %+v", o)
	}
}

func TestExecuteNotebookInterrupted(t *testing.T) {
	lang := useScriptLang(t)
	path := writeNotebook(t, "print started\nwait")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-lang.waiting
		cancel() // as Ctrl-C does
	}()
	err := executeNotebook(ctx, runOptions{notebook: path, out: path}, io.Discard, io.Discard)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") || !strings.Contains(err.Error(), "cell 1") {
		t.Fatalf("executeNotebook returned %v, want the interruption of cell 1", err)
	}
	if o := readNotebook(t, path).Cells[0].Outputs; len(o) != 2 || o[0].Text != "started\n" || o[1].EName != "Interrupted" {
		t.Errorf("interrupted cell outputs %+v", o)
	}
}

func TestExecuteNotebookBadInput(t *testing.T) {
	useScriptLang(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.ipynb")
	os.WriteFile(bad, []byte(`{"nbformat": 3}`), 0o644)
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.ipynb"): "no such file",
		bad:                                 "nbformat 3 is not supported",
	} {
		err := executeNotebook(context.Background(), runOptions{notebook: path, out: path}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", path, err, want)
		}
	}
}
