package stdsymbols

import (
	"errors"
	"io"
	"log"
	"os"
	"strconv"
)

// The generated tables of os and log refer to these stand-ins (yaegi's
// extractor names them osExit, osFindProcess, logFatal, logFatalf,
// logFatalln, logNew and logLogger): a cell runs inside the kernel's
// process, which it must not end.

// osExit stands for os.Exit: it panics, so the cell fails and the kernel
// stays.
func osExit(code int) {
	panic("os.Exit(" + strconv.Itoa(code) + "): a cell cannot exit the kernel (restart the kernel instead)")
}

// errOwnProcess is os.FindProcess's error for the kernel's own process.
var errOwnProcess = errors.New("os.FindProcess: a cell cannot get hold of the kernel's own process")

// osFindProcess stands for os.FindProcess, refusing the process itself
// (which a cell could kill).
func osFindProcess(pid int) (*os.Process, error) {
	if pid == os.Getpid() {
		return nil, errOwnProcess
	}
	return os.FindProcess(pid)
}

// logFatal, logFatalf and logFatalln stand for log.Fatal, log.Fatalf and
// log.Fatalln: they panic as log.Panic does. (yaegi replaces them with the
// interpreter's own logger's Panic methods.)
func logFatal(v ...any)                 { log.Panic(v...) }
func logFatalf(format string, v ...any) { log.Panicf(format, v...) }
func logFatalln(v ...any)               { log.Panicln(v...) }

// logLogger stands for log.Logger in cells: a *log.Logger whose Fatal
// methods panic instead of ending the process. It has every method of
// *log.Logger (a test checks).
type logLogger struct{ l *log.Logger }

// logNew stands for log.New.
func logNew(out io.Writer, prefix string, flag int) *logLogger {
	return &logLogger{log.New(out, prefix, flag)}
}

func (l *logLogger) Fatal(v ...any)                 { l.l.Panic(v...) }
func (l *logLogger) Fatalf(format string, v ...any) { l.l.Panicf(format, v...) }
func (l *logLogger) Fatalln(v ...any)               { l.l.Panicln(v...) }
func (l *logLogger) Flags() int                     { return l.l.Flags() }
func (l *logLogger) Output(calldepth int, s string) error {
	return l.l.Output(calldepth+1, s)
}
func (l *logLogger) Panic(v ...any)                 { l.l.Panic(v...) }
func (l *logLogger) Panicf(format string, v ...any) { l.l.Panicf(format, v...) }
func (l *logLogger) Panicln(v ...any)               { l.l.Panicln(v...) }
func (l *logLogger) Prefix() string                 { return l.l.Prefix() }
func (l *logLogger) Print(v ...any)                 { l.l.Print(v...) }
func (l *logLogger) Printf(format string, v ...any) { l.l.Printf(format, v...) }
func (l *logLogger) Println(v ...any)               { l.l.Println(v...) }
func (l *logLogger) SetFlags(flag int)              { l.l.SetFlags(flag) }
func (l *logLogger) SetOutput(w io.Writer)          { l.l.SetOutput(w) }
func (l *logLogger) SetPrefix(prefix string)        { l.l.SetPrefix(prefix) }
func (l *logLogger) Writer() io.Writer              { return l.l.Writer() }
