package notebook

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel"
)

// fakeLang is a kernel.Language for tests. Each line of a cell is a command:
//
//	out "text"          stream text to stdout (Go-quoted)
//	err "text"          stream text to stderr
//	show ID "text"      display text/plain with display id ID ("-" for none)
//	update ID "text"    update the display with id ID
//	html "markup"       display text/html with a text/plain fallback
//	png                 display a 1×1 PNG (display.PNG)
//	json                display display.JSON of {"a": 1, "b": [true, null]}
//	result "text"       the trailing value: text/plain
//	clear / clearwait   clear the output now / on the next output
//	input               ask for input; stream the error it gets
//	fail NAME "value"   end the cell with an error
//	block               wait until ctx is done, then fail with Interrupted
//	hang                ignore ctx; wait until the test releases it
//	panic               panic
//	late                start a goroutine that streams "late" once released
//
// It records the requests it gets.
type fakeLang struct {
	mu       sync.Mutex
	requests []kernel.ExecuteRequest
	release  chan struct{} // closed by the test to end "hang" and "late"
	lateDone chan struct{} // closed when the "late" goroutine has written
	blocking chan struct{} // closed when a "block" command starts waiting
	once     sync.Once
}

func newFakeLang() *fakeLang {
	return &fakeLang{release: make(chan struct{}), lateDone: make(chan struct{}), blocking: make(chan struct{})}
}

// tinyPNG is the start of a 1×1 PNG (signature and header chunk): enough
// for display.PNG to read its size.
var tinyPNG = []byte{
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
	0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde,
}

// executed returns the requests Execute has received so far.
func (f *fakeLang) executed() []kernel.ExecuteRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]kernel.ExecuteRequest(nil), f.requests...)
}

func (f *fakeLang) Info() kernel.LanguageInfo {
	return kernel.LanguageInfo{Name: "go", Version: "1.26.8", MIMEType: "text/x-go", FileExtension: ".go",
		PygmentsLexer: "go", CodeMirrorMode: "go", Implementation: "graft"}
}

func (f *fakeLang) Execute(ctx context.Context, req kernel.ExecuteRequest, out kernel.Output) kernel.Result {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	for _, line := range strings.Split(req.Code, "\n") {
		cmd, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		arg := func(s string) string {
			v, err := strconv.Unquote(s)
			if err != nil {
				panic(fmt.Sprintf("fakeLang: bad argument %s", s))
			}
			return v
		}
		switch cmd {
		case "":
		case "out":
			out.Stream("stdout", arg(rest))
		case "err":
			out.Stream("stderr", arg(rest))
		case "show", "update":
			id, text, _ := strings.Cut(rest, " ")
			if id == "-" {
				id = ""
			}
			out.Display(display.NewBundle(arg(text)), id, cmd == "update")
		case "html":
			out.Display(display.Render(display.HTML(arg(rest))), "", false)
		case "png":
			out.Display(display.Render(display.PNG(tinyPNG)), "", false)
		case "json":
			out.Display(display.Render(display.JSON(map[string]any{"a": 1, "b": []any{true, nil}})), "", false)
		case "result":
			out.Result(display.NewBundle(arg(rest)))
		case "clear":
			out.Clear(false)
		case "clearwait":
			out.Clear(true)
		case "input":
			if _, err := out.Input("name? ", false); err != nil {
				out.Stream("stderr", err.Error()+"\n")
			}
		case "fail":
			name, value, _ := strings.Cut(rest, " ")
			return kernel.Result{Error: &kernel.CellError{Name: name, Value: arg(value),
				Traceback: []string{"\x1b[31m" + name + "\x1b[0m: " + arg(value)}}}
		case "block":
			f.once.Do(func() { close(f.blocking) })
			<-ctx.Done()
			return kernel.Result{Error: &kernel.CellError{Name: "Interrupted", Value: "interrupted",
				Traceback: []string{"Interrupted at line 1"}}}
		case "hang":
			<-f.release
		case "panic":
			panic("boom")
		case "late":
			go func() {
				<-f.release
				out.Stream("stdout", "late\n")
				close(f.lateDone)
			}()
		default:
			return kernel.Result{Error: &kernel.CellError{Name: "SyntaxError", Value: "unknown command " + cmd}}
		}
	}
	return kernel.Result{}
}

func (f *fakeLang) Complete(code string, cursor int) kernel.Completion { return kernel.Completion{} }
func (f *fakeLang) Inspect(code string, cursor, detail int) kernel.Inspection {
	return kernel.Inspection{}
}
func (f *fakeLang) IsComplete(code string) (string, string) { return "complete", "" }
func (f *fakeLang) Reset() error                            { return nil }

// waitOrTimeout fails the calling test if ch is not closed within d.
func waitOrTimeout(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}
