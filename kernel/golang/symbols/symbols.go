// Package symbols holds the yaegi symbol tables of graft's exported packages,
// so that Go code interpreted in a notebook cell can import and call compiled
// graft code (tensor, nn, display …) at native speed. The tables are generated
// by yaegi's extract package (go generate; see internal/symgen for the package
// list) and are used with an interpreter alongside the standard library's
// (package stdsymbols):
//
//	i := interp.New(interp.Options{})
//	i.Use(stdsymbols.Symbols)
//	i.Use(symbols.Symbols)
//
// Interface types get yaegi wrappers, so interpreted types can implement
// display.Displayer, nn.Layer, tensor.Rand and the other graft interfaces.
package symbols

//go:generate go run ../internal/symgen/gen -set graft

import (
	"fmt"
	"path"
	"reflect"
	"sort"

	"github.com/graftml/graft/display"
)

// Symbols maps "IMPORTPATH/NAME" (for example
// "github.com/graftml/graft/tensor/tensor") to the exported symbols of that
// package, in the layout of yaegi's interp.Exports. The entry "." carries
// MapTypes, as in package stdsymbols.
var Symbols = map[string]map[string]reflect.Value{}

// MapTypes tells yaegi which interfaces to look for in values passed as `any`
// to graft functions that treat such values specially: an interpreted type
// with a Display method given to display.Render or display.Show is wrapped as
// a display.Displayer (or else as a fmt.Stringer), so its rich form is used.
// yaegi v0.16.1 consults it only for direct calls of these functions with an
// argument whose static type is the interpreted type: a method such as
// (*display.Handle).Update, a function value, or a value held in an `any`
// variable pass the bare struct (shown as text). The kernel's cell analyzer
// rewrites h.Update(v) as h.Update(display.Render(v)), which keeps the rich
// form; the other two cases remain.
var MapTypes = map[reflect.Value][]reflect.Type{}

func init() {
	shown := []reflect.Type{
		reflect.TypeFor[display.Displayer](),
		reflect.TypeFor[fmt.Stringer](),
	}
	MapTypes[reflect.ValueOf(display.Render)] = shown
	MapTypes[reflect.ValueOf(display.Show)] = shown
	Symbols["."] = map[string]reflect.Value{"MapTypes": reflect.ValueOf(MapTypes)}
}

// Paths returns the import paths of the packages in Symbols, sorted, for
// example "github.com/graftml/graft/tensor". A package's name is the last
// element of its Symbols key.
func Paths() []string {
	var paths []string
	for k := range Symbols {
		if k != "." {
			paths = append(paths, path.Dir(k))
		}
	}
	sort.Strings(paths)
	return paths
}
