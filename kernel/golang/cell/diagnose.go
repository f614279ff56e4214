package cell

import (
	"fmt"
	"go/ast"
	"reflect"
	"sort"
	"strings"
)

// Check type-checks a cell the way the Go compiler would, with what earlier
// cells defined, and returns its errors at cell positions in source order
// (nil when it finds none); a cell that does not parse gives its one syntax
// error.
//
// The interpreter reports some mistakes in its own terms ("constant
// definition loop" for an undefined name on the right of :=, "unsupported
// assign expression" for an assignment mismatch) or not at all until the
// code runs; Check gives the Go compiler's wording and position for them. It
// leaves out what Go reports but a notebook tolerates (unused variables,
// imports and labels, := redefining a variable of an earlier line, a
// top-level expression whose value is not used), and an
// "undefined" error for a name scope knows (the check does not see every
// name an earlier cell defined, for example a variable whose type cannot be
// written in Go).
func Check(src string, scope Scope) (errs []*Error) {
	defer func() {
		if r := recover(); r != nil {
			errs = nil // the check is an explanation; never a crash
		}
	}()
	a := newAnalyzer(src, scope)
	if err := a.split(); err != nil {
		return []*Error{asError(err)}
	}
	if err := a.collectImports(); err != nil {
		return []*Error{asError(err)}
	}
	return a.typeErrors(a.check(), nil)
}

func asError(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Msg: err.Error()}
}

// typeErrors returns the errors the check found in the cell itself (see
// Check for what is left out), those for which keep returns true when keep
// is not nil, sorted by position.
func (a *analyzer) typeErrors(c *checked, keep func(msg string) bool) []*Error {
	if c == nil {
		return nil
	}
	type posErr struct {
		off int
		e   *Error
	}
	var found []posErr
	seen := map[string]bool{}
	// A top-level expression statement is the cell's value (or a call).
	exprAt := map[int]bool{}
	for _, it := range a.items {
		if it.kind == itExpr {
			exprAt[it.start] = true
		}
	}
	for _, te := range c.errs {
		if te.Soft || (keep != nil && !keep(te.Msg)) {
			continue
		}
		if _, inCell := a.chunks[a.fset.File(te.Pos)]; !inCell || !te.Pos.IsValid() {
			continue // in the declarations of earlier cells
		}
		if name, ok := strings.CutPrefix(te.Msg, "undefined: "); ok && !strings.Contains(name, ".") && a.definedElsewhere(name) {
			continue
		}
		off := a.off(te.Pos)
		if exprAt[off] && strings.HasSuffix(te.Msg, " is not used") {
			continue
		}
		e := a.errorAt(off, te.Msg)
		key := fmt.Sprintf("%d:%d:%s", e.Line, e.Column, e.Msg)
		if seen[key] {
			continue
		}
		seen[key] = true
		found = append(found, posErr{off, e})
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].off < found[j].off })
	out := make([]*Error, len(found))
	for i, f := range found {
		out[i] = f.e
	}
	return out
}

// definedElsewhere reports whether a name that the check found undefined is
// known to the interpreter after all: defined by an earlier cell or the
// prelude, or the name of a package (imported, or importable automatically).
func (a *analyzer) definedElsewhere(name string) bool {
	if a.known(name) || a.scope.Types[name] || a.scope.Imports[name] != "" {
		return true
	}
	for _, n := range PreludeNames() {
		if n == name {
			return true
		}
	}
	if a.scope.Package != nil {
		if _, ok := a.scope.Package(name); ok {
			return true
		}
	}
	return false
}

