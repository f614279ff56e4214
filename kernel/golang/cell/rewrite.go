package cell

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/printer"
	"go/token"
	"go/types"
	"strconv"
	"strings"
)

// rewrite closes yaegi's gaps by recording edits to the cell source, and
// works out what the cell declares for later cells.
func (a *analyzer) rewrite() error {
	if err := a.rewriteIterTypes(); err != nil {
		return err
	}
	if err := a.silentMistakes(); err != nil {
		return err
	}
	var c *checked
	if a.needsCheck() {
		c = a.check()
	}
	if err := a.rewriteRanges(c); err != nil {
		return err
	}
	a.rewriteLoopVars()
	a.rewriteBlockDefines()
	a.rewriteMinMax(c)
	a.rewriteConstQuotients(c)
	a.rewriteHelpers(c)
	a.rewriteInstances(c)
	a.rewriteGlobalDefines(c)
	a.rewriteDisplayUpdates(c)
	a.trailingValue(c)
	a.makeDecls(c)
	return a.rewriteTypes()
}

// walk calls f for every node of every item with the stack of its
// ancestors (stack[len(stack)-1] is the parent); f returns false to skip
// the node's children.
func (a *analyzer) walk(f func(n ast.Node, stack []ast.Node) bool) {
	for _, it := range a.items {
		if it.kind == itImport {
			continue
		}
		var stack []ast.Node
		ast.Inspect(it.node, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			if !f(n, stack) {
				return false
			}
			stack = append(stack, n)
			return true
		})
	}
}

// addEdit records a replacement of the cell text between two positions.
func (a *analyzer) addEdit(from, to token.Pos, text string) {
	a.edits = append(a.edits, edit{start: a.off(from), end: a.off(to), text: text})
}

// text returns the cell source of a node.
func (a *analyzer) text(n ast.Node) string {
	return a.src[a.off(n.Pos()):a.off(n.End())]
}

// render returns the cell source between two offsets with the edits made so
// far applied.
func (a *analyzer) render(start, end int) string {
	var b strings.Builder
	pos := start
	for _, e := range a.sortedEdits() {
		if e.start < pos || e.end > end {
			continue
		}
		b.WriteString(a.src[pos:e.start])
		b.WriteString(e.text)
		pos = e.end
	}
	b.WriteString(a.src[pos:end])
	return b.String()
}

// fresh returns a new internal name.
func (a *analyzer) fresh(base string) string {
	a.counter++
	return base + mark + strconv.Itoa(a.counter)
}

// packagePath returns the import path of the package an identifier used as
// `id.` names, or "" if it names something else.
func (a *analyzer) packagePath(c *checked, id *ast.Ident) string {
	if c != nil {
		if pn, ok := c.info.Uses[id].(*types.PkgName); ok {
			return pn.Imported().Path()
		}
		if c.info.Uses[id] != nil {
			return ""
		}
	}
	if id.Obj != nil || a.cellNames[id.Name] || a.known(id.Name) {
		return ""
	}
	for _, im := range a.imports {
		if im.LocalName() == id.Name {
			return im.Path
		}
	}
	return a.scope.Imports[id.Name]
}

// needsCheck reports whether the cell uses anything that takes its types to
// rewrite: range statements, min and max, the helpers, generic functions,
// a method called Update, or a trailing call (which may have no value).
func (a *analyzer) needsCheck() bool {
	generic := map[string]bool{}
	for _, it := range a.items {
		if it.kind == itGenericFunc {
			generic[it.defines[0]] = true
		}
	}
	for name, src := range a.scope.Decls {
		if strings.HasPrefix(src, "func "+name+"[") {
			generic[name] = true
		}
	}
	if n := len(a.items); n > 0 && a.items[n-1].kind == itExpr {
		if _, ok := ast.Unparen(a.items[n-1].node.(*ast.ExprStmt).X).(*ast.CallExpr); ok {
			return true
		}
	}
	for _, it := range a.items {
		if as, ok := it.node.(*ast.AssignStmt); ok && as.Tok == token.DEFINE && indexes(as.Rhs) {
			return true // see rewriteGlobalDefines
		}
	}
	need := false
	a.walk(func(n ast.Node, _ []ast.Node) bool {
		switch n := n.(type) {
		case *ast.RangeStmt:
			need = true
		case *ast.BinaryExpr:
			need = need || constQuotient(n) // see rewriteConstQuotients
		case *ast.CallExpr:
			switch fun := n.Fun.(type) {
			case *ast.Ident:
				need = need || fun.Name == "min" || fun.Name == "max" || generic[fun.Name]
			case *ast.SelectorExpr:
				if x, ok := fun.X.(*ast.Ident); ok {
					need = need || x.Name == "slices" || x.Name == "maps"
				}
				need = need || fun.Sel.Name == "Update" // see rewriteDisplayUpdates
			}
		}
		return !need
	})
	return need
}

