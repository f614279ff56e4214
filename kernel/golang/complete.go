package golang

import (
	"reflect"
	"sort"
	"strings"
	"unicode"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/kernel"
	"github.com/graftml/graft/kernel/golang/cell"
	"github.com/graftml/graft/kernel/golang/docs"
)

var keywords = []string{
	"break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough",
	"for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range",
	"return", "select", "struct", "switch", "type", "var",
}

// builtinDocs documents Go's predeclared functions (signature, doc).
var builtinDocs = map[string][2]string{
	"append":  {"func append(slice []Type, elems ...Type) []Type", "append appends elements to the end of a slice and returns the updated slice."},
	"cap":     {"func cap(v Type) int", "cap returns the capacity of v (array, slice or channel)."},
	"clear":   {"func clear[T ~[]Type | ~map[Type]Type1](t T)", "clear deletes all entries of a map, or sets all elements of a slice to their zero value."},
	"close":   {"func close(c chan<- Type)", "close closes a channel; receives then succeed with the zero value once the buffer is drained."},
	"complex": {"func complex(r, i FloatType) ComplexType", "complex builds a complex value from two floating-point values."},
	"copy":    {"func copy(dst, src []Type) int", "copy copies elements from src to dst and returns the number copied, min(len(dst), len(src))."},
	"delete":  {"func delete(m map[Type]Type1, key Type)", "delete removes the element with the given key from the map; a missing key is a no-op."},
	"imag":    {"func imag(c ComplexType) FloatType", "imag returns the imaginary part of c."},
	"len":     {"func len(v Type) int", "len returns the length of v: a string's bytes, an array's or slice's elements, a map's entries, a channel's queued elements."},
	"make":    {"func make(t Type, size ...IntegerType) Type", "make allocates and initializes a slice, map or channel."},
	"max":     {"func max[T cmp.Ordered](x T, y ...T) T", "max returns the largest of its arguments."},
	"min":     {"func min[T cmp.Ordered](x T, y ...T) T", "min returns the smallest of its arguments."},
	"new":     {"func new(Type) *Type", "new allocates a zero value of Type and returns a pointer to it."},
	"panic":   {"func panic(v any)", "panic stops the normal execution of the current goroutine; in a cell it becomes the cell's error."},
	"print":   {"func print(args ...Type)", "print writes its arguments to standard error, without spaces or newline."},
	"println": {"func println(args ...Type)", "println writes its arguments to standard error, separated by spaces, with a newline."},
	"real":    {"func real(c ComplexType) FloatType", "real returns the real part of c."},
	"recover": {"func recover() any", "recover, called in a deferred function, stops a panic and returns its value."},
}

var predeclaredTypes = []string{
	"any", "bool", "byte", "comparable", "complex64", "complex128", "error", "float32", "float64",
	"int", "int8", "int16", "int32", "int64", "rune", "string",
	"uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
}

var predeclaredConsts = []string{"true", "false", "iota", "nil"}

func isLetter(c rune) bool { return c == '_' || unicode.IsLetter(c) }
func isDigit(c rune) bool  { return unicode.IsDigit(c) }
func isIdentRune(c rune) bool {
	return isLetter(c) || isDigit(c)
}

// candidate is one completion.
type candidate struct{ name, kind string }

// Complete returns completions for the code at cursor (a rune offset): names
// in scope, members after "pkg.", and fields and methods after "value.".
func (in *Interpreter) Complete(code string, cursor int) kernel.Completion {
	runes := []rune(code)
	cursor = max(0, min(cursor, len(runes)))
	start := cursor
	for start > 0 && isIdentRune(runes[start-1]) {
		start--
	}
	prefix := string(runes[start:cursor])
	var cands []candidate
	if start > 0 && runes[start-1] == '.' {
		b := start - 1
		for b > 0 && (isIdentRune(runes[b-1]) || runes[b-1] == '.') {
			b--
		}
		base := strings.Trim(string(runes[b:start-1]), ".")
		if base == "" {
			return kernel.Completion{CursorStart: start, CursorEnd: cursor}
		}
		cands = in.memberCandidates(base)
	} else {
		cands = in.scopeCandidates()
	}
	seen := map[string]bool{}
	var res kernel.Completion
	sort.Slice(cands, func(i, j int) bool { return cands[i].name < cands[j].name })
	for _, c := range cands {
		if !strings.HasPrefix(c.name, prefix) || seen[c.name] || internalName(c.name) {
			continue
		}
		seen[c.name] = true
		res.Matches = append(res.Matches, c.name)
		res.Types = append(res.Types, c.kind)
	}
	res.CursorStart, res.CursorEnd = start, cursor
	return res
}

