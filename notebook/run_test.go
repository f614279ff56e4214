package notebook

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/graftml/graft/kernel"
)

// code returns a code cell with the given source.
func code(src string) *Cell {
	return &Cell{Type: CodeCell, Source: src, Metadata: map[string]any{}}
}

func newNotebook(cells ...*Cell) *Notebook {
	nb := New()
	nb.Cells = cells
	return nb
}

func stream(name, text string) *Output {
	return &Output{Type: StreamOutput, Name: name, Text: text}
}

func displayText(text string) *Output {
	return &Output{Type: DisplayDataOutput, Data: map[string]any{"text/plain": text}, Metadata: map[string]any{}}
}

func errorOut(name, value string, tb ...string) *Output {
	return &Output{Type: ErrorOutput, EName: name, EValue: value, Traceback: tb}
}

// sameOutputs compares outputs, printing both sides as JSON on mismatch.
func sameOutputs(t *testing.T, what string, got, want []*Output) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	t.Errorf("%s outputs:\n got %s\nwant %s", what, g, w)
}

// runNotebookFixture is the notebook TestRunOutputs runs; other tests reuse
// the result.
func runNotebookFixture(t *testing.T) *Notebook {
	t.Helper()
	nb := newNotebook(
		&Cell{Type: MarkdownCell, Source: "# Title", Metadata: map[string]any{}},
		code("out \"a\"\nout \"b\\n\"\nerr \"e\\n\"\nout \"c\\n\"\nresult \"42\""),
		code("show d1 \"first\"\npng\njson\nhtml \"<b>x</b>\""),
		code("   \n"),
		code("update d1 \"second\"\nshow d1 \"third\"\nupdate nope \"x\""),
		code("out \"x\\n\"\nclear\nout \"y\\n\"\nclearwait\nout \"z\\n\""),
		code("show d2 \"v1\"\nclearwait\nupdate d2 \"v2\"\nout \"after\\n\""),
		code("input"),
		code("out \"before\\n\"\nfail ValueError \"bad\"\nout \"never\\n\""),
		code("panic"),
		code("result \"last\""),
	)
	// Stale results from an earlier run must go.
	nb.Cells[3].Outputs = []*Output{stream("stdout", "stale\n")}
	nb.Cells[3].ExecutionCount = 9
	f := newFakeLang()
	var stdout, stderr bytes.Buffer
	var ran []int
	err := Run(context.Background(), nb, f, RunOptions{
		AllowErrors: true, Stdout: &stdout, Stderr: &stderr,
		OnCell: func(c CellRun) { ran = append(ran, c.Index) },
	})
	if err != nil {
		t.Fatalf("Run with AllowErrors: %v", err)
	}
	if want := []int{1, 2, 4, 5, 6, 7, 8, 9, 10}; !reflect.DeepEqual(ran, want) {
		t.Errorf("OnCell saw cells %v, want %v", ran, want)
	}
	for k, req := range f.executed() {
		if req.ExecutionCount != k+1 || req.StopOnError || !req.StoreHistory {
			t.Errorf("request %d: count %d, stop_on_error %v, store_history %v; want %d, false, true",
				k, req.ExecutionCount, req.StopOnError, req.StoreHistory, k+1)
		}
	}
	if got, want := stdout.String(), "ab\nc\nx\ny\nz\nafter\nbefore\n"; got != want {
		t.Errorf("echoed stdout %q, want %q", got, want)
	}
	if got, want := stderr.String(), "e\nstdin not available in graft run\n"; got != want {
		t.Errorf("echoed stderr %q, want %q", got, want)
	}
	return nb
}

