package notebook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/graftml/graft/kernel"
)

// Cell tags that Run honours, as nbclient does.
const (
	// TagRaisesException marks a code cell expected to fail: its error is
	// recorded and the run goes on.
	TagRaisesException = "raises-exception"
	// TagSkipExecution marks a code cell Run leaves alone.
	TagSkipExecution = "skip-execution"
)

// DefaultGrace is how long Run waits for a cell to stop after its timeout or
// an interrupt before it gives up on the language.
const DefaultGrace = 5 * time.Second

// RunOptions configures Run.
type RunOptions struct {
	// Timeout limits each cell's run time; 0 means no limit. A cell that
	// runs longer is interrupted and gets a TimeoutError output.
	Timeout time.Duration
	// AllowErrors makes Run record a failing cell's error and go on, as
	// nbclient's allow_errors does; otherwise Run stops at the first error.
	AllowErrors bool
	// Stdout and Stderr, when not nil, receive the cells' stream output as
	// it is produced (the notebook records it either way).
	Stdout, Stderr io.Writer
	// OnCell, when not nil, is called after each executed code cell.
	OnCell func(CellRun)
	// Grace is how long to wait for a cell to stop once it has been
	// interrupted (timeout or ctx cancelled); 0 means DefaultGrace.
	Grace time.Duration
}

// CellRun describes one executed code cell, for RunOptions.OnCell.
type CellRun struct {
	Index   int // position in Notebook.Cells, from 0
	Cell    *Cell
	Err     *kernel.CellError // nil when the cell succeeded
	Elapsed time.Duration
}

// ExecError is the error Run returns for a failing cell.
type ExecError struct {
	Index int    // position in Notebook.Cells, from 0
	ID    string // the cell id
	Err   *kernel.CellError
}

// Error implements error.
func (e *ExecError) Error() string {
	return fmt.Sprintf("cell %d (id %s): %s", e.Index+1, e.ID, e.Err.Error())
}

// Unwrap returns the cell's error.
func (e *ExecError) Unwrap() error { return e.Err }

// Run executes the notebook's code cells in order through lang and stores
// their outputs and execution counts in nb, as a Jupyter client (nbclient)
// stores them. Every code cell's outputs and count are reset first, so cells
// that do not run (after an error, empty ones, ones tagged skip-execution —
// the latter keep theirs) show no stale results. The notebook's kernelspec
// and language_info metadata are set to graft's.
//
// A failing cell gets one error output; Run then returns an *ExecError
// naming it, unless opts.AllowErrors is set or the cell is tagged
// raises-exception. A cell that exceeds opts.Timeout gets a TimeoutError
// output and counts as failing. When ctx is cancelled the running cell is
// interrupted and Run returns an error wrapping ctx.Err(). Cells that ask for
// input get ErrNoStdin.
func Run(ctx context.Context, nb *Notebook, lang kernel.Language, opts RunOptions) error {
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	for _, c := range nb.Cells {
		if c.Type == CodeCell && !hasTag(c, TagSkipExecution) {
			c.Outputs, c.ExecutionCount = nil, 0
		}
	}
	setMetadata(nb, lang.Info())
	echo := map[string]io.Writer{"stdout": opts.Stdout, "stderr": opts.Stderr}
	rec := newRecorder(nb, echo)
	count := 0
	for i, c := range nb.Cells {
		if c.Type != CodeCell || strings.TrimSpace(c.Source) == "" || hasTag(c, TagSkipExecution) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("notebook run stopped before cell %d: %w", i+1, err)
		}
		count++
		c.ExecutionCount = count
		req := kernel.ExecuteRequest{
			Code:           c.Source,
			StoreHistory:   true,
			StopOnError:    !(opts.AllowErrors || hasTag(c, TagRaisesException)),
			ExecutionCount: count,
		}
		start := time.Now()
		rec.start(i, count)
		cellErr, fatal := execute(ctx, lang, req, rec, opts)
		rec.stop()
		if cellErr != nil {
			rec.addError(cellErr.Name, cellErr.Value, cellErr.Traceback)
		}
		if opts.OnCell != nil {
			opts.OnCell(CellRun{Index: i, Cell: c, Err: cellErr, Elapsed: time.Since(start)})
		}
		if fatal != nil {
			return fmt.Errorf("cell %d (id %s): %w", i+1, c.ID, fatal)
		}
		if cellErr != nil && req.StopOnError {
			return &ExecError{Index: i, ID: c.ID, Err: cellErr}
		}
	}
	return nil
}