// rewriteIterTypes spells iter.Seq[V] and iter.Seq2[K, V] out as the func
// types they stand for: they are generic types, which yaegi's symbol tables
// cannot hold, so the interpreter has no iter package.
func (a *analyzer) rewriteIterTypes() error {
	var err error
	a.walk(func(n ast.Node, stack []ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || err != nil {
			return err == nil
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok || a.packagePath(nil, x) != "iter" {
			return true
		}
		var lbrack, rbrack token.Pos
		if len(stack) > 0 {
			switch p := stack[len(stack)-1].(type) {
			case *ast.IndexExpr:
				if p.X == sel {
					lbrack, rbrack = p.Lbrack, p.Rbrack
				}
			case *ast.IndexListExpr:
				if p.X == sel {
					lbrack, rbrack = p.Lbrack, p.Rbrack
				}
			}
		}
		if (sel.Sel.Name != "Seq" && sel.Sel.Name != "Seq2") || !lbrack.IsValid() {
			err = a.errorAt(a.off(sel.Pos()), fmt.Sprintf("iter.%s is not available in graft's interpreter (it is generic, and the interpreter has only the non-generic part of the standard library); write the iterator as a func(yield func(V) bool) and call it with a yield function, or collect the values into a slice", sel.Sel.Name))
			return false
		}
		a.addEdit(sel.Pos(), lbrack+1, "func(yield func(")
		a.addEdit(rbrack, rbrack+1, ") bool)")
		a.dropImport["iter"] = true
		return true
	})
	return err
}

// rewriteRanges rewrites range over integers into a three-clause loop and
// range over functions into a call of the function with a yield closure;
// yaegi v0.16.1 knows neither.
func (a *analyzer) rewriteRanges(c *checked) error {
	var err error
	a.walk(func(n ast.Node, stack []ast.Node) bool {
		r, ok := n.(*ast.RangeStmt)
		if !ok || err != nil {
			return err == nil
		}
		var label *ast.LabeledStmt
		if len(stack) > 0 {
			label, _ = stack[len(stack)-1].(*ast.LabeledStmt)
		}
		t := c.typeOf(r.X)
		switch {
		case t == nil && looksInteger(r.X):
			err = a.rangeInt(r, types.Typ[types.UntypedInt])
		case t == nil:
		case isInteger(t):
			err = a.rangeInt(r, t)
		default:
			if sig, ok := t.Underlying().(*types.Signature); ok {
				err = a.rangeFunc(r, label, sig)
			}
		}
		return err == nil
	})
	return err
}

// looksInteger reports whether an expression is an integer whatever the
// types around it: an integer literal, len(...) or cap(...).
func looksInteger(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.BasicLit:
		return e.Kind == token.INT
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok {
			return id.Name == "len" || id.Name == "cap"
		}
	}
	return false
}

func isInteger(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsInteger != 0
}

// rangeInt rewrites `for k := range n {` as
// `for kʹ, nʹ := T(0), n; kʹ < nʹ; kʹ++ { k := kʹ;`: n is evaluated once
// and each iteration has its own k, as in Go.
func (a *analyzer) rangeInt(r *ast.RangeStmt, t types.Type) error {
	zero := "0"
	if b, ok := t.(*types.Basic); !ok || b.Info()&types.IsUntyped == 0 && b.Kind() != types.Int {
		text, ok := a.typeText(t, true)
		if !ok {
			return a.errorAt(a.off(r.Pos()), fmt.Sprintf("range over %s (an integer of type %s) cannot run here; write a three-clause loop: for i := 0; i < n; i++", a.text(r.X), t))
		}
		zero = text + "(0)"
	}
	a.ownRange[r] = true
	k, n := a.fresh("k"), a.fresh("n")
	a.addEdit(r.For, r.X.Pos(), fmt.Sprintf("for %s, %s := %s, ", k, n, zero))
	head := fmt.Sprintf("; %s < %s; %s++ {", k, n, k)
	if key, ok := r.Key.(*ast.Ident); ok && key.Name != "_" {
		if r.Tok == token.DEFINE {
			head += fmt.Sprintf(" %s := %s;", key.Name, k)
		} else {
			head += fmt.Sprintf(" %s = %s;", key.Name, k)
		}
	} else if r.Key != nil && r.Tok == token.ASSIGN {
		head += fmt.Sprintf(" %s = %s;", a.text(r.Key), k)
	}
	a.addEdit(r.X.End(), r.Body.Lbrace+1, head)
	return nil
}

