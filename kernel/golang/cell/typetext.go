package cell

import (
	"fmt"
	"go/types"
	"strconv"
	"strings"
)

// typeText writes t as Go source valid in the cell, or reports false when it
// cannot (a type local to a function, an unexported type of a package, a
// package name that is taken). A type of a package the cell has not
// imported adds an automatic import when addImports is set. iter.Seq and
// iter.Seq2 (generic types, which the interpreter has no table for) are
// spelled out as func types.
func (a *analyzer) typeText(t types.Type, addImports bool) (string, bool) {
	var b strings.Builder
	ok := a.writeType(&b, t, addImports)
	return b.String(), ok
}

func (a *analyzer) writeType(b *strings.Builder, t types.Type, addImports bool) bool {
	switch t := t.(type) {
	case *types.Basic:
		t = types.Default(t).(*types.Basic)
		if t.Kind() == types.Invalid || t.Kind() == types.UnsafePointer || t.Kind() == types.UntypedNil {
			return false
		}
		b.WriteString(t.Name())
		return true
	case *types.Alias:
		return a.writeType(b, types.Unalias(t), addImports)
	case *types.Named:
		obj := t.Obj()
		pkg := obj.Pkg()
		if pkg != nil && pkg.Path() == "iter" {
			return a.writeType(b, t.Underlying(), addImports)
		}
		if pkg != nil && pkg.Path() != "main" {
			if !obj.Exported() {
				return false
			}
			name, ok := a.packageName(pkg.Path(), addImports)
			if !ok {
				return false
			}
			b.WriteString(name + ".")
		} else if pkg != nil && obj.Parent() != pkg.Scope() {
			return false // declared inside a function
		}
		b.WriteString(obj.Name())
		if args := t.TypeArgs(); args.Len() > 0 {
			b.WriteString("[")
			for i := 0; i < args.Len(); i++ {
				if i > 0 {
					b.WriteString(", ")
				}
				if !a.writeType(b, args.At(i), addImports) {
					return false
				}
			}
			b.WriteString("]")
		}
		return true
	case *types.TypeParam:
		b.WriteString(t.Obj().Name())
		return true
	case *types.Pointer:
		b.WriteString("*")
		return a.writeType(b, t.Elem(), addImports)
	case *types.Slice:
		b.WriteString("[]")
		return a.writeType(b, t.Elem(), addImports)
	case *types.Array:
		fmt.Fprintf(b, "[%d]", t.Len())
		return a.writeType(b, t.Elem(), addImports)
	case *types.Map:
		b.WriteString("map[")
		if !a.writeType(b, t.Key(), addImports) {
			return false
		}
		b.WriteString("]")
		return a.writeType(b, t.Elem(), addImports)
	case *types.Chan:
		switch t.Dir() {
		case types.SendRecv:
			b.WriteString("chan ")
			if c, ok := t.Elem().(*types.Chan); ok && c.Dir() == types.RecvOnly {
				b.WriteString("(")
				defer b.WriteString(")")
			}
		case types.SendOnly:
			b.WriteString("chan<- ")
		case types.RecvOnly:
			b.WriteString("<-chan ")
		}
		return a.writeType(b, t.Elem(), addImports)
	case *types.Signature:
		b.WriteString("func")
		return a.writeSignature(b, t, addImports)
	case *types.Struct:
		b.WriteString("struct{")
		for i := 0; i < t.NumFields(); i++ {
			f := t.Field(i)
			if i > 0 {
				b.WriteString("; ")
			}
			if !f.Exported() && f.Pkg() != nil && f.Pkg().Path() != "main" {
				return false
			}
			if !f.Embedded() {
				b.WriteString(f.Name() + " ")
			}
			if !a.writeType(b, f.Type(), addImports) {
				return false
			}
			if tag := t.Tag(i); tag != "" {
				b.WriteString(" " + strconv.Quote(tag))
			}
		}
		b.WriteString("}")
		return true
	case *types.Interface:
		if t.NumEmbeddeds() > 0 {
			return false
		}
		if t.NumExplicitMethods() == 0 {
			b.WriteString("interface{}")
			return true
		}
		b.WriteString("interface{ ")
		for i := 0; i < t.NumExplicitMethods(); i++ {
			m := t.ExplicitMethod(i)
			if i > 0 {
				b.WriteString("; ")
			}
			if !m.Exported() && m.Pkg() != nil && m.Pkg().Path() != "main" {
				return false
			}
			b.WriteString(m.Name())
			if !a.writeSignature(b, m.Type().(*types.Signature), addImports) {
				return false
			}
		}
		b.WriteString(" }")
		return true
	}
	return false
}

// writeSignature writes the parameters and results of a func type.
func (a *analyzer) writeSignature(b *strings.Builder, sig *types.Signature, addImports bool) bool {
	writeTuple := func(tup *types.Tuple, variadic bool) bool {
		b.WriteString("(")
		for i := 0; i < tup.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			t := tup.At(i).Type()
			if variadic && i == tup.Len()-1 {
				b.WriteString("...")
				t = t.(*types.Slice).Elem()
			}
			if !a.writeType(b, t, addImports) {
				return false
			}
		}
		b.WriteString(")")
		return true
	}
	if !writeTuple(sig.Params(), sig.Variadic()) {
		return false
	}
	switch sig.Results().Len() {
	case 0:
		return true
	case 1:
		b.WriteString(" ")
		return a.writeType(b, sig.Results().At(0).Type(), addImports)
	}
	b.WriteString(" ")
	return writeTuple(sig.Results(), false)
}

// packageName returns the name under which the cell can refer to the
// package at path, importing it automatically if allowed and needed.
func (a *analyzer) packageName(path string, addImports bool) (string, bool) {
	for _, im := range a.imports {
		if im.Path == path && im.LocalName() != "_" && im.LocalName() != "." {
			return im.LocalName(), true
		}
	}
	for _, name := range sortedKeys(a.scope.Imports) {
		if a.scope.Imports[name] == path {
			return name, true
		}
	}
	if !addImports {
		return "", false
	}
	name := pathName(path)
	if a.cellNames[name] || a.known(name) || a.scope.Imports[name] != "" {
		return "", false
	}
	for _, im := range a.imports {
		if im.LocalName() == name {
			return "", false
		}
	}
	a.imports = append(a.imports, Import{Path: path})
	return name, true
}
