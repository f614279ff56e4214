// Command gen regenerates the yaegi symbol tables of package symbols; it runs
// from go generate in kernel/golang/symbols.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/graftml/graft/kernel/golang/symbols/internal/symgen"
)

func main() {
	dir := flag.String("o", ".", "directory to write the tables into")
	flag.Parse()
	if err := symgen.Generate(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "symbols/gen:", err)
		os.Exit(1)
	}
}