// rangeFunc rewrites `for k, v := range seq { body }` as
// `(seq)(func(k K, v V) bool { body; return true })`, with break and
// continue of the loop becoming return false and return true.
func (a *analyzer) rangeFunc(r *ast.RangeStmt, label *ast.LabeledStmt, sig *types.Signature) error {
	construct := "range over a function (for ... := range " + a.text(r.X) + ")"
	if sig.Params().Len() != 1 || sig.Results().Len() != 0 {
		return nil // not an iterator; let the interpreter report it
	}
	yield, ok := sig.Params().At(0).Type().Underlying().(*types.Signature)
	if !ok || yield.Results().Len() != 1 || yield.Params().Len() > 2 {
		return nil
	}
	// The loop's own break and continue, and what cannot move into a
	// closure.
	var edits []edit
	var bad ast.Node
	var why string
	labels := map[string]bool{} // labels declared inside the body
	ast.Inspect(r.Body, func(n ast.Node) bool {
		if l, ok := n.(*ast.LabeledStmt); ok {
			labels[l.Label.Name] = true
		}
		return true
	})
	var visit func(n ast.Node, inLoop, inSwitch bool)
	visit = func(n ast.Node, inLoop, inSwitch bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			if m == nil || bad != nil || m == n {
				return bad == nil
			}
			switch m := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ForStmt:
				visit(m, true, inSwitch)
				return false
			case *ast.RangeStmt:
				visit(m, true, inSwitch)
				return false
			case *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
				visit(m, inLoop, true)
				return false
			case *ast.ReturnStmt:
				bad, why = m, "a return statement"
			case *ast.DeferStmt:
				bad, why = m, "a defer statement"
			case *ast.BranchStmt:
				mine := false
				switch {
				case m.Tok == token.GOTO:
					if !labels[m.Label.Name] {
						bad, why = m, "a goto out of the loop"
					}
				case m.Label != nil:
					if label != nil && m.Label.Name == label.Label.Name {
						mine = true
					} else if !labels[m.Label.Name] {
						bad, why = m, "a "+m.Tok.String()+" to a label outside the loop"
					}
				case m.Tok == token.BREAK:
					mine = !inLoop && !inSwitch
				case m.Tok == token.CONTINUE:
					mine = !inLoop
				}
				if mine {
					result := "true"
					if m.Tok == token.BREAK {
						result = "false"
					}
					edits = append(edits, edit{a.off(m.Pos()), a.off(m.End()), "return " + result})
				}
			}
			return bad == nil
		})
	}
	visit(r.Body, false, false)
	if bad != nil {
		return a.errorAt(a.off(bad.Pos()), fmt.Sprintf("%s cannot run here with %s in its body; write the loop body as a function: %s(func(v V) bool { ...; return true }) (return false to stop), or collect the values first (slices.Collect) and range over the slice", construct, why, a.text(r.X)))
	}
	// Parameters of the yield function.
	var params, assign []string
	vars := []ast.Expr{r.Key, r.Value}
	for i := 0; i < yield.Params().Len(); i++ {
		t, ok := a.typeText(yield.Params().At(i).Type(), true)
		if !ok {
			return a.errorAt(a.off(r.Pos()), fmt.Sprintf("%s cannot run here: its element type %s cannot be written in the cell; call the function with a yield function instead", construct, yield.Params().At(i).Type()))
		}
		name := "_"
		if vars[i] != nil {
			if id, ok := vars[i].(*ast.Ident); ok && r.Tok == token.DEFINE {
				name = id.Name
			} else if !ok || id.Name != "_" {
				name = a.fresh("v")
				assign = append(assign, fmt.Sprintf("%s = %s;", a.text(vars[i]), name))
			}
		}
		params = append(params, name+" "+t)
	}
	a.ownRange[r] = true
	if label != nil {
		a.addEdit(label.Pos(), label.Colon+1, "")
	}
	open, closing := "", ""
	switch ast.Unparen(r.X).(type) {
	case *ast.Ident, *ast.SelectorExpr, *ast.CallExpr, *ast.IndexExpr, *ast.IndexListExpr, *ast.FuncLit:
		// yaegi fails to call a parenthesized declared function.
	default:
		open, closing = "(", ")"
	}
	a.addEdit(r.For, r.X.Pos(), open)
	a.addEdit(r.X.End(), r.Body.Lbrace+1, closing+"(func("+strings.Join(params, ", ")+") bool {"+strings.Join(assign, " "))
	a.edits = append(a.edits, edits...)
	a.addEdit(r.Body.Rbrace, r.Body.Rbrace+1, "; return true })")
	return nil
}