func TestRunOutputs(t *testing.T) {
	nb := runNotebookFixture(t)
	c := nb.Cells

	wantCounts := []int{0, 1, 2, 0, 3, 4, 5, 6, 7, 8, 9}
	for i, cell := range c {
		if cell.ExecutionCount != wantCounts[i] {
			t.Errorf("cell %d: execution count %d, want %d", i, cell.ExecutionCount, wantCounts[i])
		}
	}

	// Consecutive streams of one name merge; stderr between them splits them.
	sameOutputs(t, "streams", c[1].Outputs, []*Output{
		stream("stdout", "ab\n"),
		stream("stderr", "e\n"),
		stream("stdout", "c\n"),
		{Type: ExecuteResultOutput, Data: map[string]any{"text/plain": "42"}, Metadata: map[string]any{}, ExecutionCount: 1},
	})

	// The display with id d1 shows what the later cell last sent for d1; PNG
	// bytes become base64, JSON stays JSON, HTML keeps a text fallback.
	jsonData := map[string]any{"a": json.Number("1"), "b": []any{true, nil}}
	sameOutputs(t, "rich", c[2].Outputs, []*Output{
		displayText("third"),
		{Type: DisplayDataOutput, Data: map[string]any{
			"text/plain": "<PNG image 1x1>",
			"image/png":  base64.StdEncoding.EncodeToString(tinyPNG),
		}, Metadata: map[string]any{}},
		{Type: DisplayDataOutput, Data: map[string]any{
			"text/plain":       "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null\n  ]\n}",
			"application/json": jsonData,
		}, Metadata: map[string]any{}},
		{Type: DisplayDataOutput, Data: map[string]any{"text/plain": "x", "text/html": "<b>x</b>"}, Metadata: map[string]any{}},
	})
	if got := c[2].Outputs[1].Data["image/png"]; got != "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1Pe" {
		t.Errorf("PNG base64 %q", got)
	}

	sameOutputs(t, "empty cell", c[3].Outputs, nil)
	sameOutputs(t, "update and re-show", c[4].Outputs, []*Output{displayText("third")})
	sameOutputs(t, "clear", c[5].Outputs, []*Output{stream("stdout", "z\n")})
	sameOutputs(t, "clear wait with update", c[6].Outputs, []*Output{stream("stdout", "after\n")})
	sameOutputs(t, "input", c[7].Outputs, []*Output{stream("stderr", "stdin not available in graft run\n")})
	sameOutputs(t, "error", c[8].Outputs, []*Output{
		stream("stdout", "before\n"),
		errorOut("ValueError", "bad", "\x1b[31mValueError\x1b[0m: bad"),
	})
	if o := c[9].Outputs; len(o) != 1 || o[0].Type != ErrorOutput || o[0].EName != "panic" || o[0].EValue != "boom" ||
		len(o[0].Traceback) < 2 || o[0].Traceback[0] != "panic: boom" {
		t.Errorf("panicking cell outputs: %+v", o)
	}
	sameOutputs(t, "last", c[10].Outputs, []*Output{
		{Type: ExecuteResultOutput, Data: map[string]any{"text/plain": "last"}, Metadata: map[string]any{}, ExecutionCount: 9},
	})

	ks, _ := nb.Metadata["kernelspec"].(map[string]any)
	if want := map[string]any{"name": "graft", "display_name": "Go (graft)", "language": "go"}; !reflect.DeepEqual(ks, want) {
		t.Errorf("kernelspec %v, want %v", ks, want)
	}
	li, _ := nb.Metadata["language_info"].(map[string]any)
	if want := map[string]any{"name": "go", "version": "1.26.8", "mimetype": "text/x-go", "file_extension": ".go",
		"pygments_lexer": "go", "codemirror_mode": "go"}; !reflect.DeepEqual(li, want) {
		t.Errorf("language_info %v, want %v", li, want)
	}
}

func TestRunStopsAtFirstError(t *testing.T) {
	nb := newNotebook(code("out \"1\\n\""), code("fail NameError \"x is not defined\""), code("out \"never\\n\""))
	nb.Cells[2].Outputs = []*Output{stream("stdout", "stale\n")}
	nb.Cells[2].ExecutionCount = 7
	f := newFakeLang()
	err := Run(context.Background(), nb, f, RunOptions{})
	var ee *ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("Run returned %v, want an *ExecError", err)
	}
	if ee.Index != 1 || ee.ID != nb.Cells[1].ID || ee.Err.Name != "NameError" {
		t.Errorf("ExecError %+v, want cell index 1, id %s, NameError", ee, nb.Cells[1].ID)
	}
	if want := "cell 2 (id " + nb.Cells[1].ID + "): NameError: x is not defined"; err.Error() != want {
		t.Errorf("error text %q, want %q", err.Error(), want)
	}
	if len(f.executed()) != 2 || !f.executed()[1].StopOnError {
		t.Errorf("requests %+v: want two, with stop_on_error", f.executed())
	}
	if n := len(nb.Cells[2].Outputs); n != 0 || nb.Cells[2].ExecutionCount != 0 {
		t.Errorf("the cell after the error kept %d outputs and count %d", n, nb.Cells[2].ExecutionCount)
	}
	if got := nb.Cells[1].Outputs; len(got) != 1 || got[0].Type != ErrorOutput {
		t.Errorf("failing cell outputs %+v, want one error", got)
	}
}

