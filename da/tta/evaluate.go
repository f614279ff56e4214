package tta

import (
	"fmt"
	"strings"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz"
	"github.com/graftml/graft/viz/table"
)

// Method is a test-time adaptation method bound to its own copy of a source
// model.
type Method interface {
	// Name names the method in tables and legends.
	Name() string
	// Adapt adapts on the batch x and returns its logits (or
	// log-probabilities) after adapting, (N, classes). It returns an error
	// for an empty batch or one the method cannot use.
	Adapt(x *tensor.Tensor) (*tensor.Tensor, error)
	// Reset returns the method to the source model's state.
	Reset() error
}

// Mode says whether a method keeps what it learnt from one batch to the next.
type Mode int

const (
	// Continual keeps adapting across the whole stream.
	Continual Mode = iota
	// Episodic resets the method to the source model before every batch.
	Episodic
)

// String returns "continual" or "episodic".
func (m Mode) String() string {
	if m == Episodic {
		return "episodic"
	}
	return "continual"
}

// Result is one method's accuracy over one stream.
type Result struct {
	// Method is the method's name and Mode how it ran.
	Method string
	Mode   Mode
	// Corruptions and Accuracy give the accuracy on each corruption's
	// examples, in stream order.
	Corruptions []string
	Accuracy    []float64
	// Mean is the mean of Accuracy over the corruptions.
	Mean float64
	// BatchAccuracy is the accuracy on each batch, in stream order, and
	// BatchCorruption its corruption.
	BatchAccuracy   []float64
	BatchCorruption []string
}

// Label is the method's name with its mode, e.g. "Tent (continual)".
func (r *Result) Label() string { return fmt.Sprintf("%s (%s)", r.Method, r.Mode) }

// AccuracyOn returns the accuracy on the named corruption, or an error
// naming the corruptions there are.
func (r *Result) AccuracyOn(corruption string) (float64, error) {
	for i, c := range r.Corruptions {
		if c == corruption {
			return r.Accuracy[i], nil
		}
	}
	return 0, fmt.Errorf("tta: no corruption %q in %s's result (there are %q)", corruption, r.Label(), r.Corruptions)
}

// Evaluate resets m and runs it over the stream in the given mode, scoring
// the predictions of each batch against its labels.
func Evaluate(m Method, s *Stream, mode Mode) (*Result, error) {
	if m == nil || s == nil || len(s.Batches) == 0 {
		return nil, fmt.Errorf("tta.Evaluate: need a method and a non-empty stream")
	}
	if err := m.Reset(); err != nil {
		return nil, err
	}
	r := &Result{Method: m.Name(), Mode: mode, Corruptions: append([]string(nil), s.Corruptions...)}
	correct := make([]int, len(s.Corruptions))
	total := make([]int, len(s.Corruptions))
	pos := map[string]int{}
	for i, c := range s.Corruptions {
		pos[c] = i
	}
	for bi, b := range s.Batches {
		if mode == Episodic && bi > 0 {
			if err := m.Reset(); err != nil {
				return nil, err
			}
		}
		logits, err := m.Adapt(b.X)
		if err != nil {
			return nil, fmt.Errorf("tta.Evaluate: %s, batch %d (%s): %w", m.Name(), bi, b.Corruption, err)
		}
		if logits.Dims() != 2 || logits.Dim(0) != len(b.Labels) {
			return nil, fmt.Errorf("tta.Evaluate: %s returned %s for a batch of %d", m.Name(), tensor.FormatShape(logits.Shape()), len(b.Labels))
		}
		ok := 0
		for i, p := range logits.Argmax(1).Ints() {
			if p == b.Labels[i] {
				ok++
			}
		}
		ci := pos[b.Corruption]
		correct[ci] += ok
		total[ci] += len(b.Labels)
		r.BatchAccuracy = append(r.BatchAccuracy, float64(ok)/float64(len(b.Labels)))
		r.BatchCorruption = append(r.BatchCorruption, b.Corruption)
	}
	for i := range correct {
		r.Accuracy = append(r.Accuracy, float64(correct[i])/float64(max(total[i], 1)))
		r.Mean += r.Accuracy[len(r.Accuracy)-1] / float64(len(correct))
	}
	return r, nil
}