// rewriteMinMax makes the prelude's generic min and max compute what the
// builtins would: a constant call becomes its constant, and other calls
// name their type explicitly (yaegi would infer the type of the first
// argument, an untyped constant's default type).
func (a *analyzer) rewriteMinMax(c *checked) {
	if c == nil {
		return
	}
	a.walk(func(n ast.Node, _ []ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		id, ok := call.Fun.(*ast.Ident)
		if !ok || (id.Name != "min" && id.Name != "max") {
			return true
		}
		if _, ok := c.info.Uses[id].(*types.Builtin); !ok {
			return true
		}
		tv := c.info.Types[call]
		if tv.Value != nil {
			if text, ok := a.constText(tv); ok {
				a.addEdit(call.Pos(), call.End(), "("+text+")")
				return false
			}
			return true
		}
		if tv.Type != nil {
			if text, ok := a.typeText(tv.Type, true); ok {
				a.addEdit(id.End(), id.End(), "["+text+"]")
			}
		}
		return true
	})
}

// rewriteConstQuotients writes an integer constant quotient or remainder
// (400 / 15, or k % 7 with k a constant) as its value: yaegi v0.16.1
// computes such an operand as 0 where it meets a variable, so that
// `i += 400 / 15` added nothing and `m + 400/15` was m.
func (a *analyzer) rewriteConstQuotients(c *checked) {
	if c == nil {
		return
	}
	a.walk(func(n ast.Node, _ []ast.Node) bool {
		b, ok := n.(*ast.BinaryExpr)
		if !ok || b.Op != token.QUO && b.Op != token.REM {
			return true
		}
		tv := c.info.Types[b]
		if tv.Value == nil || tv.Value.Kind() != constant.Int {
			return true
		}
		if text, ok := a.constText(tv); ok {
			a.addEdit(b.Pos(), b.End(), "("+text+")")
			return false
		}
		return true
	})
}

// constQuotient reports whether b may be a constant integer quotient or
// remainder: a / or % of operands made of literals and names, with an
// integer literal among them. The type check tells for sure.
func constQuotient(b *ast.BinaryExpr) bool {
	if b.Op != token.QUO && b.Op != token.REM {
		return false
	}
	literal := false
	var constLike func(e ast.Expr) bool
	constLike = func(e ast.Expr) bool {
		switch e := ast.Unparen(e).(type) {
		case *ast.BasicLit:
			literal = literal || e.Kind == token.INT
			return true
		case *ast.Ident:
			return true
		case *ast.SelectorExpr:
			_, ok := e.X.(*ast.Ident)
			return ok
		case *ast.UnaryExpr:
			return constLike(e.X)
		case *ast.BinaryExpr:
			return constLike(e.X) && constLike(e.Y)
		}
		return false
	}
	return constLike(b.X) && constLike(b.Y) && literal
}

// displayPath is the import path of graft's display package.
const displayPath = "github.com/graftml/graft/display"

// rewriteDisplayUpdates turns h.Update(v), where h is a *display.Handle,
// into h.Update(display.Render(v)): yaegi v0.16.1 wraps an interpreted
// value in the compiled display.Displayer (so that its Display method is
// seen) only when it passes the value to a function its symbol tables list
// for that (display.Render and display.Show), not to a method. Rendering a
// display.Bundle gives it back, so the rewrite changes nothing else.
func (a *analyzer) rewriteDisplayUpdates(c *checked) {
	if c == nil {
		return
	}
	a.walk(func(n ast.Node, _ []ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 || call.Ellipsis.IsValid() {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Update" || !isDisplayType(c.typeOf(sel.X), "Handle", true) || isDisplayType(c.typeOf(call.Args[0]), "Bundle", false) {
			return true
		}
		name, ok := a.packageName(displayPath, true)
		if !ok {
			return true
		}
		arg := call.Args[0]
		a.addEdit(arg.Pos(), arg.Pos(), name+".Render(")
		a.addEdit(arg.End(), arg.End(), ")")
		return true
	})
}

// isDisplayType reports whether t is the named type of package display (or
// a pointer to it, with pointer set).
func isDisplayType(t types.Type, name string, pointer bool) bool {
	if t == nil {
		return false
	}
	if pointer {
		p, ok := t.(*types.Pointer)
		if !ok {
			return false
		}
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Name() == name && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == displayPath
}

// constText writes a constant as Go source of the same type.
func (a *analyzer) constText(tv types.TypeAndValue) (string, bool) {
	v := tv.Value
	var lit string
	switch v.Kind() {
	case constant.Int:
		lit = v.ExactString()
	case constant.Float:
		f, _ := constant.Float64Val(v)
		lit = strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(lit, ".eEIN") {
			lit += ".0"
		}
	case constant.String:
		lit = strconv.Quote(constant.StringVal(v))
	default:
		return "", false
	}
	if b, ok := tv.Type.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
		return lit, true
	}
	t, ok := a.typeText(tv.Type, true)
	if !ok {
		return "", false
	}
	return t + "(" + lit + ")", true
}

