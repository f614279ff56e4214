package cell

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/traefik/yaegi/interp"

	"github.com/graftml/graft/kernel/golang/stdsymbols"
)

// session runs cells the way the kernel's interpreter does: it analyses a
// cell against what earlier cells defined, evaluates the plan step by step
// and records what the cell defined.
type session struct {
	t     *testing.T
	i     *interp.Interpreter
	scope Scope
	last  *Plan // of the latest cell
}

// testPackages is the automatic-import table of the tests.
var testPackages = map[string]string{
	"fmt": "fmt", "strings": "strings", "math": "math", "rand": "math/rand",
	"sort": "sort", "slices": "slices", "maps": "maps", "iter": "iter",
	"strconv": "strconv", "errors": "errors", "os": "os", "time": "time", "io": "io",
}

func newSession(t *testing.T) *session {
	t.Helper()
	i := interp.New(interp.Options{})
	if err := i.Use(stdsymbols.Symbols); err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, i: i, scope: Scope{
		Globals: map[string]reflect.Type{},
		Defined: map[string]bool{},
		Types:   map[string]bool{},
		Imports: map[string]string{},
		Decls:   map[string]string{},
		Symbols: func(path string) map[string]reflect.Value {
			return stdsymbols.Symbols[path+"/"+pathName(path)]
		},
		Package: func(name string) (string, bool) {
			p, ok := testPackages[name]
			return p, ok
		},
	}}
	for _, src := range Prelude() {
		if _, err := s.eval(src); err != nil {
			t.Fatalf("prelude step %q: %v", src, err)
		}
	}
	for _, n := range PreludeNames() {
		s.scope.Defined[n] = true
	}
	return s
}

// eval runs one interp.Eval, turning panics into errors.
func (s *session) eval(src string) (v reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaegi panic: %v", r)
		}
	}()
	return s.i.Eval(src)
}

// run evaluates a cell and returns the value of its trailing expression
// (the zero Value when there is none).
func (s *session) run(src string) (reflect.Value, error) {
	plan, err := Analyze(src, s.scope)
	if err != nil {
		return reflect.Value{}, err
	}
	s.last = plan
	for _, im := range plan.Imports {
		if _, err := s.eval(im.Source()); err != nil {
			return reflect.Value{}, fmt.Errorf("import %s: %w", im.Source(), err)
		}
		s.scope.Imports[im.LocalName()] = im.Path
	}
	var last reflect.Value
	for k, st := range plan.Steps {
		v, err := s.eval(st.Source)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("step %d (%s) %q: %w", k, st.Kind, st.Source, err)
		}
		last = v
	}
	for name, d := range plan.Decls {
		if d == "" {
			delete(s.scope.Decls, name)
		} else {
			s.scope.Decls[name] = d
		}
	}
	for _, n := range plan.Defines {
		if n.Kind == VarName {
			continue
		}
		s.scope.Defined[n.Name] = true
		if n.Kind == TypeName {
			s.scope.Types[n.Name] = true
		}
	}
	for name, v := range s.i.Globals() {
		if v.IsValid() {
			s.scope.Globals[name] = v.Type()
		}
	}
	if !plan.Trailing {
		return reflect.Value{}, nil
	}
	return last, nil
}

// value runs a cell that must succeed and returns its value formatted with
// %v, or "<none>".
func (s *session) value(src string) string {
	s.t.Helper()
	v, err := s.run(src)
	if err != nil {
		s.t.Fatalf("cell %q: %v", src, err)
	}
	if !v.IsValid() {
		return "<none>"
	}
	return fmt.Sprintf("%v", v.Interface())
}