// Report compares the results of methods on one stream. It shows itself as
// a table of accuracy per corruption (rows method and mode, a mean column)
// and the curves of accuracy along the stream.
type Report struct {
	// Title heads the table and the figure.
	Title   string
	Results []*Result
}

// Compare evaluates every method in every mode on the stream (both modes
// when none is given).
func Compare(s *Stream, modes []Mode, methods ...Method) (*Report, error) {
	if len(modes) == 0 {
		modes = []Mode{Episodic, Continual}
	}
	r := &Report{Title: "test-time adaptation on " + s.Name}
	for _, mode := range modes {
		for _, m := range methods {
			res, err := Evaluate(m, s, mode)
			if err != nil {
				return nil, err
			}
			r.Results = append(r.Results, res)
		}
	}
	return r, nil
}

// Add appends a result.
func (r *Report) Add(res *Result) { r.Results = append(r.Results, res) }

// Find returns the result of the method in the mode, or nil.
func (r *Report) Find(method string, mode Mode) *Result {
	for _, res := range r.Results {
		if res.Method == method && res.Mode == mode {
			return res
		}
	}
	return nil
}

// Table returns the accuracies (in %) as a table: a row per result, a
// column per corruption of the first result, and the mean.
func (r *Report) Table() *table.Table {
	var corr []string
	if len(r.Results) > 0 {
		corr = r.Results[0].Corruptions
	}
	t := table.New(append(append([]string{"method", "mode"}, corr...), "mean")...)
	t.Caption = r.Title + " — accuracy %"
	t.Digits = 3
	for _, res := range r.Results {
		cells := []any{res.Method, res.Mode.String()}
		for _, c := range corr {
			if a, err := res.AccuracyOn(c); err == nil {
				cells = append(cells, 100*a)
			} else {
				cells = append(cells, "")
			}
		}
		_ = t.AddRow(append(cells, 100*res.Mean)...)
	}
	return t
}

// Figure draws each result's accuracy along the stream, one point per batch
// (smoothed), with a panel per mode when the report holds both.
func (r *Report) Figure() (*viz.Figure, error) {
	var segs []string
	if len(r.Results) > 0 {
		segs = r.Results[0].Corruptions
	}
	var modes []Mode
	byMode := map[Mode][]viz.Series{}
	for _, res := range r.Results {
		y := make([]float64, len(res.BatchAccuracy))
		for i, a := range res.BatchAccuracy {
			y[i] = 100 * a
		}
		if _, ok := byMode[res.Mode]; !ok {
			modes = append(modes, res.Mode)
		}
		byMode[res.Mode] = append(byMode[res.Mode], viz.Series{Name: res.Method, Y: y})
	}
	var figs []*viz.Figure
	for _, mode := range modes {
		f, err := viz.Lines(byMode[mode], viz.LineOptions{Smooth: 0.6, Options: viz.Options{
			Title: fmt.Sprintf("%s (%s): %s", r.Title, mode, strings.Join(segs, " → ")), XLabel: "batch", YLabel: "accuracy %",
			Width: 8, Height: 4, YMin: 0, YMax: 100, Legend: "bottom-left"}})
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	if len(figs) == 1 {
		return figs[0], nil
	}
	return viz.Grid(1, figs...)
}

// String returns the table as text.
func (r *Report) String() string { return r.Table().String() }

// Display shows the table and, below it, the accuracy curves.
func (r *Report) Display() display.Bundle {
	t := r.Table()
	f, err := r.Figure()
	return viz.TableBundle(t.String(), t.HTML(), f, err)
}