// rewriteHelpers replaces calls of the slices and maps functions yaegi
// lacks with the prelude's helpers, naming the type arguments explicitly
// where they are known.
func (a *analyzer) rewriteHelpers(c *checked) {
	a.walk(func(n ast.Node, stack []ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		path := a.packagePath(c, x)
		h, ok := helperFor(path, sel.Sel.Name)
		if !ok {
			return true
		}
		text := preludeName(h.pkg, h.name)
		explicit := false
		if len(stack) > 0 {
			switch p := stack[len(stack)-1].(type) {
			case *ast.IndexExpr:
				explicit = p.X == sel
			case *ast.IndexListExpr:
				explicit = p.X == sel
			}
		}
		if !explicit {
			text += a.typeArgs(c, sel.Sel)
		}
		a.addEdit(sel.Pos(), sel.End(), text)
		return false
	})
}

// typeArgs returns "[T1, T2]" for the inferred type arguments of a use of a
// generic function, or "" when unknown or not writable.
func (a *analyzer) typeArgs(c *checked, id *ast.Ident) string {
	if c == nil {
		return ""
	}
	inst, ok := c.info.Instances[id]
	if !ok || inst.TypeArgs == nil || inst.TypeArgs.Len() == 0 {
		return ""
	}
	var args []string
	for i := 0; i < inst.TypeArgs.Len(); i++ {
		t, ok := a.typeText(inst.TypeArgs.At(i), true)
		if !ok {
			return ""
		}
		args = append(args, t)
	}
	return "[" + strings.Join(args, ", ") + "]"
}

// rewriteInstances names the inferred type arguments of calls of the
// cell's and earlier cells' generic functions: yaegi's own inference fails
// on, for example, a result type given by a func literal argument.
func (a *analyzer) rewriteInstances(c *checked) {
	if c == nil {
		return
	}
	a.walk(func(n ast.Node, _ []ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		id, ok := call.Fun.(*ast.Ident)
		if !ok {
			return true
		}
		fn, ok := c.info.Uses[id].(*types.Func)
		if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "main" {
			return true
		}
		if args := a.typeArgs(c, id); args != "" {
			a.addEdit(id.End(), id.End(), args)
		}
		return true
	})
}

// trailingValue notes a trailing call without exactly one value: it is no
// Out[n]. A call returning a value and an error is the exception (the value
// is shown, or the error fails the cell), unless the value is an integer: a
// byte count such as fmt.Println's is not worth showing.
func (a *analyzer) trailingValue(c *checked) {
	n := len(a.items)
	if c == nil || n == 0 || a.items[n-1].kind != itExpr {
		return
	}
	call, ok := ast.Unparen(a.items[n-1].node.(*ast.ExprStmt).X).(*ast.CallExpr)
	if !ok {
		return
	}
	tv, ok := c.info.Types[call]
	if !ok {
		return
	}
	if tup, ok := tv.Type.(*types.Tuple); tv.IsVoid() || ok && tup.Len() != 1 && !valueAndError(tup) {
		a.items[n-1].kind = itStmt
	}
}

// valueAndError reports whether results are (T, error) with T not an
// integer.
func valueAndError(results *types.Tuple) bool {
	if results.Len() != 2 || !types.Identical(results.At(1).Type(), types.Universe.Lookup("error").Type()) {
		return false
	}
	b, ok := results.At(0).Type().Underlying().(*types.Basic)
	return !ok || b.Info()&types.IsInteger == 0
}

// makeDecls records the declarations of the names the cell defines, for
// type-checking later cells.
func (a *analyzer) makeDecls(c *checked) {
	a.decls = map[string]string{}
	for _, it := range a.items {
		node := it.node
		if ds, ok := node.(*ast.DeclStmt); ok {
			node = ds.Decl
		}
		switch d := node.(type) {
		case *ast.FuncDecl:
			// The whole function: a method is declared again when
			// a later cell redefines another method of its type.
			src := a.render(a.off(d.Pos()), a.off(d.End()))
			if d.Recv == nil {
				a.decls[d.Name.Name] = src
			} else if recv := ReceiverType(d.Recv); recv != "" {
				a.decls[recv+"."+d.Name.Name] = src
			}
		case *ast.GenDecl:
			switch d.Tok {
			case token.TYPE:
				for _, spec := range d.Specs {
					s := spec.(*ast.TypeSpec)
					a.decls[s.Name.Name] = "type " + a.render(a.off(s.Pos()), a.off(s.End()))
				}
			case token.CONST:
				text := a.render(a.off(d.Pos()), a.off(d.End()))
				for _, n := range it.defines {
					a.decls[n] = text
				}
			}
		}
		if c == nil || (it.kind != itVar && it.kind != itStmt) {
			continue
		}
		for _, name := range it.defines {
			if obj := a.cellVar(c, name); obj != nil {
				if t, ok := a.typeText(obj.Type(), false); ok {
					a.decls[name] = "var " + name + " " + t
				}
			}
		}
	}
}

