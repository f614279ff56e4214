// Package cell turns the source of one notebook cell into the steps that the
// yaegi interpreter evaluates.
//
// A cell may mix declarations (func, type, var, const, import), statements
// and expressions in any order. yaegi evaluates either a list of
// declarations or a list of statements per Eval, lags the language in a few
// places (range over integers and functions, the builtins min, max and
// clear, generic functions called in the Eval that declares them, type
// redefinition), and reports positions in its own wrapping of the source.
// Analyze splits a cell into steps ordered so that each one compiles,
// rewrites the constructs yaegi cannot run into ones it can, and records for
// every line of every step the cell line it came from. It also rejects, with
// the Go compiler's message, the mistakes yaegi would run anyway (a missing
// return, a call of several results used as one value); Check gives the Go
// compiler's errors for a cell yaegi failed to compile.
package cell

import (
	"fmt"
	"reflect"
)

// Scope is what the interpreter knows from earlier cells.
type Scope struct {
	// Globals are the variables (and their types) defined by earlier
	// cells; may be nil.
	Globals map[string]reflect.Type
	// Defined holds any other top-level names already defined (funcs,
	// types, consts); may be nil.
	Defined map[string]bool
	// Types holds the names of types defined by earlier cells, a subset of
	// Defined; may be nil. yaegi keeps the first definition of a type, so
	// a type redefined in a later cell is declared under a fresh internal
	// name (listed in Plan.Defines) and the old name made an alias of it.
	Types map[string]bool
	// Imports maps each package name imported by earlier cells (explicitly
	// or automatically) to its import path; may be nil. yaegi rejects a
	// second import of the same name, so Analyze leaves those out of
	// Plan.Imports.
	Imports map[string]string
	// Symbols returns the yaegi symbol table (name → value, as in
	// interp.Exports["PATH/NAME"]) of a package cells may import, or nil;
	// may be nil. Analyze type-checks cells against these tables (a
	// path's table must not change during the process: packages built
	// from it are cached) to know, for example, that the x of
	// `for i := range x` is an integer.
	Symbols func(path string) map[string]reflect.Value
	// Decls holds, by name, the declarations earlier cells made, as
	// Plan.Decls gives them; may be nil. Methods are keyed "T.M".
	Decls map[string]string
	// Package resolves a package name used as `name.` to an import path
	// for automatic imports (e.g. "strings"→"strings",
	// "rand"→"math/rand"); may be nil.
	Package func(name string) (path string, ok bool)
}

// Plan is how to evaluate a cell: first each of Imports, then each of
// Steps, in order, each with one interp.Eval; stop at the first error.
type Plan struct {
	// Imports are the import specs to evaluate first (explicit ones and
	// automatic ones), each its own Eval of Import.Source().
	Imports []Import
	// Steps are evaluated in order after the imports.
	Steps []Step
	// Trailing reports that the last step is the cell's trailing
	// expression; its value (when valid) is Out[n].
	Trailing bool
	// Defines lists the top-level names the cell defines, in source order,
	// including internal ones (see IsInternal). After a successful run the
	// interpreter adds them to Scope.Defined (and the types to
	// Scope.Types) for later cells.
	Defines []Name
	// Decls are the declarations of the names the cell defines, for
	// type-checking later cells and for declaring a type again when a
	// later cell redefines one of its methods (see Scope.Decls): funcs and
	// methods (keyed "T.M"), types, consts, and vars with their types
	// where those can be written. After a successful run the interpreter
	// copies them into Scope.Decls, replacing earlier ones; an empty
	// value means delete the key (the methods of a redefined type).
	Decls map[string]string
}

// Import is one import spec of a cell.
type Import struct {
	Name string // "" unless aliased
	Path string
	Line int // 1-based cell line of an explicit import; 0 for automatic ones
}

// Source is the text to evaluate for the import, e.g. `import m "math"`.
func (im Import) Source() string {
	if im.Name != "" {
		return fmt.Sprintf("import %s %q", im.Name, im.Path)
	}
	return fmt.Sprintf("import %q", im.Path)
}

// LocalName is the name the import binds in the cell: the alias, or the
// last element of the path (which is the package name for every package
// graft and the standard library export, except a trailing major-version
// element such as /v2, which is skipped).
func (im Import) LocalName() string {
	if im.Name != "" {
		return im.Name
	}
	return pathName(im.Path)
}

// StepKind says what a Step holds.
type StepKind int

const (
	// Decls is a list of top-level declarations.
	Decls StepKind = iota + 1
	// Statements is a list of statements.
	Statements
	// Expression is the cell's trailing expression.
	Expression
)

// String returns "decls", "statements" or "expression".
func (k StepKind) String() string {
	switch k {
	case Decls:
		return "decls"
	case Statements:
		return "statements"
	case Expression:
		return "expression"
	}
	return fmt.Sprintf("StepKind(%d)", int(k))
}

// Step is one interp.Eval.
type Step struct {
	// Source is the complete source for one interp.Eval.
	Source string
	// Lines gives, for each line of Source (0-based index), the 1-based
	// cell line it came from, 0 for synthesized lines. The first line of
	// a step keeps the column it had in the cell (it is padded with
	// spaces), so a position line:col reported by yaegi maps to cell line
	// Lines[line-1] and, on lines after the first, the same column. On the
	// first line yaegi adds its own wrapping, see WrapColumns.
	Lines []int
	// Kind says what the step holds.
	Kind StepKind
}

// WrapColumns is how many columns yaegi v0.16.1 adds in front of the first
// line of a step when it wraps it for parsing: "package main;" before
// declarations, "package main; func main() {" before statements and
// expressions. Subtract it from columns yaegi reports on line 1.
func (s Step) WrapColumns() int {
	if s.Kind == Decls {
		return len("package main;")
	}
	return len("package main; func main() {")
}

// CellLine maps a 1-based line of Source to the 1-based cell line it came
// from, or 0 when the line was synthesized or is out of range.
func (s Step) CellLine(line int) int {
	if line < 1 || line > len(s.Lines) {
		return 0
	}
	return s.Lines[line-1]
}

// NameKind says what kind of top-level name a cell defines.
type NameKind int

const (
	// VarName is a variable, declared with var or :=.
	VarName NameKind = iota + 1
	// ConstName is a constant.
	ConstName
	// TypeName is a type.
	TypeName
	// FuncName is a function (methods are not listed).
	FuncName
)

// Name is a top-level name defined by a cell.
type Name struct {
	Name string
	Kind NameKind
}

// Error is a problem with a cell, at a cell position.
type Error struct {
	Line, Column int // 1-based cell position; 0 when unknown
	Msg          string
	// Syntax is set for errors of the cell's syntax (the cell does not
	// parse), clear for constructs that parse but cannot run.
	Syntax bool
}

// Error returns "cell line L:C: MSG" (or "cell line L: MSG", or MSG when the
// position is unknown).
func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("cell line %d:%d: %s", e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("cell line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}
