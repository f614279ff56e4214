// Package symgen writes the yaegi symbol tables that let interpreted cells
// call compiled code: one Go file per package, produced by yaegi's extract
// package, for graft's exported packages (package symbols) and for the
// standard library (package stdsymbols). It is shared by the generator
// command (go generate, see ./gen) and the tests that fail when the
// committed tables are stale.
package symgen

import (
	"bytes"
	"errors"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/traefik/yaegi/extract"
)

// Module is graft's module path.
const Module = "github.com/graftml/graft"

// Prefix starts the name of every generated file; Generate removes other
// files with this prefix so that a package dropped from a set loses its
// table.
const Prefix = "zz_"

// Set is a group of packages whose tables make up one Go package.
type Set struct {
	// Name names the set for the generator's -set flag.
	Name string
	// Dest is the name of the Go package the tables are written into.
	Dest string
	// Paths are the import paths of the packages.
	Paths []string
	// Extra returns generated files other than the tables (name → source),
	// or nil.
	Extra func() map[string][]byte
}

// Graft is the set of graft's packages cells can import (package symbols).
// Add a package here and run go generate ./kernel/golang/symbols.
var Graft = Set{
	Name: "graft",
	Dest: "symbols",
	Paths: []string{
		Module + "/da",
		Module + "/da/ot",
		Module + "/da/tta",
		Module + "/data",
		Module + "/data/dataio",
		Module + "/data/digits",
		Module + "/data/shapes",
		Module + "/display",
		Module + "/kernel/comm",
		Module + "/models",
		Module + "/models/auto",
		Module + "/models/bert",
		Module + "/models/clip",
		Module + "/models/gpt2",
		Module + "/models/hf",
		Module + "/models/tokenizer",
		Module + "/models/vit",
		Module + "/nn",
		Module + "/nn/optim",
		Module + "/nn/train",
		Module + "/peft",
		Module + "/peft/merge",
		Module + "/peft/prompt",
		Module + "/safetensors",
		Module + "/tensor",
		Module + "/tensor/gemm",
		Module + "/viz",
		Module + "/viz/progress",
		Module + "/viz/project",
		Module + "/viz/table",
	},
}

// Std is the set of standard library packages cells can import (package
// stdsymbols): those yaegi v0.16.1's own stdlib package exposes, extracted
// from the Go toolchain that runs the generator, so that cells see the
// standard library of the Go release graft is built with. syscall, unsafe,
// os/exec and the other packages yaegi leaves out (or exposes only through
// its unrestricted and unsafe tables) stay out.
var Std = Set{
	Name: "std",
	Dest: "stdsymbols",
	Paths: []string{
		"archive/tar", "archive/zip", "bufio", "bytes", "cmp",
		"compress/bzip2", "compress/flate", "compress/gzip", "compress/lzw", "compress/zlib",
		"container/heap", "container/list", "container/ring", "context",
		"crypto", "crypto/aes", "crypto/cipher", "crypto/des", "crypto/dsa", "crypto/ecdh",
		"crypto/ecdsa", "crypto/ed25519", "crypto/elliptic", "crypto/hmac", "crypto/md5",
		"crypto/rand", "crypto/rc4", "crypto/rsa", "crypto/sha1", "crypto/sha256",
		"crypto/sha512", "crypto/subtle", "crypto/tls", "crypto/x509", "crypto/x509/pkix",
		"database/sql", "database/sql/driver",
		"debug/buildinfo", "debug/dwarf", "debug/elf", "debug/gosym", "debug/macho", "debug/pe", "debug/plan9obj",
		"encoding", "encoding/ascii85", "encoding/asn1", "encoding/base32", "encoding/base64",
		"encoding/binary", "encoding/csv", "encoding/gob", "encoding/hex", "encoding/json",
		"encoding/pem", "encoding/xml",
		"errors", "expvar", "flag", "fmt",
		"go/ast", "go/build", "go/build/constraint", "go/constant", "go/doc", "go/doc/comment",
		"go/format", "go/importer", "go/parser", "go/printer", "go/scanner", "go/token",
		"go/types", "go/version",
		"hash", "hash/adler32", "hash/crc32", "hash/crc64", "hash/fnv", "hash/maphash",
		"html", "html/template",
		"image", "image/color", "image/color/palette", "image/draw", "image/gif", "image/jpeg", "image/png",
		"index/suffixarray", "io", "io/fs", "io/ioutil", "log", "log/slog", "log/syslog", "maps",
		"math", "math/big", "math/bits", "math/cmplx", "math/rand", "math/rand/v2",
		"mime", "mime/multipart", "mime/quotedprintable",
		"net", "net/http", "net/http/cgi", "net/http/cookiejar", "net/http/fcgi", "net/http/httptest",
		"net/http/httptrace", "net/http/httputil", "net/http/pprof", "net/mail", "net/netip",
		"net/rpc", "net/rpc/jsonrpc", "net/smtp", "net/textproto", "net/url",
		"os", "os/signal", "os/user", "path", "path/filepath", "reflect", "regexp", "regexp/syntax",
		"runtime", "runtime/debug", "runtime/metrics", "runtime/pprof", "runtime/trace",
		"slices", "sort", "strconv", "strings", "sync", "sync/atomic",
		"testing", "testing/fstest", "testing/iotest", "testing/quick", "testing/slogtest",
		"text/scanner", "text/tabwriter", "text/template", "text/template/parse",
		"time", "unicode", "unicode/utf16", "unicode/utf8",
	},
	Extra: func() map[string][]byte {
		return map[string][]byte{VersionFile: versionSource(GoMinor(runtime.Version()))}
	},
}

