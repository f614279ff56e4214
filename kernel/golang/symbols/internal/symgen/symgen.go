// Package symgen writes the yaegi symbol tables of graft's exported packages:
// one Go file per package, produced by yaegi's extract package, in package
// symbols. It is shared by the generator command (go generate) and the test
// that fails when the committed tables are stale.
package symgen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/traefik/yaegi/extract"
)

// Module is graft's module path.
const Module = "github.com/graftml/graft"

// Packages lists the graft packages cells can import, relative to the module
// root. Add a package here and run go generate in kernel/golang/symbols.
var Packages = []string{
	"display",
	"kernel/comm",
	"nn",
	"nn/optim",
	"nn/train",
	"safetensors",
	"tensor",
	"tensor/gemm",
}

// Prefix starts the name of every generated file; Generate removes other
// files with this prefix so that a package dropped from Packages loses its
// table.
const Prefix = "zz_"

// FileName returns the name of the generated file for the package at rel,
// e.g. "zz_nn_optim.go" for "nn/optim".
func FileName(rel string) string {
	return Prefix + strings.ReplaceAll(rel, "/", "_") + ".go"
}

// Tables returns the generated source of every table, keyed by file name.
// It must run inside graft's module (yaegi's extractor type-checks the
// packages and their dependencies from source through go/build); the
// packages are extracted concurrently.
func Tables() (map[string][]byte, error) {
	srcs := make([][]byte, len(Packages))
	errs := make([]error, len(Packages))
	var wg sync.WaitGroup
	for i, rel := range Packages {
		wg.Go(func() {
			ext := extract.Extractor{Dest: "symbols"}
			var buf bytes.Buffer
			path := Module + "/" + rel
			if _, err := ext.Extract(path, "", &buf); err != nil {
				errs[i] = fmt.Errorf("extract symbols of %s: %w", path, err)
			}
			srcs[i] = buf.Bytes()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(Packages))
	for i, rel := range Packages {
		out[FileName(rel)] = srcs[i]
	}
	return out, nil
}

// Generate writes the tables into dir, replacing earlier generated files.
func Generate(dir string) error {
	tables, err := Tables()
	if err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, Prefix+"*.go"))
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range old {
		if _, keep := tables[filepath.Base(f)]; !keep {
			errs = append(errs, os.Remove(f))
		}
	}
	for name, src := range tables {
		errs = append(errs, os.WriteFile(filepath.Join(dir, name), src, 0o644))
	}
	return errors.Join(errs...)
}
