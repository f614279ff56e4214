package notebook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"

	"github.com/graftml/graft/display"
)

// ErrNoStdin is what a cell gets when it asks for input during Run.
var ErrNoStdin = errors.New("stdin not available in graft run")

// recorder is the kernel.Output of the cells of one Run. It stores outputs
// as nbclient stores the messages a kernel publishes:
//
//   - consecutive stream outputs of one name merge into one;
//   - Clear(false) empties the cell's outputs at once, Clear(true) when the
//     next output arrives;
//   - an output with a display id first replaces the data and metadata of
//     every output already shown with that id, in any cell; an update is
//     stored nowhere else, a new display is then appended as well.
//
// Calls after the cell has finished (from goroutines it left running) are
// dropped, as Jupyter drops output that arrives after the cell is idle.
type recorder struct {
	mu         sync.Mutex
	nb         *Notebook
	cellIndex  int  // index in nb.Cells of the running cell
	running    bool // false between cells
	clearNext  bool // a Clear(true) waits for the next output
	execCount  int
	displayMap map[string]map[int][]int // display id → cell index → output indices
	echo       map[string]io.Writer     // stream name → where it is copied as it arrives
}

func newRecorder(nb *Notebook, echo map[string]io.Writer) *recorder {
	return &recorder{nb: nb, displayMap: map[string]map[int][]int{}, echo: echo}
}

// start makes the recorder collect outputs for cell index i.
func (r *recorder) start(i, execCount int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cellIndex, r.execCount, r.running, r.clearNext = i, execCount, true, false
	r.nb.Cells[i].Outputs = nil
	r.forgetCell(i)
}

// stop ends collection for the running cell; later calls are dropped.
func (r *recorder) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running = false
}

func (r *recorder) cell() *Cell { return r.nb.Cells[r.cellIndex] }

// appendOutput adds o to the running cell, first doing a waiting clear.
func (r *recorder) appendOutput(o *Output, displayID string) {
	c := r.cell()
	if r.clearNext {
		c.Outputs = nil
		r.forgetCell(r.cellIndex)
		r.clearNext = false
	}
	if displayID != "" {
		m := r.displayMap[displayID]
		if m == nil {
			m = map[int][]int{}
			r.displayMap[displayID] = m
		}
		m[r.cellIndex] = append(m[r.cellIndex], len(c.Outputs))
	}
	c.Outputs = append(c.Outputs, o)
}

// forgetCell drops the display-id positions recorded for cell i.
func (r *recorder) forgetCell(i int) {
	for _, m := range r.displayMap {
		delete(m, i)
	}
}

// Stream implements kernel.Output.
func (r *recorder) Stream(name, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running || text == "" {
		return
	}
	if w := r.echo[name]; w != nil {
		io.WriteString(w, text)
	}
	c := r.cell()
	if n := len(c.Outputs); n > 0 && !r.clearNext {
		if last := c.Outputs[n-1]; last.Type == StreamOutput && last.Name == name {
			last.Text += text
			return
		}
	}
	r.appendOutput(&Output{Type: StreamOutput, Name: name, Text: text}, "")
}

// Display implements kernel.Output.
func (r *recorder) Display(b display.Bundle, id string, update bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running {
		return
	}
	data, meta := BundleData(b)
	if id != "" {
		for ci, indices := range r.displayMap[id] {
			outs := r.nb.Cells[ci].Outputs
			for _, oi := range indices {
				if oi < len(outs) {
					outs[oi].Data, outs[oi].Metadata = data, meta
				}
			}
		}
	}
	if update {
		return
	}
	r.appendOutput(&Output{Type: DisplayDataOutput, Data: data, Metadata: meta}, id)
}

// Result implements kernel.Output.
func (r *recorder) Result(b display.Bundle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running {
		return
	}
	data, meta := BundleData(b)
	r.appendOutput(&Output{Type: ExecuteResultOutput, Data: data, Metadata: meta, ExecutionCount: r.execCount}, "")
}

// Clear implements kernel.Output.
func (r *recorder) Clear(wait bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running {
		return
	}
	if wait {
		r.clearNext = true
		return
	}
	r.cell().Outputs = nil
	r.forgetCell(r.cellIndex)
}

// Input implements kernel.Output: a notebook run has no one to ask.
func (r *recorder) Input(prompt string, password bool) (string, error) {
	return "", ErrNoStdin
}

// addError appends the cell's error output.
func (r *recorder) addError(name, value string, traceback []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if traceback == nil {
		traceback = []string{}
	}
	r.appendOutput(&Output{Type: ErrorOutput, EName: name, EValue: value, Traceback: traceback}, "")
}

// BundleData converts a display bundle into the data and metadata of a
// notebook output, as the kernel sends them on the wire: binary values
// ([]byte, display.PNG) become base64 strings, except under text types
// (text/*, image/svg+xml, application/javascript and other +xml types), where
// they are taken as UTF-8 text; values of JSON types (application/json,
// application/*+json) stay JSON (a []byte holding JSON text is parsed); any
// other non-string value under a text type is formatted with fmt.
func BundleData(b display.Bundle) (data, metadata map[string]any) {
	data = make(map[string]any, len(b.Data))
	for mime, v := range b.Data {
		data[mime] = mimeValue(mime, v)
	}
	metadata = map[string]any{}
	for k, v := range b.Metadata {
		if g, err := toGeneric(v); err == nil {
			metadata[k] = g
		} else {
			metadata[k] = fmt.Sprint(v)
		}
	}
	return data, metadata
}

func mimeValue(mime string, v any) any {
	raw, isBytes := asBytes(v)
	if isJSONMIME(mime) {
		if isBytes {
			if g, err := decodeGeneric(raw); err == nil {
				return g
			}
			return string(raw)
		}
		if g, err := toGeneric(v); err == nil {
			return g
		}
		return fmt.Sprint(v)
	}
	textual := splitMIME(mime) || strings.HasSuffix(mime, "+xml")
	switch {
	case isBytes && textual:
		return string(raw)
	case isBytes:
		return base64.StdEncoding.EncodeToString(raw)
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// asBytes returns v's bytes when v is a byte slice of any named type.
func asBytes(v any) ([]byte, bool) {
	if b, ok := v.([]byte); ok {
		return b, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
		return rv.Bytes(), true
	}
	return nil, false
}