// ReceiverType returns the name of the type a method is declared on (T for
// func (t *T[K]) M()), or "" for a function without a receiver.
func ReceiverType(recv *ast.FieldList) string {
	if recv == nil || len(recv.List) == 0 {
		return ""
	}
	t := recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.ParenExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// rewriteTypes declares a type that an earlier cell defined under a fresh
// name, then makes the old name an alias of it: yaegi v0.16.1 keeps the
// first definition of a type name, but an alias replaces it.
func (a *analyzer) rewriteTypes() error {
	renames := map[string]string{}
	var order []string
	newName := func(name string) string {
		for k := 2; ; k++ {
			fresh := name + mark + strconv.Itoa(k)
			if !a.known(fresh) {
				renames[name] = fresh
				order = append(order, name)
				a.extraNames = append(a.extraNames, Name{Name: fresh, Kind: TypeName})
				return fresh
			}
		}
	}
	// yaegi keeps the first definition of a method too: a cell that
	// redefines a method of an earlier cell's type declares the type again
	// (from Scope.Decls) with all its methods.
	cellTypes := map[string]bool{}
	for _, it := range a.items {
		if it.kind == itType {
			for _, n := range it.defines {
				cellTypes[n] = true
			}
		}
	}
	redeclare := map[string]bool{} // type names
	cellMethods := map[string]bool{}
	for _, it := range a.items {
		d, ok := it.node.(*ast.FuncDecl)
		if !ok || d.Recv == nil {
			continue
		}
		recv := ReceiverType(d.Recv)
		key := recv + "." + d.Name.Name
		cellMethods[key] = true
		if cellTypes[recv] || a.scope.Decls[key] == "" {
			continue
		}
		if !strings.HasPrefix(a.scope.Decls[recv], "type "+recv) {
			return a.errorAt(it.start, fmt.Sprintf("method %s is already defined by an earlier cell and cannot be replaced on its own; run it together with the declaration of type %s", key, recv))
		}
		redeclare[recv] = true
	}
	for _, name := range sortedKeys(redeclare) {
		fresh := newName(name)
		text, ok := renameTypeSource(a.scope.Decls[name], name, fresh)
		if !ok {
			return &Error{Msg: fmt.Sprintf("the declaration of type %s from an earlier cell cannot be repeated; run it together with its methods", name)}
		}
		a.synthTypes = append(a.synthTypes, text)
		for _, key := range sortedKeys(a.scope.Decls) {
			if strings.HasPrefix(key, name+".") && !cellMethods[key] && a.scope.Decls[key] != "" {
				a.synthFuncs = append(a.synthFuncs, a.scope.Decls[key])
			}
		}
	}
	// A type the cell redefines loses the methods earlier cells gave it.
	for name := range cellTypes {
		for key := range a.scope.Decls {
			if strings.HasPrefix(key, name+".") && !cellMethods[key] {
				a.decls[key] = ""
			}
		}
	}
	for _, it := range a.items {
		if it.kind != itType {
			continue
		}
		node := it.node
		if ds, ok := node.(*ast.DeclStmt); ok {
			node = ds.Decl
		}
		for _, spec := range node.(*ast.GenDecl).Specs {
			s := spec.(*ast.TypeSpec)
			name := s.Name.Name
			if s.Assign.IsValid() || s.TypeParams != nil || !(a.known(name) || a.scope.Types[name]) {
				continue
			}
			newName(name)
		}
	}
	if len(renames) == 0 {
		return nil
	}
	// Rename the type's name wherever the cell's types and constants use
	// it (they are evaluated before the alias exists).
	for _, it := range a.items {
		if it.kind != itType && it.kind != itConst {
			continue
		}
		for name, fresh := range renames {
			for _, id := range typeRefs(it.node, name) {
				a.addEdit(id.Pos(), id.End(), fresh)
			}
		}
	}
	b := a.newBuilder()
	for i, name := range order {
		if i > 0 {
			b.add("\n", 0, false)
		}
		b.add("type "+name+" = "+renames[name], 0, false)
	}
	a.typeSteps = append(a.typeSteps, b.step(Decls))
	return nil
}

// renameTypeSource rewrites the declaration "type old ..." as
// "type fresh ...", renaming the type's references to itself.
func renameTypeSource(src, old, fresh string) (string, bool) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", "package p\n"+src, parser.SkipObjectResolution)
	if err != nil || len(f.Decls) != 1 {
		return "", false
	}
	g, ok := f.Decls[0].(*ast.GenDecl)
	if !ok || g.Tok != token.TYPE || len(g.Specs) != 1 {
		return "", false
	}
	ts := g.Specs[0].(*ast.TypeSpec)
	if ts.Name.Name != old {
		return "", false
	}
	for _, id := range typeRefs(ts.Type, old) {
		id.Name = fresh
	}
	ts.Name.Name = fresh
	var b strings.Builder
	if err := printer.Fprint(&b, fset, g); err != nil {
		return "", false
	}
	return b.String(), true
}

