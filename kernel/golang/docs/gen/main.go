// Command gen regenerates index.bin, the embedded documentation index of
// package docs; it runs from go generate in kernel/golang/docs.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/graftml/graft/kernel/golang/docs/internal/docgen"
)

func main() {
	out := flag.String("o", "index.bin", "file to write the index to")
	flag.Parse()
	data, err := docgen.Generate(".")
	if err == nil {
		err = os.WriteFile(*out, data, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "docs/gen:", err)
		os.Exit(1)
	}
}