// scopeCandidates lists the names usable at the top level of a cell.
func (in *Interpreter) scopeCandidates() []candidate {
	var cands []candidate
	for name, kind := range in.declared() {
		cands = append(cands, candidate{name, kindName(kind)})
	}
	{
		for name := range in.globals() {
			cands = append(cands, candidate{name, "variable"})
		}
	}
	for _, n := range in.pkgs.names() {
		cands = append(cands, candidate{n, "package"})
	}
	for _, k := range keywords {
		cands = append(cands, candidate{k, "keyword"})
	}
	for b := range builtinDocs {
		cands = append(cands, candidate{b, "function"})
	}
	for _, t := range predeclaredTypes {
		cands = append(cands, candidate{t, "type"})
	}
	for _, c := range predeclaredConsts {
		cands = append(cands, candidate{c, "constant"})
	}
	return cands
}

// kindName maps a declaration kind to Jupyter's completion type names.
func kindName(kind string) string {
	switch kind {
	case "func":
		return "function"
	case "var":
		return "variable"
	case "const":
		return "constant"
	case "package":
		return "package"
	case "method":
		return "method"
	case "field":
		return "field"
	}
	return kind
}

// memberCandidates lists what may follow "base.".
func (in *Interpreter) memberCandidates(base string) []candidate {
	if path, ok := in.packagePath(base); ok {
		return in.packageMembers(path)
	}
	t, ok := in.typeOf(base)
	if !ok {
		return nil
	}
	return typeMembers(t, in.interpretedMethods(base))
}

// packagePath resolves a package name as cells see it: imported by a cell,
// or importable automatically, unless a cell declared the name otherwise.
func (in *Interpreter) packagePath(name string) (string, bool) {
	if p, ok := in.importPath(name); ok {
		return p, true
	}
	if _, ok := in.declared()[name]; ok {
		return "", false
	}
	return in.pkgs.lookup(name)
}

// packageMembers lists a package's exported names: from the documentation
// index when it has the package, else from its symbol table.
func (in *Interpreter) packageMembers(path string) []candidate {
	// The symbol table says what cells can use (yaegi's standard library
	// may lag the documentation); the index gives the kinds.
	kinds := map[string]string{}
	for _, m := range docs.Members(path, "") {
		kinds[m.Name] = kindName(m.Kind)
	}
	var cands []candidate
	for name, v := range in.pkgs.symbols(path) {
		kind, ok := kinds[name]
		if !ok {
			kind = symbolKind(v)
		}
		cands = append(cands, candidate{name, kind})
	}
	return cands
}

// symbolKind guesses a symbol table entry's kind from yaegi's conventions:
// types are typed nil pointers, variables are addressable.
func symbolKind(v reflect.Value) string {
	switch {
	case v.CanAddr():
		return "variable"
	case v.Kind() == reflect.Func:
		return "function"
	case v.Kind() == reflect.Pointer && v.IsNil():
		return "type"
	}
	return "constant"
}

// typeOf returns the type of a global variable or a chain of fields from
// one ("cfg.Optim"), or of a package variable ("os.Stdout").
func (in *Interpreter) typeOf(expr string) (reflect.Type, bool) {
	parts := strings.Split(expr, ".")
	var t reflect.Type
	if v, ok := in.globals()[parts[0]]; ok && v.IsValid() {
		if v.Kind() == reflect.Interface && !v.IsNil() {
			v = v.Elem()
		}
		t = v.Type()
		parts = parts[1:]
	} else if path, ok := in.packagePath(parts[0]); ok && len(parts) > 1 {
		sym, ok := in.pkgs.symbols(path)[parts[1]]
		if !ok || !sym.CanAddr() {
			return nil, false
		}
		t = sym.Type()
		parts = parts[2:]
	} else {
		return nil, false
	}
	for _, p := range parts {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		f, ok := t.FieldByName(p)
		if !ok {
			return nil, false
		}
		t = f.Type
	}
	return t, true
}