func TestRunTags(t *testing.T) {
	raises := code("fail ValueError \"expected\"")
	raises.Metadata["tags"] = []any{"raises-exception"}
	skip := code("out \"skipped\\n\"")
	skip.Metadata["tags"] = []any{"skip-execution"}
	skip.Outputs = []*Output{stream("stdout", "kept\n")}
	nb := newNotebook(raises, skip, code("out \"ran\\n\""))
	if err := Run(context.Background(), nb, newFakeLang(), RunOptions{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	sameOutputs(t, "raises-exception", nb.Cells[0].Outputs, []*Output{errorOut("ValueError", "expected", "\x1b[31mValueError\x1b[0m: expected")})
	sameOutputs(t, "skip-execution", nb.Cells[1].Outputs, []*Output{stream("stdout", "kept\n")})
	sameOutputs(t, "after", nb.Cells[2].Outputs, []*Output{stream("stdout", "ran\n")})
	if nb.Cells[2].ExecutionCount != 2 {
		t.Errorf("execution count after a skipped cell %d, want 2", nb.Cells[2].ExecutionCount)
	}
}

func TestRunTimeout(t *testing.T) {
	nb := newNotebook(code("out \"start\\n\"\nblock"), code("out \"never\\n\""))
	err := Run(context.Background(), nb, newFakeLang(), RunOptions{Timeout: 50 * time.Millisecond})
	var ee *ExecError
	if !errors.As(err, &ee) || ee.Index != 0 || ee.Err.Name != "TimeoutError" {
		t.Fatalf("Run returned %v, want a TimeoutError in cell 1", err)
	}
	sameOutputs(t, "timed out", nb.Cells[0].Outputs, []*Output{
		stream("stdout", "start\n"),
		errorOut("TimeoutError", "cell did not finish within 50ms", "Interrupted at line 1", "TimeoutError: cell did not finish within 50ms"),
	})
	if len(nb.Cells[1].Outputs) != 0 {
		t.Errorf("the cell after the timeout ran: %+v", nb.Cells[1].Outputs)
	}
}

func TestRunCellThatWillNotStop(t *testing.T) {
	f := newFakeLang()
	defer close(f.release)
	nb := newNotebook(code("hang"), code("out \"never\\n\""))
	err := Run(context.Background(), nb, f, RunOptions{Timeout: 10 * time.Millisecond, Grace: 10 * time.Millisecond, AllowErrors: true})
	if !errors.Is(err, errStuck) || !strings.Contains(err.Error(), "cell 1") {
		t.Fatalf("Run returned %v, want the stuck-cell error naming cell 1", err)
	}
	if o := nb.Cells[0].Outputs; len(o) != 1 || o[0].EName != "TimeoutError" {
		t.Errorf("stuck cell outputs %+v, want a TimeoutError", o)
	}
	if len(f.executed()) != 1 {
		t.Errorf("%d cells executed after a stuck one, want none", len(f.executed())-1)
	}
}

func TestRunInterrupted(t *testing.T) {
	f := newFakeLang()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-f.blocking
		cancel()
	}()
	nb := newNotebook(code("block"), code("out \"never\\n\""))
	err := Run(ctx, nb, f, RunOptions{AllowErrors: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	sameOutputs(t, "interrupted", nb.Cells[0].Outputs, []*Output{errorOut("Interrupted", "interrupted", "Interrupted at line 1")})
	if len(f.executed()) != 1 {
		t.Errorf("%d cells executed after the interrupt, want none", len(f.executed())-1)
	}
}

func TestRunDropsOutputAfterCellEnds(t *testing.T) {
	f := newFakeLang()
	nb := newNotebook(code("late"), code("out \"second\\n\""))
	if err := Run(context.Background(), nb, f, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	close(f.release)
	if !waitOrTimeout(f.lateDone, 10*time.Second) {
		t.Fatal("the late goroutine never wrote")
	}
	sameOutputs(t, "late", nb.Cells[0].Outputs, nil)
	sameOutputs(t, "second", nb.Cells[1].Outputs, []*Output{stream("stdout", "second\n")})
}

func TestRunKeepsGoKernelspec(t *testing.T) {
	nb := newNotebook(code("out \"x\""))
	nb.Metadata["kernelspec"] = map[string]any{"name": "graft-dev", "display_name": "Go (graft dev)", "language": "go"}
	if err := Run(context.Background(), nb, newFakeLang(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if ks := nb.Metadata["kernelspec"].(map[string]any); ks["name"] != "graft-dev" {
		t.Errorf("kernelspec %v: a Go kernelspec should be kept", ks)
	}
	nb.Metadata["kernelspec"] = map[string]any{"name": "python3", "display_name": "Python 3", "language": "python"}
	if err := Run(context.Background(), nb, newFakeLang(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if ks := nb.Metadata["kernelspec"].(map[string]any); ks["name"] != "graft" {
		t.Errorf("kernelspec %v: a Python kernelspec should become graft's", ks)
	}
}

var _ kernel.Language = (*fakeLang)(nil)
