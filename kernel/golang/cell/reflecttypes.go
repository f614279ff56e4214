package cell

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/traefik/yaegi/stdlib/generic"
)

// reflectImporter builds go/types packages from yaegi symbol tables (the
// reflect values of a compiled package's exported names), so that cells can
// be type-checked without the packages' source or export data. The
// standard-library packages that yaegi interprets from source (cmp, maps,
// slices) are type-checked from that same source.
type reflectImporter struct {
	mu      sync.Mutex
	symbols func(path string) map[string]reflect.Value // of the check in progress
	pkgs    map[string]*types.Package                  // complete packages, by path
	shells  map[string]*types.Package                  // packages referenced by types, by path
	named   map[reflect.Type]*types.Named
	// converting holds the generic instantiations (named, but not cached in
	// named) and unnamed structs whose structure is being converted, each
	// with the placeholder that stands for it where it is reached again
	// through itself (nil until then), so that the conversion ends instead of
	// recursing until the stack overflows, a fatal error. Other
	// named types are cached before their structure is converted. Go has no
	// recursive unnamed types, but yaegi gives the recursive types of
	// interpreted code unnamed, self-referring reflect structs.
	converting map[reflect.Type]*types.Named
	// local is the package of the cell being checked, while goType runs.
	local *types.Package
}

// sharedImporter caches the packages built for all cells of the process:
// building a package from reflect values or source costs far more than
// checking a cell, and a path's symbol table never changes.
var sharedImporter = &reflectImporter{pkgs: map[string]*types.Package{}, shells: map[string]*types.Package{}, named: map[reflect.Type]*types.Named{}}

// importerFor returns an importer that finds packages not built yet with
// symbols.
func importerFor(symbols func(string) map[string]reflect.Value) *scopedImporter {
	return &scopedImporter{im: sharedImporter, symbols: symbols}
}

// scopedImporter is the importer of one check.
type scopedImporter struct {
	im      *reflectImporter
	symbols func(string) map[string]reflect.Value
}

// Import implements types.Importer.
func (s *scopedImporter) Import(path string) (*types.Package, error) {
	s.im.mu.Lock()
	defer s.im.mu.Unlock()
	s.im.symbols = s.symbols
	defer func() { s.im.symbols = nil }()
	return s.im.load(path)
}

// goType converts a reflect type for a cell's check in package local: the
// unexported fields of interpreted structs belong to it, as the cells that
// declared them do.
func (s *scopedImporter) goType(t reflect.Type, local *types.Package) types.Type {
	s.im.mu.Lock()
	defer s.im.mu.Unlock()
	s.im.local = local
	defer func() { s.im.local = nil }()
	return s.im.typ(t)
}

// genericSources maps the standard-library packages yaegi interprets from
// source to that source.
var genericSources = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, src := range generic.Sources {
		f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.PackageClauseOnly)
		if err == nil {
			m[f.Name.Name] = src
		}
	}
	return m
})