// interpretedMethods returns the methods cells declared on the type of a
// global, when the kernel knows it.
func (in *Interpreter) interpretedMethods(name string) []string {
	in.st.mu.RLock()
	defer in.st.mu.RUnlock()
	if t, ok := in.st.varTypes[name]; ok {
		return in.st.methods[t]
	}
	return nil
}

// typeMembers lists the fields and methods of t (through pointers).
func typeMembers(t reflect.Type, extra []string) []candidate {
	var cands []candidate
	for _, m := range extra {
		cands = append(cands, candidate{m, "method"})
	}
	mt := t
	if mt.Kind() != reflect.Pointer && mt.Kind() != reflect.Interface {
		mt = reflect.PointerTo(t)
	}
	for k := 0; k < mt.NumMethod(); k++ {
		if m := mt.Method(k); m.IsExported() {
			cands = append(cands, candidate{m.Name, "method"})
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		for _, f := range reflect.VisibleFields(t) {
			if f.IsExported() || f.PkgPath == "" || t.PkgPath() == "" {
				cands = append(cands, candidate{f.Name, "field"})
			}
		}
	}
	return cands
}

// Inspect returns the signature and doc comment of the name at cursor (or
// of the call whose parenthesis the cursor follows).
func (in *Interpreter) Inspect(code string, cursor, detail int) kernel.Inspection {
	name := nameAt(code, cursor)
	if name == "" {
		return kernel.Inspection{}
	}
	text, ok := in.describeName(name)
	if !ok {
		return kernel.Inspection{}
	}
	return kernel.Inspection{Found: true, Data: display.NewBundle(text)}
}

// nameAt returns the dotted name around cursor; when the cursor is inside a
// call's parentheses and not on a name, the called name.
func nameAt(code string, cursor int) string {
	runes := []rune(code)
	cursor = max(0, min(cursor, len(runes)))
	isName := func(c rune) bool { return isIdentRune(c) || c == '.' }
	s, e := cursor, cursor
	for s > 0 && isName(runes[s-1]) {
		s--
	}
	for e < len(runes) && isIdentRune(runes[e]) {
		e++
	}
	if name := strings.Trim(string(runes[s:e]), "."); name != "" {
		return name
	}
	// Inside a call: find the unclosed '(' before the cursor.
	depth := 0
	for k := cursor - 1; k >= 0; k-- {
		switch runes[k] {
		case ')':
			depth++
		case '(':
			if depth > 0 {
				depth--
				continue
			}
			e := k
			for e > 0 && runes[e-1] == ' ' {
				e--
			}
			s := e
			for s > 0 && isName(runes[s-1]) {
				s--
			}
			return strings.Trim(string(runes[s:e]), ".")
		case '\n':
			if depth == 0 {
				return ""
			}
		}
	}
	return ""
}

// describeName returns the documentation of a name as cells see it.
func (in *Interpreter) describeName(name string) (string, bool) {
	parts := strings.Split(name, ".")
	first := parts[0]
	declared := in.declared()
	kind, isDeclared := declared[first]
	if isDeclared && kind != "package" {
		return in.describeDeclared(parts, kind)
	}
	if path, ok := in.packagePath(first); ok {
		return describeMember(in, path, parts[1:])
	}
	if len(parts) == 1 {
		if d, ok := builtinDocs[first]; ok {
			return d[0] + "\n\n" + d[1], true
		}
	}
	return "", false
}

// describeMember documents pkg, pkg.Name or pkg.Type.Method.
func describeMember(in *Interpreter, path string, rest []string) (string, bool) {
	if len(rest) == 0 {
		if p, ok := docs.Lookup(path); ok {
			return "package " + p.Name + " // import " + quote(path) + "\n\n" + p.Doc, true
		}
		return "package " + packageName(path) + " // import " + quote(path), true
	}
	if m, ok := docs.Find(path, strings.Join(rest, ".")); ok {
		return formatMember(path, m), true
	}
	// Not in the index: the symbol's Go type.
	if sym, ok := in.pkgs.symbols(path)[rest[0]]; ok {
		full := packageName(path) + "." + rest[0]
		switch symbolKind(sym) {
		case "type":
			t := sym.Type().Elem()
			if len(rest) == 2 {
				if m, ok := reflect.PointerTo(t).MethodByName(rest[1]); ok {
					return "func (" + t.String() + ") " + rest[1] + strings.TrimPrefix(m.Func.Type().String(), "func"), true
				}
				return "", false
			}
			return "type " + full + " " + t.Kind().String(), true
		case "function":
			return "func " + full + strings.TrimPrefix(sym.Type().String(), "func"), true
		default:
			return symbolKind(sym) + " " + full + " " + sym.Type().String(), true
		}
	}
	return "", false
}

// formatMember renders a documented member for the pager.
func formatMember(path string, m *docs.Member) string {
	s := m.Signature
	if m.Doc != "" {
		s += "\n\n" + strings.TrimRight(m.Doc, "\n")
	}
	where := packageName(path)
	if m.Recv != "" {
		where += "." + m.Recv
	}
	return s + "\n\n(" + m.Kind + " in " + where + ", import " + quote(path) + ")"
}

// describeDeclared documents something a cell declared: its declaration as
// written, a variable's type and value, and for a value of a graft or
// standard library type, that type's documentation or the field or method
// named after it.
func (in *Interpreter) describeDeclared(parts []string, kind string) (string, bool) {
	name := parts[0]
	in.st.mu.RLock()
	decl := in.st.decls[name]
	in.st.mu.RUnlock()
	if kind == "func" || kind == "type" {
		if len(parts) > 1 {
			return "", false
		}
		if decl == "" {
			return kind + " " + name, true
		}
		return decl, true
	}
	t, ok := in.typeOf(strings.Join(parts, "."))
	if len(parts) > 1 && !ok {
		// A method of the value's type.
		t0, ok := in.typeOf(strings.Join(parts[:len(parts)-1], "."))
		if !ok {
			return "", false
		}
		return methodDoc(t0, parts[len(parts)-1])
	}
	var b strings.Builder
	if ok {
		b.WriteString(kind + " " + strings.Join(parts, ".") + " " + t.String())
		if len(parts) == 1 {
			if v, ok := in.globals()[name]; ok && v.IsValid() {
				_, val := describe(v)
				b.WriteString("\n\nValue: " + val)
			}
		}
		if doc := typeDoc(t); doc != "" {
			b.WriteString("\n\n" + doc)
		}
	} else {
		b.WriteString(kind + " " + name)
	}
	if decl != "" && len(parts) == 1 {
		b.WriteString("\n\nDeclared as:\n" + decl)
	}
	return b.String(), true
}

// namedType returns t's package path and name, looking through pointers.
func namedType(t reflect.Type) (path, name string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath(), t.Name()
}

// typeDoc returns the documentation of a named graft or standard library
// type.
func typeDoc(t reflect.Type) string {
	path, name := namedType(t)
	if path == "" || name == "" {
		return ""
	}
	if m, ok := docs.Find(path, name); ok {
		return formatMember(path, m)
	}
	return ""
}

// methodDoc documents method (or field) name of type t.
func methodDoc(t reflect.Type, name string) (string, bool) {
	path, tname := namedType(t)
	if path != "" && tname != "" {
		if m, ok := docs.Find(path, tname+"."+name); ok {
			return formatMember(path, m), true
		}
	}
	mt := t
	if mt.Kind() != reflect.Pointer && mt.Kind() != reflect.Interface {
		mt = reflect.PointerTo(t)
	}
	if m, ok := mt.MethodByName(name); ok {
		sig := m.Type.String()
		if mt.Kind() != reflect.Interface {
			// Drop the receiver from the method expression's type.
			in := make([]string, 0, m.Type.NumIn())
			for k := 1; k < m.Type.NumIn(); k++ {
				in = append(in, m.Type.In(k).String())
			}
			sig = "func(" + strings.Join(in, ", ") + ")" + resultList(m.Type)
		}
		return "method " + t.String() + "." + name + "\n" + sig, true
	}
	return "", false
}

func resultList(t reflect.Type) string {
	switch t.NumOut() {
	case 0:
		return ""
	case 1:
		return " " + t.Out(0).String()
	}
	out := make([]string, t.NumOut())
	for k := range out {
		out[k] = t.Out(k).String()
	}
	return " (" + strings.Join(out, ", ") + ")"
}

// IsComplete says whether code is ready to run: "complete", "incomplete"
// (with the indent for the next line) or "invalid"; see cell.IsComplete.
func (in *Interpreter) IsComplete(code string) (status, indent string) {
	return cell.IsComplete(code)
}