// errStuck is returned when a cell does not stop after being interrupted.
var errStuck = errors.New("the cell did not stop after it was interrupted; the run cannot go on")

// execute runs one cell. It returns the cell's error (nil on success) and,
// when the run cannot go on (ctx cancelled, or a cell that will not stop),
// a fatal error.
func execute(ctx context.Context, lang kernel.Language, req kernel.ExecuteRequest, out kernel.Output, opts RunOptions) (*kernel.CellError, error) {
	cctx, cancel := ctx, context.CancelFunc(func() {})
	if opts.Timeout > 0 {
		cctx, cancel = context.WithTimeout(ctx, opts.Timeout)
	}
	defer cancel()
	done := make(chan kernel.Result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- kernel.Result{Error: &kernel.CellError{
					Name:      "panic",
					Value:     fmt.Sprint(p),
					Traceback: append([]string{fmt.Sprintf("panic: %v", p)}, strings.Split(strings.TrimRight(string(debug.Stack()), "\n"), "\n")...),
				}}
			}
		}()
		done <- lang.Execute(cctx, req, out)
	}()
	var res kernel.Result
	stuck := false
	select {
	case res = <-done:
	case <-cctx.Done():
		select {
		case res = <-done:
		case <-time.After(opts.Grace):
			stuck = true
		}
	}
	interrupted := ctx.Err() != nil
	timedOut := !interrupted && errors.Is(cctx.Err(), context.DeadlineExceeded) && (stuck || res.Error != nil)
	cellErr := res.Error
	switch {
	case timedOut:
		var tb []string
		if cellErr != nil {
			tb = slices.Clone(cellErr.Traceback)
		}
		value := fmt.Sprintf("cell did not finish within %v", opts.Timeout)
		cellErr = &kernel.CellError{Name: "TimeoutError", Value: value, Traceback: append(tb, "TimeoutError: "+value)}
	case stuck:
		cellErr = &kernel.CellError{Name: "Interrupted", Value: "interrupted", Traceback: []string{"Interrupted: the run was stopped"}}
	}
	switch {
	case stuck:
		return cellErr, errStuck
	case interrupted:
		return cellErr, ctx.Err()
	}
	return cellErr, nil
}

func hasTag(c *Cell, tag string) bool {
	tags, _ := c.Metadata["tags"].([]any)
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Kernelspec values that Run writes into the notebook metadata.
const (
	KernelName        = "graft"
	KernelDisplayName = "Go (graft)"
	KernelLanguage    = "go"
)

// setMetadata records graft's kernelspec (keeping a kernelspec that already
// names a Go kernel, e.g. one installed under another name) and the
// language's language_info, as Jupyter does when it saves a notebook.
func setMetadata(nb *Notebook, info kernel.LanguageInfo) {
	if nb.Metadata == nil {
		nb.Metadata = map[string]any{}
	}
	if ks, ok := nb.Metadata["kernelspec"].(map[string]any); !ok || ks["language"] != KernelLanguage || ks["name"] == nil || ks["display_name"] == nil {
		nb.Metadata["kernelspec"] = map[string]any{
			"display_name": KernelDisplayName,
			"language":     KernelLanguage,
			"name":         KernelName,
		}
	}
	li := map[string]any{}
	for k, v := range map[string]string{
		"name":               info.Name,
		"version":            info.Version,
		"mimetype":           info.MIMEType,
		"file_extension":     info.FileExtension,
		"pygments_lexer":     info.PygmentsLexer,
		"codemirror_mode":    info.CodeMirrorMode,
		"nbconvert_exporter": info.NBConvertExporter,
	} {
		if v != "" {
			li[k] = v
		}
	}
	if li["name"] == nil {
		li["name"] = KernelLanguage
	}
	nb.Metadata["language_info"] = li
}