// silentMistakes reports the first of the errors Go's compiler finds but
// yaegi v0.16.1 compiles and runs anyway (see silent). The type check runs
// only for a cell that may hold one, judged from its syntax and the
// package tables: a func with results whose body does not end in a return
// or a panic, an assignment with more variables on one side than the
// other, or a call that may have several results used as one value.
func (a *analyzer) silentMistakes() error {
	suspect := false
	a.walk(func(n ast.Node, stack []ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			suspect = a.mayMissReturn(n.Type, n.Body)
		case *ast.FuncLit:
			suspect = a.mayMissReturn(n.Type, n.Body)
		case *ast.AssignStmt:
			suspect = len(n.Lhs) != len(n.Rhs)
		case *ast.ValueSpec:
			suspect = len(n.Values) > 0 && len(n.Names) != len(n.Values)
		case *ast.CallExpr:
			var parent ast.Node
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			switch parent.(type) {
			case *ast.ExprStmt, *ast.GoStmt, *ast.DeferStmt:
			default:
				suspect = a.mayHaveResults(n)
			}
		}
		return !suspect
	})
	if !suspect {
		return nil
	}
	errs := a.typeErrors(a.check(), silent)
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

// silent reports whether a go/types error is one that yaegi v0.16.1 does
// not report: a func that reaches the end of its body without a return
// (it returns zero values), and a call of several results used as one
// value or returned as the wrong number of values (yaegi takes the first
// value, or fails later with an index out of range).
func silent(msg string) bool {
	for _, p := range []string{"missing return", "assignment mismatch: ", "multiple-value ", "too many return values", "not enough return values"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// mayMissReturn reports whether a func has results and a body that does
// not obviously end it (with a return statement or a call of panic).
func (a *analyzer) mayMissReturn(ft *ast.FuncType, body *ast.BlockStmt) bool {
	if body == nil || ft.Results == nil || len(ft.Results.List) == 0 {
		return false
	}
	if len(body.List) == 0 {
		return true
	}
	switch s := body.List[len(body.List)-1].(type) {
	case *ast.ReturnStmt:
		return false
	case *ast.ExprStmt:
		if call, ok := s.X.(*ast.CallExpr); ok {
			if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "panic" {
				return false
			}
		}
	}
	return true
}

// conversions are the predeclared names a call of which has one value: the
// builtins with a result and the basic types.
var conversions = map[string]bool{
	"append": true, "cap": true, "complex": true, "imag": true, "len": true, "make": true, "max": true,
	"min": true, "new": true, "real": true, "any": true, "bool": true, "byte": true, "complex64": true,
	"complex128": true, "error": true, "float32": true, "float64": true, "int": true, "int8": true,
	"int16": true, "int32": true, "int64": true, "rune": true, "string": true, "uint": true,
	"uint8": true, "uint16": true, "uint32": true, "uint64": true, "uintptr": true,
}

// mayHaveResults reports whether a call may have several results, as far
// as the syntax and the package tables tell: conversions, builtins, funcs
// of the cell and package funcs with at most one result do not.
func (a *analyzer) mayHaveResults(call *ast.CallExpr) bool {
	results := func(ft *ast.FuncType) bool {
		n := 0
		if ft.Results != nil {
			for _, f := range ft.Results.List {
				n += max(1, len(f.Names))
			}
		}
		return n > 1
	}
	switch fun := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		if a.cellNames[fun.Name] || a.known(fun.Name) {
			for _, it := range a.items {
				if d, ok := it.node.(*ast.FuncDecl); ok && d.Recv == nil && d.Name.Name == fun.Name {
					return results(d.Type)
				}
			}
			return true
		}
		return !conversions[fun.Name]
	case *ast.FuncLit:
		return results(fun.Type)
	case *ast.SelectorExpr:
		x, ok := fun.X.(*ast.Ident)
		if !ok || a.scope.Symbols == nil {
			return true
		}
		path := a.packagePath(nil, x)
		if path == "" {
			return true
		}
		v, ok := a.scope.Symbols(path)[fun.Sel.Name]
		if !ok || !v.IsValid() {
			return true
		}
		if v.Kind() == reflect.Func {
			return v.Type().NumOut() > 1
		}
		return !(v.Kind() == reflect.Pointer && v.IsNil()) // a type: a conversion
	case *ast.ArrayType, *ast.MapType, *ast.ChanType, *ast.FuncType, *ast.InterfaceType, *ast.StarExpr, *ast.StructType:
		return false
	}
	return true
}
