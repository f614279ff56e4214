// Package notebook reads, writes, executes and renders Jupyter notebooks
// (nbformat 4). Reading accepts what Jupyter and other tools write (sources as
// one string or a list of lines, older 4.x minors, unknown metadata, which is
// kept); writing produces nbformat 4.5 exactly as Jupyter stores it (one-space
// indent, sorted keys, multi-line strings split into lines, a unique id on
// every cell), so a notebook saved here and re-saved by Jupyter is unchanged.
// Run executes the code cells through a kernel.Language in-process and
// records their outputs as nbclient would; WriteHTML renders a notebook as a
// self-contained HTML page.
package notebook

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Cell types.
const (
	CodeCell     = "code"
	MarkdownCell = "markdown"
	RawCell      = "raw"
)

// Output types, as output_type names them.
const (
	StreamOutput        = "stream"
	DisplayDataOutput   = "display_data"
	ExecuteResultOutput = "execute_result"
	ErrorOutput         = "error"
)

// WriteMinor is the nbformat minor version Marshal writes (at least).
const WriteMinor = 5

// Notebook is an nbformat 4 document.
type Notebook struct {
	// Format and FormatMinor are the nbformat version read (4 and 0–5);
	// Marshal writes 4.5 or the minor read if it is newer.
	Format, FormatMinor int
	// Metadata is the notebook metadata (kernelspec, language_info and
	// anything else), kept as read: JSON objects as map[string]any, numbers
	// as json.Number.
	Metadata map[string]any
	Cells    []*Cell
}

// Cell is one notebook cell.
type Cell struct {
	// ID is the cell id (nbformat 4.5); Marshal gives a cell without a valid,
	// unique id a new one.
	ID string
	// Type is CodeCell, MarkdownCell or RawCell.
	Type string
	// Source is the cell's text, lines joined.
	Source string
	// Metadata is the cell metadata, kept as read.
	Metadata map[string]any
	// Attachments holds a markdown or raw cell's attachments (name → MIME
	// bundle), kept as read; nil when it has none.
	Attachments map[string]any
	// ExecutionCount is the code cell's In[n]; 0 means not executed (null).
	ExecutionCount int
	// Outputs are a code cell's outputs.
	Outputs []*Output
}

// Output is one output of a code cell.
type Output struct {
	// Type is StreamOutput, DisplayDataOutput, ExecuteResultOutput or
	// ErrorOutput.
	Type string
	// Name ("stdout" or "stderr") and Text are a stream's.
	Name, Text string
	// Data is a display_data or execute_result bundle: MIME type → value.
	// Text types hold a string (lines joined), binary types a base64 string,
	// JSON types (application/json, application/*+json) the JSON value.
	Data map[string]any
	// Metadata is the bundle's metadata (for example image sizes).
	Metadata map[string]any
	// ExecutionCount is an execute_result's Out[n]; 0 means null.
	ExecutionCount int
	// EName, EValue and Traceback are an error's.
	EName, EValue string
	Traceback     []string
}

// New returns an empty nbformat 4.5 notebook.
func New() *Notebook {
	return &Notebook{Format: 4, FormatMinor: WriteMinor, Metadata: map[string]any{}}
}

// ReadFile reads and parses the notebook at path.
func ReadFile(path string) (*Notebook, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	nb, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return nb, nil
}

// Parse parses an nbformat 4 notebook. Cells without a valid id, or with an
// id an earlier cell already has, get a new one (as nbformat does when it
// upgrades a notebook to 4.5).
func Parse(raw []byte) (*Notebook, error) {
	g, err := decodeGeneric(raw)
	if err != nil {
		return nil, fmt.Errorf("not a notebook: invalid JSON: %w", err)
	}
	top, ok := g.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a notebook: the JSON is %s, not an object", jsonKind(g))
	}
	major, err := intField(top, "nbformat", "notebook")
	if err != nil {
		return nil, err
	}
	if major != 4 {
		return nil, fmt.Errorf("nbformat %d is not supported, only 4 (convert it with `jupyter nbconvert --to notebook`)", major)
	}
	minor, err := intField(top, "nbformat_minor", "notebook")
	if err != nil {
		return nil, err
	}
	nb := &Notebook{Format: 4, FormatMinor: minor}
	if nb.Metadata, err = objectField(top, "metadata", "notebook"); err != nil {
		return nil, err
	}
	rawCells, ok := top["cells"].([]any)
	if !ok {
		return nil, fmt.Errorf("notebook: \"cells\" is %s, want a list", jsonKind(top["cells"]))
	}
	for i, rc := range rawCells {
		c, err := parseCell(rc)
		if err != nil {
			return nil, fmt.Errorf("cell %d: %w", i+1, err)
		}
		nb.Cells = append(nb.Cells, c)
	}
	nb.EnsureIDs()
	return nb, nil
}

