package notebooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// This file runs a tutorial notebook's Go cells headless until graft's kernel
// (and `graft run`) exists: cells that are only declarations go to the top
// level, the other cells run in order inside main, a trailing bare expression
// is printed (as the kernel would display it), and the packages a cell uses are
// imported for it. The program is compiled and run with the go command.

// notebook is the part of nbformat 4 the harness reads and validates.
type notebook struct {
	NBFormat      int             `json:"nbformat"`
	NBFormatMinor int             `json:"nbformat_minor"`
	Metadata      json.RawMessage `json:"metadata"`
	Cells         []cell          `json:"cells"`
}

type cell struct {
	ID             string          `json:"id"`
	CellType       string          `json:"cell_type"`
	Source         json.RawMessage `json:"source"`
	Metadata       json.RawMessage `json:"metadata"`
	Outputs        json.RawMessage `json:"outputs,omitempty"`
	ExecutionCount json.RawMessage `json:"execution_count,omitempty"`
}

// text joins a cell's source, which nbformat allows as a string or a list of lines.
func (c cell) text() (string, error) {
	var s string
	if err := json.Unmarshal(c.Source, &s); err == nil {
		return s, nil
	}
	var lines []string
	if err := json.Unmarshal(c.Source, &lines); err != nil {
		return "", fmt.Errorf("cell source is neither a string nor a list of strings")
	}
	return strings.Join(lines, ""), nil
}

// readNotebook parses and checks the nbformat 4 structure Jupyter requires.
func readNotebook(path string) (*notebook, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var nb notebook
	if err := json.Unmarshal(raw, &nb); err != nil {
		return nil, fmt.Errorf("%s: not JSON: %w", path, err)
	}
	if nb.NBFormat != 4 {
		return nil, fmt.Errorf("%s: nbformat %d, want 4", path, nb.NBFormat)
	}
	var meta struct {
		Kernelspec struct {
			Name, DisplayName, Language string
		} `json:"kernelspec"`
		LanguageInfo struct {
			Name string `json:"name"`
		} `json:"language_info"`
	}
	if err := json.Unmarshal(nb.Metadata, &meta); err != nil {
		return nil, fmt.Errorf("%s: metadata: %w", path, err)
	}
	if meta.Kernelspec.Name != "graft" || meta.LanguageInfo.Name != "go" {
		return nil, fmt.Errorf("%s: kernelspec %q / language %q, want graft / go", path, meta.Kernelspec.Name, meta.LanguageInfo.Name)
	}
	for i, c := range nb.Cells {
		if _, err := c.text(); err != nil {
			return nil, fmt.Errorf("%s: cell %d: %w", path, i, err)
		}
		if len(c.Metadata) == 0 {
			return nil, fmt.Errorf("%s: cell %d has no metadata object", path, i)
		}
		switch c.CellType {
		case "code":
			if len(c.Outputs) == 0 || len(c.ExecutionCount) == 0 {
				return nil, fmt.Errorf("%s: code cell %d needs outputs and execution_count", path, i)
			}
		case "markdown", "raw":
		default:
			return nil, fmt.Errorf("%s: cell %d has type %q", path, i, c.CellType)
		}
	}
	return &nb, nil
}

// knownImports maps a package name used in cells to its import path.
var knownImports = map[string]string{
	"fmt": "fmt", "math": "math", "strings": "strings", "time": "time", "context": "context",
	"os": "os", "sort": "sort", "errors": "errors", "rand": "math/rand/v2",
	"tensor": "github.com/graftml/graft/tensor", "gemm": "github.com/graftml/graft/tensor/gemm",
	"nn": "github.com/graftml/graft/nn", "optim": "github.com/graftml/graft/nn/optim",
	"train": "github.com/graftml/graft/nn/train", "safetensors": "github.com/graftml/graft/safetensors",
}

var selectorRE = regexp.MustCompile(`\b([a-z][a-z0-9]*)\.[A-Z]`)

// program turns the code cells into one Go program.
func program(nb *notebook) (string, error) {
	var decls, body []string
	used := map[string]bool{"fmt": true} // trailing expressions are printed with fmt
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		src, _ := c.text()
		for _, m := range selectorRE.FindAllStringSubmatch(src, -1) {
			if _, ok := knownImports[m[1]]; ok {
				used[m[1]] = true
			}
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "", "package main\n"+src, 0); err == nil {
			decls = append(decls, fmt.Sprintf("// cell %d\n%s", i, src))
			continue
		}
		stmts, err := displayLast(src)
		if err != nil {
			return "", fmt.Errorf("cell %d: %w", i, err)
		}
		body = append(body, fmt.Sprintf("\t// cell %d\n%s", i, stmts))
	}
	var names []string
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t%s %q\n", n, knownImports[n])
	}
	b.WriteString(")\n\nvar _ = fmt.Sprint\n\n")
	b.WriteString(strings.Join(decls, "\n\n"))
	b.WriteString("\n\nfunc main() {\n")
	b.WriteString(strings.Join(body, "\n"))
	b.WriteString("\n}\n")
	return b.String(), nil
}

// displayLast returns the cell's statements with a trailing bare expression
// (not a call) wrapped in fmt.Println, as the kernel displays it.
func displayLast(src string) (string, error) {
	const head = "package main\nfunc _() {\n"
	wrapped := head + src + "\n}"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", wrapped, 0)
	if err != nil {
		return "", err
	}
	list := f.Decls[0].(*ast.FuncDecl).Body.List
	if len(list) == 0 {
		return src, nil
	}
	last, ok := list[len(list)-1].(*ast.ExprStmt)
	if !ok {
		return src, nil
	}
	if _, isCall := last.X.(*ast.CallExpr); isCall {
		return src, nil
	}
	pos, end := fset.Position(last.Pos()).Offset-len(head), fset.Position(last.End()).Offset-len(head)
	return src[:pos] + "fmt.Println(" + src[pos:end] + ")" + src[end:], nil
}

// runNotebook executes the notebook's program and returns its output.
func runNotebook(t *testing.T, path string) string {
	t.Helper()
	nb, err := readNotebook(path)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := program(nb)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	dir, err := os.MkdirTemp(".", ".nbrun-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "main.go")
	if err := os.WriteFile(file, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool(), "run", "./"+file)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s failed: %v\n--- output ---\n%s\n--- program ---\n%s", path, err, out.String(), numbered(prog))
	}
	return out.String()
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

func numbered(s string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = fmt.Sprintf("%4d  %s", i+1, lines[i])
	}
	return strings.Join(lines, "\n")
}
