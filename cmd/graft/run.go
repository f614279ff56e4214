package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/graftml/graft/kernel"
	"github.com/graftml/graft/kernel/golang"
	"github.com/graftml/graft/notebook"
)

// newLanguage starts the interpreter that runs the notebook's cells; tests
// replace it with a fake.
var newLanguage = func() (kernel.Language, error) {
	return golang.New(golang.Options{Version: Version})
}

const runUsage = `usage: graft run NOTEBOOK.ipynb [-o OUT.ipynb] [--html OUT.html] [--timeout D] [--allow-errors] [--verbose]

Executes the notebook's code cells in order with graft's Go interpreter, in
this process (neither Jupyter nor ZeroMQ is needed), and saves the outputs as
nbformat 4.5, exactly as Jupyter would store them.

  -o OUT.ipynb     write the executed notebook to OUT.ipynb and leave
                   NOTEBOOK.ipynb as it is; without -o the outputs are written
                   back into NOTEBOOK.ipynb, as Run All + Save in Jupyter or
                   jupyter nbconvert --execute --inplace would
  --html OUT.html  also write the executed notebook as one self-contained
                   HTML page (images inlined, no external resources)
  --timeout D      stop a cell that runs longer than D (a Go duration such as
                   90s or 5m, or a number of seconds) and record a TimeoutError;
                   0, the default, means no limit
  --allow-errors   record a failing cell's error and go on with the next cell
                   (cells tagged raises-exception always do)
  -v, --verbose    echo the cells' stdout and stderr to the terminal while
                   they run; without it only errors and a summary are printed

Every code cell's old outputs are cleared first. The notebook (and the HTML
page) is written even when a cell fails or the run is interrupted (Ctrl-C),
with the error in the failing cell. The exit status is 0 when every cell ran
without error (or --allow-errors was given) and 1 otherwise. Cells cannot
read standard input: a cell that asks for input gets an error.`

// runOptions are the parsed arguments of graft run.
type runOptions struct {
	notebook, out, html string
	timeout             time.Duration
	allowErrors         bool
	verbose             bool
}

// durationFlag reads a Go duration or a plain number of seconds.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return "0s"
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 {
			return fmt.Errorf("negative timeout %q", s)
		}
		*f.d = time.Duration(secs * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is neither a duration (90s, 5m) nor a number of seconds", s)
	}
	if d < 0 {
		return fmt.Errorf("negative timeout %q", s)
	}
	*f.d = d
	return nil
}

// parseRunArgs parses graft run's arguments; flags may come before or after
// the notebook. It returns flag.ErrHelp after printing the usage for -h.
func parseRunArgs(args []string, stderr io.Writer) (runOptions, error) {
	var o runOptions
	fs := flag.NewFlagSet("graft run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, runUsage) }
	fs.StringVar(&o.out, "o", "", "write the executed notebook to `OUT.ipynb`")
	fs.StringVar(&o.html, "html", "", "also write an HTML page to `OUT.html`")
	fs.Var(durationFlag{&o.timeout}, "timeout", "per-cell time limit")
	fs.BoolVar(&o.allowErrors, "allow-errors", false, "go on after a failing cell")
	fs.BoolVar(&o.verbose, "verbose", false, "echo cell output")
	fs.BoolVar(&o.verbose, "v", false, "echo cell output")
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return o, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	switch len(positional) {
	case 0:
		return o, errors.New("missing NOTEBOOK.ipynb\n" + runUsage)
	case 1:
		o.notebook = positional[0]
	default:
		return o, fmt.Errorf("one notebook at a time, got %q", positional)
	}
	if o.out == "" {
		o.out = o.notebook
	}
	return o, nil
}

// runNotebook is `graft run`.
func runNotebook(args []string) error {
	o, err := parseRunArgs(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process the usual way
	}()
	return executeNotebook(ctx, o, os.Stdout, os.Stderr)
}

// executeNotebook runs o.notebook and writes the results; progress and
// errors go to stdout and stderr.
func executeNotebook(ctx context.Context, o runOptions, stdout, stderr io.Writer) error {
	nb, err := notebook.ReadFile(o.notebook)
	if err != nil {
		return err
	}
	lang, err := newLanguage()
	if err != nil {
		return fmt.Errorf("starting the Go interpreter: %w", err)
	}
	colour := isTerminal(stderr)
	ran, failed := 0, 0
	opts := notebook.RunOptions{
		Timeout:     o.timeout,
		AllowErrors: o.allowErrors,
		OnCell: func(c notebook.CellRun) {
			ran++
			if c.Err == nil {
				return
			}
			failed++
			fmt.Fprintf(stderr, "cell %d (In [%d]) failed:\n", c.Index+1, c.Cell.ExecutionCount)
			tb := strings.Join(c.Err.Traceback, "\n")
			if tb == "" {
				tb = c.Err.Error()
			}
			if !colour {
				tb = notebook.StripANSI(tb)
			}
			fmt.Fprintln(stderr, strings.TrimRight(tb, "\n"))
		},
	}
	if o.verbose {
		opts.Stdout, opts.Stderr = stdout, stderr
	}
	start := time.Now()
	runErr := notebook.Run(ctx, nb, lang, opts)
	elapsed := time.Since(start)

	var wrote []string
	if err := nb.WriteFile(o.out); err != nil {
		return errors.Join(runErr, fmt.Errorf("writing %s: %w", o.out, err))
	}
	wrote = append(wrote, o.out)
	if o.html != "" {
		if err := writeHTML(o.html, nb); err != nil {
			return errors.Join(runErr, fmt.Errorf("writing %s: %w", o.html, err))
		}
		wrote = append(wrote, o.html)
	}
	summary := fmt.Sprintf("graft run: %s: %d %s run in %s", o.notebook, ran, plural(ran, "cell"), elapsed.Round(time.Millisecond))
	if failed > 0 {
		summary += fmt.Sprintf(", %d failed", failed)
	}
	fmt.Fprintf(stdout, "%s; wrote %s\n", summary, strings.Join(wrote, " and "))
	if errors.Is(runErr, context.Canceled) {
		return fmt.Errorf("interrupted: %w", runErr)
	}
	return runErr
}

func writeHTML(path string, nb *notebook.Notebook) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := notebook.WriteHTML(f, nb, notebook.HTMLOptions{}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// isTerminal reports whether w is a character device (a terminal), where
// ANSI colours in tracebacks are worth keeping.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