func parseCell(rc any) (*Cell, error) {
	m, ok := rc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("is %s, want an object", jsonKind(rc))
	}
	c := &Cell{}
	c.Type, ok = m["cell_type"].(string)
	if !ok {
		return nil, fmt.Errorf("\"cell_type\" is %s, want a string", jsonKind(m["cell_type"]))
	}
	switch c.Type {
	case CodeCell, MarkdownCell, RawCell:
	default:
		return nil, fmt.Errorf("unknown cell_type %q (want code, markdown or raw)", c.Type)
	}
	c.ID, _ = m["id"].(string)
	var err error
	if c.Source, err = multiline(m["source"], "source"); err != nil {
		return nil, err
	}
	if c.Metadata, err = objectField(m, "metadata", "cell"); err != nil {
		return nil, err
	}
	if a, ok := m["attachments"].(map[string]any); ok && c.Type != CodeCell {
		c.Attachments = a
		for _, bundle := range a {
			if b, ok := bundle.(map[string]any); ok {
				rejoinBundle(b)
			}
		}
	}
	if c.Type != CodeCell {
		return c, nil
	}
	if c.ExecutionCount, err = countField(m, "cell"); err != nil {
		return nil, err
	}
	outs, _ := m["outputs"].([]any)
	for j, ro := range outs {
		o, err := parseOutput(ro)
		if err != nil {
			return nil, fmt.Errorf("output %d: %w", j+1, err)
		}
		c.Outputs = append(c.Outputs, o)
	}
	return c, nil
}

func parseOutput(ro any) (*Output, error) {
	m, ok := ro.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("is %s, want an object", jsonKind(ro))
	}
	o := &Output{}
	o.Type, _ = m["output_type"].(string)
	var err error
	switch o.Type {
	case StreamOutput:
		o.Name, _ = m["name"].(string)
		if o.Text, err = multiline(m["text"], "text"); err != nil {
			return nil, err
		}
	case DisplayDataOutput, ExecuteResultOutput:
		if o.Data, err = objectField(m, "data", "output"); err != nil {
			return nil, err
		}
		rejoinBundle(o.Data)
		if o.Metadata, err = objectField(m, "metadata", "output"); err != nil {
			return nil, err
		}
		if o.Type == ExecuteResultOutput {
			if o.ExecutionCount, err = countField(m, "execute_result"); err != nil {
				return nil, err
			}
		}
	case ErrorOutput:
		o.EName, _ = m["ename"].(string)
		o.EValue, _ = m["evalue"].(string)
		tb, _ := m["traceback"].([]any)
		for _, line := range tb {
			s, ok := line.(string)
			if !ok {
				return nil, fmt.Errorf("traceback holds %s, want strings", jsonKind(line))
			}
			o.Traceback = append(o.Traceback, s)
		}
	default:
		return nil, fmt.Errorf("unknown output_type %q", o.Type)
	}
	return o, nil
}

// multiline reads a string nbformat stores either whole or as a list of lines.
func multiline(v any, what string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case []any:
		var sb strings.Builder
		for _, line := range x {
			s, ok := line.(string)
			if !ok {
				return "", fmt.Errorf("%q holds %s, want strings", what, jsonKind(line))
			}
			sb.WriteString(s)
		}
		return sb.String(), nil
	}
	return "", fmt.Errorf("%q is %s, want a string or a list of strings", what, jsonKind(v))
}

// isJSONMIME reports whether values of this MIME type are JSON values rather
// than (possibly split) strings.
func isJSONMIME(mime string) bool {
	return mime == "application/json" ||
		strings.HasPrefix(mime, "application/") && strings.HasSuffix(mime, "+json")
}

// splitMIME reports whether nbformat writes string values of this MIME type
// as a list of lines.
func splitMIME(mime string) bool {
	return strings.HasPrefix(mime, "text/") || mime == "image/svg+xml" || mime == "application/javascript"
}

// rejoinBundle joins the lists of lines in a MIME bundle, as nbformat does
// when it reads one.
func rejoinBundle(data map[string]any) {
	for mime, v := range data {
		if isJSONMIME(mime) {
			continue
		}
		if list, ok := v.([]any); ok {
			if s, err := multiline(list, mime); err == nil {
				data[mime] = s
			}
		}
	}
}

func intField(m map[string]any, key, where string) (int, error) {
	n, ok := m[key].(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s: %q is %s, want an integer", where, key, jsonKind(m[key]))
	}
	i, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("%s: %q is %s, want an integer", where, key, n)
	}
	return int(i), nil
}

func countField(m map[string]any, where string) (int, error) {
	if m["execution_count"] == nil {
		return 0, nil
	}
	return intField(m, "execution_count", where)
}

