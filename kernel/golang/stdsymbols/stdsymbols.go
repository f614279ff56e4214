// Package stdsymbols holds the yaegi symbol tables of the standard library
// packages cells can import, extracted by yaegi's extract package from the
// Go release graft is built with (GoVersion; go generate, see
// internal/symgen for the package list). Cells thus see that release's
// standard library (strings.Lines, os.Root, crypto/rand.Text …) instead of
// the Go 1.22 API of yaegi's own stdlib tables, which this package replaces:
//
//	i := interp.New(interp.Options{})
//	i.Use(stdsymbols.Symbols)
//
// As with yaegi's stdlib.Symbols, interp.Use recognizes the tables by their
// "fmt/fmt" key: it then points fmt.Print*, fmt.Scan*, log's functions and
// os.Stdin, os.Stdout and os.Stderr at the interpreter's streams, gives
// cells the interpreter's environment, and loads yaegi's source of the
// generic packages cmp, maps and slices. What would end the process
// panics instead: os.Exit, log.Fatal* and the Fatal methods of loggers made
// by log.New; os.FindProcess refuses the process itself.
//
// Generic functions and types cannot be extracted (yaegi compiles no
// instances), so the tables lack them; package cell supplies the most used
// ones of slices and maps.
package stdsymbols

//go:generate go run ../internal/symgen/gen -set std

import "reflect"

// Symbols maps "IMPORTPATH/NAME" (for example "net/http/http") to the
// exported symbols of that package, in the layout of yaegi's interp.Exports.
// The entry "." carries MapTypes.
var Symbols = map[string]map[string]reflect.Value{}

// MapTypes tells yaegi, for compiled functions that treat an argument of
// type any specially when it implements an interface (fmt.Println and
// fmt.Stringer, json.Marshal and json.Marshaler …), which interfaces to
// wrap an interpreted value in; and, for the interface wrappers of io.Reader,
// io.Writer and http.ResponseWriter, wrappers with the extra method that
// io.Copy and net/http look for (WriteTo, ReadFrom, Hijack).
var MapTypes = map[reflect.Value][]reflect.Type{}

func init() {
	Symbols["."] = map[string]reflect.Value{"MapTypes": reflect.ValueOf(MapTypes)}
}