// typeRefs returns the identifiers named name in n that can refer to a
// type (not field names, selectors or composite-literal keys).
func typeRefs(n ast.Node, name string) []*ast.Ident {
	var refs []*ast.Ident
	skip := map[*ast.Ident]bool{}
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			for _, id := range n.Names {
				skip[id] = true
			}
		case *ast.SelectorExpr:
			skip[n.Sel] = true
		case *ast.KeyValueExpr:
			if id, ok := n.Key.(*ast.Ident); ok {
				skip[id] = true
			}
		case *ast.Ident:
			if n.Name == name && !skip[n] {
				refs = append(refs, n)
			}
		}
		return true
	})
	return refs
}

// rewriteGlobalDefines turns a top-level `x := e` into `var x T; x = e`
// where yaegi v0.16.1 fails to define a global from e but assigns one fine:
// where e calls a generic function (it panics or fails with "constant
// definition loop" or "nil reflect type"), and where e indexes a slice,
// array or map (`d := setup.Train[0]`, `v := sets[0].Len()`: "constant
// definition loop" when the indexed value comes from compiled code).
func (a *analyzer) rewriteGlobalDefines(c *checked) {
	if c == nil {
		return
	}
	defined := map[string]bool{}
	for _, it := range a.items {
		as, ok := it.node.(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE || !(a.usesGeneric(c, as.Rhs) || indexes(as.Rhs)) {
			for _, n := range it.defines {
				defined[n] = true
			}
			continue
		}
		var decls []string
		ok = true
		for _, l := range as.Lhs {
			id, isID := l.(*ast.Ident)
			if !isID || id.Name == "_" || defined[id.Name] {
				continue
			}
			obj := c.info.Defs[id]
			if obj == nil {
				continue
			}
			t, writable := a.typeText(obj.Type(), true)
			if !writable {
				ok = false
				break
			}
			decls = append(decls, "var "+id.Name+" "+t+"; ")
		}
		for _, n := range it.defines {
			defined[n] = true
		}
		if !ok {
			continue
		}
		if len(decls) > 0 {
			a.addEdit(as.Pos(), as.Pos(), strings.Join(decls, ""))
			it.declFirst = true
		}
		a.addEdit(as.TokPos, as.TokPos+2, "=")
	}
}

// indexes reports whether expressions index a value (x[i]) outside the
// bodies of function literals.
func indexes(exprs []ast.Expr) bool {
	found := false
	for _, e := range exprs {
		ast.Inspect(e, func(n ast.Node) bool {
			switch n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.IndexExpr:
				found = true
			}
			return !found
		})
	}
	return found
}

// usesGeneric reports whether expressions call an instance of a generic
// function.
func (a *analyzer) usesGeneric(c *checked, exprs []ast.Expr) bool {
	found := false
	for _, e := range exprs {
		ast.Inspect(e, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				if _, ok := c.info.Instances[id]; ok {
					if _, ok := c.info.Uses[id].(*types.Func); ok {
						found = true
					}
				}
			}
			return !found
		})
	}
	return found
}