// Sets are the sets the generator knows, by Name.
var Sets = []*Set{&Graft, &Std}

// VersionFile is the generated file of package stdsymbols that records the
// Go release the tables come from.
const VersionFile = Prefix + "goversion.go"

// versionSource returns VersionFile's source for a Go minor version.
func versionSource(minor string) []byte {
	return []byte(`// Code generated by graft's symgen from the ` + minor + ` standard library. DO NOT EDIT.

package stdsymbols

// GoVersion is the Go release (major and minor version) whose standard
// library the tables were extracted from.
const GoVersion = "` + minor + `"
`)
}

// GoMinor returns the major and minor part of a Go version such as
// runtime.Version() gives: "go1.26" for "go1.26.8" or "go1.26rc1".
func GoMinor(v string) string {
	major, rest, _ := strings.Cut(v, ".")
	minor := rest
	for i, c := range rest {
		if c < '0' || c > '9' {
			minor = rest[:i]
			break
		}
	}
	return major + "." + minor
}

// FileName returns the name of the generated file for the package at an
// import path: "zz_nn_optim.go" for graft's nn/optim, "zz_net_http.go" for
// net/http.
func FileName(path string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(path, Module), "/")
	return Prefix + strings.ReplaceAll(rel, "/", "_") + ".go"
}

// Tables returns the generated source of every file of the set, keyed by
// file name. It must run inside graft's module (yaegi's extractor
// type-checks the packages and their dependencies from source through
// go/build); the packages are extracted GOMAXPROCS at a time, for
// linux/amd64 without cgo whatever the machine (Tables sets go/build's
// Default context so), so that every machine generates the same files.
func (s *Set) Tables() (map[string][]byte, error) {
	build.Default.GOOS, build.Default.GOARCH, build.Default.CgoEnabled = "linux", "amd64", false
	srcs := make([][]byte, len(s.Paths))
	errs := make([]error, len(s.Paths))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, path := range s.Paths {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ext := extract.Extractor{Dest: s.Dest}
			var buf bytes.Buffer
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
	out := make(map[string][]byte, len(s.Paths)+1)
	for i, path := range s.Paths {
		out[FileName(path)] = srcs[i]
	}
	if s.Extra != nil {
		for name, src := range s.Extra() {
			out[name] = src
		}
	}
	return out, nil
}

// Generate writes the set's files into dir, replacing earlier generated
// files.
func (s *Set) Generate(dir string) error {
	tables, err := s.Tables()
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

// Stale compares the set's generated files in dir with what the generator
// writes now and returns one line per difference, each saying how to fix it
// (nil when the files are up to date). It regenerates everything (seconds
// for graft's packages, minutes for the standard library).
func (s *Set) Stale(dir string) ([]string, error) {
	want, err := s.Tables()
	if err != nil {
		return nil, err
	}
	have, err := filepath.Glob(filepath.Join(dir, Prefix+"*.go"))
	if err != nil {
		return nil, err
	}
	fix := "; run go generate ./kernel/golang/" + s.Dest
	var stale []string
	for _, f := range have {
		if _, ok := want[filepath.Base(f)]; !ok {
			stale = append(stale, filepath.Base(f)+" is not generated any more"+fix)
		}
	}
	for name, src := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case err != nil:
			stale = append(stale, err.Error()+fix)
		case !bytes.Equal(got, src):
			stale = append(stale, name+" is stale"+fix)
		}
	}
	return stale, nil
}