func (im *reflectImporter) load(path string) (*types.Package, error) {
	if p, ok := im.pkgs[path]; ok {
		return p, nil
	}
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	src, generic := genericSources()[path]
	if extra := checkSources(path); generic || extra != "" {
		// Packages yaegi interprets from source, plus the functions
		// the prelude adds to them.
		fset := token.NewFileSet()
		var files []*ast.File
		for _, text := range []string{src, extra} {
			if text == "" {
				continue
			}
			f, err := parser.ParseFile(fset, path+".go", text, parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
		conf := types.Config{Importer: importerFunc(im.load), Error: func(error) {}}
		p, _ := conf.Check(path, fset, files, nil)
		im.pkgs[path] = p
		return p, nil
	}
	var syms map[string]reflect.Value
	if im.symbols != nil {
		syms = im.symbols(path)
	}
	if syms == nil {
		return nil, fmt.Errorf("package %q is not available to cells", path)
	}
	p := im.shell(path)
	names := make([]string, 0, len(syms))
	for name := range syms {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !token.IsExported(name) {
			continue
		}
		if obj := im.object(p, name, syms[name]); obj != nil {
			p.Scope().Insert(obj)
		}
	}
	p.MarkComplete()
	im.pkgs[path] = p
	return p, nil
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// shell returns the package object for path, created empty on first use.
func (im *reflectImporter) shell(path string) *types.Package {
	if p, ok := im.pkgs[path]; ok {
		return p
	}
	if p, ok := im.shells[path]; ok {
		return p
	}
	p := types.NewPackage(path, pathName(path))
	im.shells[path] = p
	return p
}

// object converts one exported symbol.
func (im *reflectImporter) object(p *types.Package, name string, v reflect.Value) types.Object {
	if !v.IsValid() {
		return nil
	}
	if c, ok := v.Interface().(constant.Value); ok && !v.CanAddr() {
		return types.NewConst(token.NoPos, p, name, untypedOf(c), c)
	}
	t := v.Type()
	switch {
	case v.CanAddr():
		return types.NewVar(token.NoPos, p, name, im.typ(t))
	case t.Kind() == reflect.Func:
		sig, _ := im.typ(t).(*types.Signature)
		if sig == nil {
			return nil
		}
		return types.NewFunc(token.NoPos, p, name, sig)
	case t.Kind() == reflect.Ptr && v.IsNil():
		if n, ok := im.typ(t.Elem()).(*types.Named); ok {
			return n.Obj()
		}
		return nil
	}
	// A typed constant such as time.Second.
	var c constant.Value
	switch t.Kind() {
	case reflect.Bool:
		c = constant.MakeBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c = constant.MakeInt64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		c = constant.MakeUint64(v.Uint())
	case reflect.Float32, reflect.Float64:
		c = constant.MakeFloat64(v.Float())
	case reflect.String:
		c = constant.MakeString(v.String())
	default:
		return types.NewVar(token.NoPos, p, name, im.typ(t))
	}
	return types.NewConst(token.NoPos, p, name, im.typ(t), c)
}

// untypedOf returns the untyped basic type of a constant.
func untypedOf(c constant.Value) types.Type {
	switch c.Kind() {
	case constant.Bool:
		return types.Typ[types.UntypedBool]
	case constant.String:
		return types.Typ[types.UntypedString]
	case constant.Int:
		return types.Typ[types.UntypedInt]
	case constant.Float:
		return types.Typ[types.UntypedFloat]
	case constant.Complex:
		return types.Typ[types.UntypedComplex]
	}
	return types.Typ[types.Invalid]
}

var basicKinds = map[reflect.Kind]types.BasicKind{
	reflect.Bool: types.Bool, reflect.Int: types.Int, reflect.Int8: types.Int8, reflect.Int16: types.Int16,
	reflect.Int32: types.Int32, reflect.Int64: types.Int64, reflect.Uint: types.Uint, reflect.Uint8: types.Uint8,
	reflect.Uint16: types.Uint16, reflect.Uint32: types.Uint32, reflect.Uint64: types.Uint64,
	reflect.Uintptr: types.Uintptr, reflect.Float32: types.Float32, reflect.Float64: types.Float64,
	reflect.Complex64: types.Complex64, reflect.Complex128: types.Complex128, reflect.String: types.String,
	reflect.UnsafePointer: types.UnsafePointer,
}

var errorType = reflect.TypeOf((*error)(nil)).Elem()

// typ converts a reflect type; the caller holds im.mu.
func (im *reflectImporter) typ(t reflect.Type) types.Type {
	if t == errorType {
		return types.Universe.Lookup("error").Type()
	}
	if t.Name() != "" && t.PkgPath() == "" {
		if k, ok := basicKinds[t.Kind()]; ok {
			return types.Typ[k]
		}
	}
	if t.Name() != "" && t.PkgPath() != "" && !strings.ContainsAny(t.Name(), "[]") {
		if n, ok := im.named[t]; ok {
			return n
		}
		p := im.shell(t.PkgPath())
		if p.Scope().Lookup(t.Name()) != nil {
			if tn, ok := p.Scope().Lookup(t.Name()).(*types.TypeName); ok {
				if n, ok := tn.Type().(*types.Named); ok {
					im.named[t] = n
					return n
				}
			}
		}
		tn := types.NewTypeName(token.NoPos, p, t.Name(), nil)
		n := types.NewNamed(tn, nil, nil)
		im.named[t] = n
		n.SetUnderlying(im.structure(t).Underlying())
		if t.Kind() != reflect.Interface {
			im.methods(n, t)
		}
		return n
	}
	if t.Name() == "" && t.Kind() != reflect.Struct {
		return im.structure(t)
	}
	// A generic instantiation or an unnamed struct: not cached, so a cycle
	// through it must be cut.
	if ref, ok := im.converting[t]; ok {
		if ref == nil {
			ref = im.placeholder(t)
			im.converting[t] = ref
		}
		return ref
	}
	if im.converting == nil {
		im.converting = map[reflect.Type]*types.Named{}
	}
	im.converting[t] = nil
	st := im.structure(t)
	ref := im.converting[t]
	delete(im.converting, t)
	if ref == nil {
		return st
	}
	ref.SetUnderlying(st.Underlying())
	return ref
}

// placeholder returns a named type standing for t where t is reached
// through itself, so that the conversion of a recursive type ends and its
// fields still have types.
func (im *reflectImporter) placeholder(t reflect.Type) *types.Named {
	name := t.Name()
	if name == "" {
		name = "struct{…}" // yaegi keeps no name for interpreted types
	}
	pkg := im.local
	if t.PkgPath() != "" {
		pkg = im.shell(t.PkgPath())
	}
	return types.NewNamed(types.NewTypeName(token.NoPos, pkg, name, nil), nil, nil)
}

// methods adds the exported methods of named type t to n.
func (im *reflectImporter) methods(n *types.Named, t reflect.Type) {
	seen := map[string]bool{}
	add := func(rt reflect.Type, ptr bool) {
		for i := 0; i < rt.NumMethod(); i++ {
			m := rt.Method(i)
			if seen[m.Name] || !token.IsExported(m.Name) {
				continue
			}
			seen[m.Name] = true
			var recvType types.Type = n
			if ptr {
				recvType = types.NewPointer(n)
			}
			recv := types.NewVar(token.NoPos, n.Obj().Pkg(), "", recvType)
			params, results, variadic := im.signatureParts(m.Type, 1)
			n.AddMethod(types.NewFunc(token.NoPos, n.Obj().Pkg(), m.Name, types.NewSignatureType(recv, nil, nil, params, results, variadic)))
		}
	}
	add(t, false)
	add(reflect.PointerTo(t), true)
}

// signatureParts converts the parameters of a func type, skipping the first
// skip (the receiver of a method value).
func (im *reflectImporter) signatureParts(t reflect.Type, skip int) (params, results *types.Tuple, variadic bool) {
	var ps, rs []*types.Var
	for i := skip; i < t.NumIn(); i++ {
		ps = append(ps, types.NewParam(token.NoPos, nil, "", im.typ(t.In(i))))
	}
	for i := 0; i < t.NumOut(); i++ {
		rs = append(rs, types.NewParam(token.NoPos, nil, "", im.typ(t.Out(i))))
	}
	return types.NewTuple(ps...), types.NewTuple(rs...), t.IsVariadic()
}

// interpretedFieldName undoes yaegi's renaming of the unexported fields of
// interpreted struct types (reflect cannot make unexported fields, so yaegi
// writes field val as Xval): a name of X followed by a letter that is not
// upper case is the field's own name without the X. Compiled structs keep
// their names; only unnamed structs, as yaegi builds them, come here.
func interpretedFieldName(name string) string {
	if len(name) > 1 && name[0] == 'X' {
		if r, _ := utf8.DecodeRuneInString(name[1:]); r == '_' || (unicode.IsLetter(r) && !unicode.IsUpper(r)) {
			return name[1:]
		}
	}
	return name
}

// structure converts the structure of t, ignoring its name.
func (im *reflectImporter) structure(t reflect.Type) types.Type {
	if k, ok := basicKinds[t.Kind()]; ok {
		return types.Typ[k]
	}
	switch t.Kind() {
	case reflect.Ptr:
		return types.NewPointer(im.typ(t.Elem()))
	case reflect.Slice:
		return types.NewSlice(im.typ(t.Elem()))
	case reflect.Array:
		return types.NewArray(im.typ(t.Elem()), int64(t.Len()))
	case reflect.Map:
		return types.NewMap(im.typ(t.Key()), im.typ(t.Elem()))
	case reflect.Chan:
		dir := types.SendRecv
		switch t.ChanDir() {
		case reflect.SendDir:
			dir = types.SendOnly
		case reflect.RecvDir:
			dir = types.RecvOnly
		}
		return types.NewChan(dir, im.typ(t.Elem()))
	case reflect.Func:
		params, results, variadic := im.signatureParts(t, 0)
		return types.NewSignatureType(nil, nil, nil, params, results, variadic)
	case reflect.Struct:
		var fields []*types.Var
		var tags []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			var p *types.Package
			if f.PkgPath != "" {
				p = im.shell(f.PkgPath)
			}
			name := f.Name
			if t.Name() == "" && !f.Anonymous {
				name = interpretedFieldName(name)
				if !token.IsExported(name) && p == nil {
					p = im.local
				}
			}
			fields = append(fields, types.NewField(token.NoPos, p, name, im.typ(f.Type), f.Anonymous))
			tags = append(tags, string(f.Tag))
		}
		return types.NewStruct(fields, tags)
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return types.Universe.Lookup("any").Type() // as Go's messages write it
		}
		var methods []*types.Func
		for i := 0; i < t.NumMethod(); i++ {
			m := t.Method(i)
			var p *types.Package
			if m.PkgPath != "" {
				p = im.shell(m.PkgPath)
			}
			params, results, variadic := im.signatureParts(m.Type, 0)
			methods = append(methods, types.NewFunc(token.NoPos, p, m.Name, types.NewSignatureType(nil, nil, nil, params, results, variadic)))
		}
		return types.NewInterfaceType(methods, nil).Complete()
	}
	return types.Typ[types.Invalid]
}
