// Command gen regenerates yaegi symbol tables; it runs from go generate in
// kernel/golang/symbols (-set graft) and kernel/golang/stdsymbols (-set std).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/graftml/graft/kernel/golang/internal/symgen"
)

func main() {
	name := flag.String("set", "", "the set of packages: graft or std")
	dir := flag.String("o", ".", "directory to write the tables into")
	flag.Parse()
	for _, s := range symgen.Sets {
		if s.Name == *name {
			if err := s.Generate(*dir); err != nil {
				fmt.Fprintln(os.Stderr, "symgen:", err)
				os.Exit(1)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "symgen: unknown -set %q (graft or std)\n", *name)
	os.Exit(2)
}
