package cell

import (
	"go/types"
	"reflect"
	"strings"
	"testing"

	"github.com/graftml/graft/kernel/golang/stdsymbols"
	"github.com/graftml/graft/kernel/golang/symbols"
)

// TestImportEveryPackage builds the go/types package of every symbol table
// cells can import — the standard library's and graft's — so that every
// exported type, its fields and its methods go through the reflect-type
// conversion once. A type that reaches itself without end would overflow the
// stack here (fatal, like in the kernel) instead of in a user's cell.
func TestImportEveryPackage(t *testing.T) {
	tables := map[string]map[string]reflect.Value{}
	for _, all := range []map[string]map[string]reflect.Value{stdsymbols.Symbols, symbols.Symbols} {
		for key, syms := range all {
			if i := strings.LastIndex(key, "/"); i > 0 {
				tables[key[:i]] = syms
			}
		}
	}
	if len(tables) < 100 {
		t.Fatalf("only %d symbol tables found", len(tables))
	}
	im := importerFor(func(path string) map[string]reflect.Value { return tables[path] })
	for path := range tables {
		p, err := im.Import(path)
		if err != nil {
			t.Errorf("import %s: %v", path, err)
			continue
		}
		if p.Scope().Len() == 0 {
			t.Errorf("import %s: an empty package", path)
		}
	}
	// The conversion keeps methods whose parameters are the type itself.
	p, err := im.Import("github.com/graftml/graft/tensor")
	if err != nil {
		t.Fatal(err)
	}
	obj, _, _ := types.LookupFieldOrMethod(types.NewPointer(p.Scope().Lookup("Tensor").Type()), false, p, "Add")
	if got, want := types.TypeString(obj.Type(), nil), "func(*github.com/graftml/graft/tensor.Tensor) *github.com/graftml/graft/tensor.Tensor"; got != want {
		t.Errorf("tensor.Tensor.Add has type %s, want %s", got, want)
	}
}