func objectField(m map[string]any, key, where string) (map[string]any, error) {
	switch x := m[key].(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return x, nil
	}
	return nil, fmt.Errorf("%s: %q is %s, want an object", where, key, jsonKind(m[key]))
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// validID matches the cell ids nbformat 4.5 allows.
var validID = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// EnsureIDs gives every cell without a valid id, or with an id an earlier
// cell has, a new random one (eight hex digits, as nbformat makes them).
func (nb *Notebook) EnsureIDs() {
	seen := map[string]bool{}
	for _, c := range nb.Cells {
		if validID.MatchString(c.ID) && !seen[c.ID] {
			seen[c.ID] = true
		}
	}
	kept := map[string]bool{}
	for _, c := range nb.Cells {
		if validID.MatchString(c.ID) && !kept[c.ID] {
			kept[c.ID] = true
			continue
		}
		for {
			c.ID = randomID()
			if !seen[c.ID] {
				break
			}
		}
		seen[c.ID] = true
		kept[c.ID] = true
	}
}

func randomID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Marshal returns the notebook as nbformat 4.5 JSON, formatted as Jupyter
// writes it, ending in a newline. It first gives cells that lack one an id
// (see EnsureIDs).
func (nb *Notebook) Marshal() ([]byte, error) {
	if nb.Format != 0 && nb.Format != 4 {
		return nil, fmt.Errorf("notebook: cannot write nbformat %d, only 4", nb.Format)
	}
	nb.EnsureIDs()
	minor := max(nb.FormatMinor, WriteMinor)
	meta := copyObject(nb.Metadata)
	delete(meta, "orig_nbformat")
	delete(meta, "orig_nbformat_minor")
	delete(meta, "signature")
	cells := make([]any, 0, len(nb.Cells))
	for i, c := range nb.Cells {
		gc, err := c.generic()
		if err != nil {
			return nil, fmt.Errorf("notebook: cell %d: %w", i+1, err)
		}
		cells = append(cells, gc)
	}
	doc := map[string]any{
		"cells":          cells,
		"metadata":       meta,
		"nbformat":       4,
		"nbformat_minor": minor,
	}
	var buf bytes.Buffer
	if err := encodeJSON(&buf, doc, 0); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// generic returns the cell as the JSON object nbformat writes.
func (c *Cell) generic() (map[string]any, error) {
	switch c.Type {
	case CodeCell, MarkdownCell, RawCell:
	default:
		return nil, fmt.Errorf("unknown cell type %q", c.Type)
	}
	meta := copyObject(c.Metadata)
	delete(meta, "trusted")
	m := map[string]any{
		"cell_type": c.Type,
		"id":        c.ID,
		"metadata":  meta,
		"source":    lineList(c.Source),
	}
	if c.Type != CodeCell {
		if c.Attachments != nil {
			att := map[string]any{}
			for name, bundle := range c.Attachments {
				if b, ok := bundle.(map[string]any); ok {
					bundle = splitBundle(b)
				}
				att[name] = bundle
			}
			m["attachments"] = att
		}
		return m, nil
	}
	m["execution_count"] = countValue(c.ExecutionCount)
	outs := make([]any, 0, len(c.Outputs))
	for j, o := range c.Outputs {
		g, err := o.generic()
		if err != nil {
			return nil, fmt.Errorf("output %d: %w", j+1, err)
		}
		outs = append(outs, g)
	}
	m["outputs"] = outs
	return m, nil
}

// generic returns the output as the JSON object nbformat writes.
func (o *Output) generic() (map[string]any, error) {
	m := map[string]any{"output_type": o.Type}
	switch o.Type {
	case StreamOutput:
		m["name"] = o.Name
		m["text"] = lineList(o.Text)
	case DisplayDataOutput, ExecuteResultOutput:
		m["data"] = splitBundle(o.Data)
		m["metadata"] = copyObject(o.Metadata)
		if o.Type == ExecuteResultOutput {
			m["execution_count"] = countValue(o.ExecutionCount)
		}
	case ErrorOutput:
		m["ename"] = o.EName
		m["evalue"] = o.EValue
		tb := make([]any, len(o.Traceback))
		for i, line := range o.Traceback {
			tb[i] = line
		}
		m["traceback"] = tb
	default:
		return nil, fmt.Errorf("unknown output type %q", o.Type)
	}
	return m, nil
}

func lineList(s string) []any {
	lines := splitLines(s)
	out := make([]any, len(lines))
	for i, l := range lines {
		out[i] = l
	}
	return out
}

// splitBundle returns a copy of a MIME bundle with the values nbformat
// splits into lines split.
func splitBundle(data map[string]any) map[string]any {
	out := make(map[string]any, len(data))
	for mime, v := range data {
		if s, ok := v.(string); ok && splitMIME(mime) {
			out[mime] = lineList(s)
			continue
		}
		out[mime] = v
	}
	return out
}

func countValue(n int) any {
	if n <= 0 {
		return nil
	}
	return n
}

func copyObject(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// WriteFile writes the notebook to path (see Marshal), replacing the file
// only once the new content is complete, and keeping its permissions.
func (nb *Notebook) WriteFile(path string) error {
	raw, err := nb.Marshal()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, raw)
}

// writeFileAtomic writes data to a temporary file beside path and renames it
// over path, so a failure never leaves a truncated file behind.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