// rewriteLoopVars gives loops Go 1.22's per-iteration variables, which
// yaegi v0.16.1 lacks (its loops share one variable, so closures made in the
// loop all see the last value): where the body captures a loop variable in
// a closure or takes its address,
// `for i := 0; i < n; i++ {` becomes `for iʹ := 0; iʹ < n; iʹ++ { i := iʹ;`
// (when the body does not assign i) and `for k, v := range x {` becomes
// `for kʹ, vʹ := range x { k, v := kʹ, vʹ;`. A body statement `i := i`,
// the old idiom for the same, is dropped: yaegi hangs on it at the top
// level of a cell.
func (a *analyzer) rewriteLoopVars() {
	a.walk(func(n ast.Node, _ []ast.Node) bool {
		var vars []*ast.Ident
		var body *ast.BlockStmt
		var header []ast.Node // where the loop variables are used outside the body
		switch n := n.(type) {
		case *ast.RangeStmt:
			if a.ownRange[n] || n.Tok != token.DEFINE {
				return true
			}
			for _, e := range []ast.Expr{n.Key, n.Value} {
				if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
					vars = append(vars, id)
				}
			}
			body = n.Body
		case *ast.ForStmt:
			init, ok := n.Init.(*ast.AssignStmt)
			if !ok || init.Tok != token.DEFINE {
				return true
			}
			for _, e := range init.Lhs {
				if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
					vars = append(vars, id)
				}
			}
			body = n.Body
			header = []ast.Node{n.Cond, n.Post}
		default:
			return true
		}
		if len(vars) == 0 || vars[0].Obj == nil {
			return true
		}
		isVar := func(e ast.Expr) bool {
			id, ok := ast.Unparen(e).(*ast.Ident)
			if !ok || id.Obj == nil {
				return false
			}
			for _, v := range vars {
				if v.Obj == id.Obj {
					return true
				}
			}
			return false
		}
		captured, assigned := false, false
		var selfCopies []ast.Stmt
		for _, st := range body.List {
			if as, ok := st.(*ast.AssignStmt); ok && as.Tok == token.DEFINE && len(as.Lhs) == len(as.Rhs) {
				self := true
				for i := range as.Lhs {
					l, _ := as.Lhs[i].(*ast.Ident)
					r, _ := as.Rhs[i].(*ast.Ident)
					self = self && l != nil && r != nil && l.Name == r.Name && isVar(r)
				}
				if self {
					selfCopies = append(selfCopies, st)
				}
			}
		}
		var inFunc func(n ast.Node, depth int)
		inFunc = func(n ast.Node, depth int) {
			ast.Inspect(n, func(m ast.Node) bool {
				switch m := m.(type) {
				case *ast.FuncLit:
					if m != n {
						inFunc(m.Body, depth+1)
						return false
					}
				case *ast.Ident:
					if depth > 0 && isVar(m) {
						captured = true
					}
				case *ast.UnaryExpr:
					if m.Op == token.AND && isVar(m.X) {
						captured = true
					}
				case *ast.AssignStmt:
					if m.Tok != token.DEFINE {
						for _, l := range m.Lhs {
							assigned = assigned || isVar(l)
						}
					}
				case *ast.IncDecStmt:
					assigned = assigned || isVar(m.X)
				}
				return true
			})
		}
		inFunc(body, 0)
		if !captured && len(selfCopies) == 0 {
			return true
		}
		if _, isFor := n.(*ast.ForStmt); isFor && assigned {
			return true
		}
		var names, fresh []string
		for _, v := range vars {
			f := a.fresh(v.Name)
			names = append(names, v.Name)
			fresh = append(fresh, f)
			a.addEdit(v.Pos(), v.End(), f)
		}
		rename := map[*ast.Object]string{}
		for i, v := range vars {
			rename[v.Obj] = fresh[i]
		}
		for _, h := range header {
			if h == nil {
				continue
			}
			ast.Inspect(h, func(m ast.Node) bool {
				if id, ok := m.(*ast.Ident); ok && id.Obj != nil && rename[id.Obj] != "" {
					a.addEdit(id.Pos(), id.End(), rename[id.Obj])
				}
				return true
			})
		}
		for _, st := range selfCopies {
			a.addEdit(st.Pos(), st.End(), "")
		}
		a.addEdit(body.Lbrace+1, body.Lbrace+1, " "+strings.Join(names, ", ")+" := "+strings.Join(fresh, ", ")+";")
		return true
	})
}

// rewriteBlockDefines runs a top-level compound statement (a for loop, an
// if, a block …) inside `func() { … }()` when a block of it defines several
// variables from one call, type assertion or receive (`h, err :=
// train.Run(…)`): yaegi v0.16.1 compiles such a define in a block of a
// script's top level as if its variables did not exist ("undefined: h"),
// and inside a function correctly. A statement that returns, defers or uses
// goto outside its own function literals keeps its meaning only at the top
// level, so it is left alone.
func (a *analyzer) rewriteBlockDefines() {
	for _, it := range a.items {
		st, ok := it.node.(ast.Stmt)
		if it.kind != itStmt || !ok {
			continue
		}
		switch st.(type) {
		case *ast.BlockStmt, *ast.ForStmt, *ast.RangeStmt, *ast.IfStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt, *ast.LabeledStmt:
		default:
			continue
		}
		multi, unsafe := false, false
		ast.Inspect(st, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ReturnStmt, *ast.DeferStmt:
				unsafe = true
			case *ast.BranchStmt:
				unsafe = unsafe || n.Tok == token.GOTO
			case *ast.AssignStmt:
				multi = multi || n.Tok == token.DEFINE && len(n.Lhs) > 1 && len(n.Rhs) == 1 && multiValue(n.Rhs[0])
			case *ast.ValueSpec:
				multi = multi || len(n.Names) > 1 && len(n.Values) == 1 && multiValue(n.Values[0])
			}
			return true
		})
		if multi && !unsafe {
			a.addEdit(st.Pos(), st.Pos(), "func() { ")
			a.addEdit(st.End(), st.End(), " }()")
		}
	}
}

// multiValue reports whether e can give a define several values: a call,
// a type assertion or a receive.
func multiValue(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.CallExpr, *ast.TypeAssertExpr:
		return true
	case *ast.UnaryExpr:
		return e.Op == token.ARROW
	}
	return false
}
