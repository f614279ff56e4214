// Package kernel is graft's Jupyter kernel: the protocol half (wire format,
// signing, sockets, message routing, status, history, comms, interrupts) and
// the interface to the language half that executes cells. The protocol never
// leaks into the language half: a Language sees code and an Output, nothing of
// ZeroMQ or message headers, so `graft run` drives the same Language in-process.
package kernel

import (
	"context"

	"github.com/graftml/graft/display"
)

// Language executes cells and answers the editor's questions about code. The
// protocol half calls Execute for one cell at a time; Complete, Inspect and
// IsComplete may be called while a cell runs.
type Language interface {
	// Info describes the language for kernel_info_reply.
	Info() LanguageInfo
	// Execute runs one cell. Outputs go to out while the cell runs; the
	// returned Result says how it ended. ctx is cancelled when the user
	// interrupts the cell; Execute must then return promptly (within a
	// second) with an error result whose Name is "Interrupted".
	Execute(ctx context.Context, req ExecuteRequest, out Output) Result
	// Complete returns completions for the code at cursor (a rune offset).
	Complete(code string, cursor int) Completion
	// Inspect returns documentation for the name at cursor (a rune offset);
	// detail 0 is the signature and doc, 1 or more may add source. Found is
	// false when there is nothing to show.
	Inspect(code string, cursor, detail int) Inspection
	// IsComplete says whether code is ready to execute: "complete",
	// "incomplete" (with the indent for the next line), "invalid" or "unknown".
	IsComplete(code string) (status, indent string)
	// Reset forgets all state, as after a restart.
	Reset() error
}

// LanguageInfo is the language part of kernel_info_reply.
type LanguageInfo struct {
	Name              string // "go"
	Version           string // the Go version, e.g. "1.26.8"
	MIMEType          string // "text/x-go"
	FileExtension     string // ".go"
	PygmentsLexer     string // "go"
	CodeMirrorMode    string // "go"
	NBConvertExporter string // "" or an exporter name
	Implementation    string // "graft"
	ImplementationVer string // graft's version
	Banner            string
	HelpLinks         []HelpLink
}

// HelpLink is one entry of the frontend's Help menu.
type HelpLink struct {
	Text string
	URL  string
}

// ExecuteRequest is what the frontend asked for in execute_request.
type ExecuteRequest struct {
	Code           string
	Silent         bool // no outputs, no execution count increase
	StoreHistory   bool
	AllowStdin     bool
	StopOnError    bool
	ExecutionCount int // the count this cell gets (In[n]); the protocol half assigns it
	// UserExpressions are evaluated after the cell; results go in
	// Result.UserExpressions under the same names.
	UserExpressions map[string]string
}

// Result is how a cell ended.
type Result struct {
	// Error is nil when the cell succeeded.
	Error *CellError
	// UserExpressions holds one bundle (or an error) per requested expression.
	UserExpressions map[string]ExpressionResult
	// Payload carries pager output (from %doc, NAME?): a bundle to show in
	// the frontend's pager, or nil.
	Pager *display.Bundle
}

// ExpressionResult is the value of one user expression.
type ExpressionResult struct {
	Value display.Bundle
	Error *CellError
}

// CellError is a failed cell: the exception name, its message and a short
// traceback in the cell's own line numbers (one string per line, may contain
// ANSI colour codes).
type CellError struct {
	Name      string
	Value     string
	Traceback []string
}

// Error implements error.
func (e *CellError) Error() string { return e.Name + ": " + e.Value }

// Output carries one cell's outputs to the frontend as they happen. The
// Language reports a failing cell only through Result, never through Output,
// so a failing cell has exactly one error output.
type Output interface {
	// Stream writes text to "stdout" or "stderr".
	Stream(name, text string)
	// Display shows a bundle; id is the display id ("" for none); update
	// replaces the output with that id instead of adding one.
	Display(b display.Bundle, id string, update bool)
	// Result shows the value of the cell's trailing expression as Out[n].
	Result(b display.Bundle)
	// Clear clears the cell's output (wait: on the next output).
	Clear(wait bool)
	// Input asks the user for a line of text; it returns an error when the
	// frontend does not allow input. The protocol half sends input_request
	// and waits for input_reply (or an interrupt, via ctx of Execute).
	Input(prompt string, password bool) (string, error)
}

// Completion is the answer to complete_request.
type Completion struct {
	Matches     []string
	CursorStart int // rune offsets of the text the matches replace
	CursorEnd   int
	// Types optionally gives each match's kind ("function", "variable",
	// "package", "type", "field", "method", "keyword") in the same order.
	Types []string
}

// Inspection is the answer to inspect_request.
type Inspection struct {
	Found bool
	Data  display.Bundle
}
