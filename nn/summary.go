package nn

import (
	"fmt"
	"strings"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz/table"
)

// Adapter is implemented by modules that a parameter-efficient fine-tuning
// method adds to a model (a LoRA update, a bottleneck adapter, a soft prompt).
// Summary attributes each parameter to the nearest module above it that
// implements Adapter, and asks that module which adapter, if any, owns it.
type Adapter interface {
	// AdapterName returns the name of the adapter that owns the parameter
	// named param (a dotted name relative to this module, such as
	// "lora_a.default.weight"), or "" when the parameter is no adapter's,
	// as the weight of the base layer that a LoRA module wraps.
	AdapterName(param string) string
}

// ParamInfo describes one parameter tensor of a model.
type ParamInfo struct {
	Name      string // dotted name, as NamedParameters gives it
	Module    string // dotted name of the module whose field holds it ("" for the root)
	Shape     []int
	Size      int    // number of values
	Trainable bool   // whether it requires gradients
	Adapter   string // the adapter it belongs to, "" for none
}

// ModuleCount is the number of parameter values under one module, and how
// many of them are trainable.
type ModuleCount struct {
	Name      string // dotted module name ("" for the root's own parameters)
	Total     int
	Trainable int
}

// ModelSummary lists a model's parameters with their shapes, sizes, whether
// they are trainable and which adapter they belong to, with totals. It shows
// as an HTML table with a text fallback; the caption gives the totals as
// Hugging Face PEFT's print_trainable_parameters does.
type ModelSummary struct {
	Params    []ParamInfo // in the order NamedParameters lists them
	Total     int         // number of parameter values
	Trainable int         // number of trainable parameter values
}

// Summary describes the parameters of m (buffers are left out). Each tensor
// is listed once, under its first name, as in NamedParameters.
func Summary(m Module) *ModelSummary {
	type frame struct {
		name string
		mod  Module
	}
	var stack []frame // the modules enclosing the item being visited, root first
	encloses := func(module, name string) bool { return module == "" || strings.HasPrefix(name, module+".") }
	unwind := func(name string) {
		for len(stack) > 0 && !encloses(stack[len(stack)-1].name, name) {
			stack = stack[:len(stack)-1]
		}
	}
	s := &ModelSummary{}
	walk(m, visitor{
		module: func(name string, mod Module, _ Module, _ slot) bool {
			unwind(name)
			stack = append(stack, frame{name, mod})
			return true
		},
		tensor: func(name string, t *tensor.Tensor, buffer bool) {
			if buffer {
				return
			}
			unwind(name)
			p := ParamInfo{Name: name, Module: stack[len(stack)-1].name, Shape: t.Shape(), Size: t.Len(), Trainable: t.RequiresGrad()}
			for i := len(stack) - 1; i >= 0; i-- {
				if a, ok := stack[i].mod.(Adapter); ok {
					rel := name
					if stack[i].name != "" {
						rel = strings.TrimPrefix(name, stack[i].name+".")
					}
					p.Adapter = a.AdapterName(rel)
					break
				}
			}
			s.Params = append(s.Params, p)
			s.Total += p.Size
			if p.Trainable {
				s.Trainable += p.Size
			}
		},
	})
	return s
}

// TrainablePercent returns the share of parameter values that are trainable,
// in percent (0 for a model without parameters).
func (s *ModelSummary) TrainablePercent() float64 {
	if s.Total == 0 {
		return 0
	}
	return 100 * float64(s.Trainable) / float64(s.Total)
}

// Modules counts parameter values per module: with depth d ≥ 1 each
// parameter counts for the module its holder's name starts with, cut to d
// dotted parts (depth 1: the root's direct children, "" for the root's own
// parameters); with depth 0 or less, for the module that holds it. Modules
// come in the order their first parameter does; modules without parameters
// are left out.
func (s *ModelSummary) Modules(depth int) []ModuleCount {
	var out []ModuleCount
	index := map[string]int{}
	for _, p := range s.Params {
		name := p.Module
		if depth > 0 {
			if parts := strings.Split(name, "."); len(parts) > depth {
				name = strings.Join(parts[:depth], ".")
			}
		}
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, ModuleCount{Name: name})
		}
		out[i].Total += p.Size
		if p.Trainable {
			out[i].Trainable += p.Size
		}
	}
	return out
}

// TrainableLine returns the totals as Hugging Face PEFT's
// print_trainable_parameters prints them:
// "trainable params: N || all params: M || trainable%: P".
func (s *ModelSummary) TrainableLine() string {
	return fmt.Sprintf("trainable params: %s || all params: %s || trainable%%: %.4f",
		table.GroupDigits(s.Trainable), table.GroupDigits(s.Total), s.TrainablePercent())
}

// Table returns the summary as a table with one row per parameter (name,
// shape, params, trainable, and adapter when the model has any), the totals in
// the caption and footer; change it (MaxRows, Caption) before showing it.
func (s *ModelSummary) Table() *table.Table {
	hasAdapter := false
	for _, p := range s.Params {
		hasAdapter = hasAdapter || p.Adapter != ""
	}
	cols := []string{"name", "shape", "params", "trainable"}
	if hasAdapter {
		cols = append(cols, "adapter")
	}
	t := table.New(cols...)
	t.Thousands = true
	t.Caption = s.TrainableLine()
	for _, p := range s.Params {
		row := []any{p.Name, tensor.FormatShape(p.Shape), p.Size, yesNo(p.Trainable)}
		if hasAdapter {
			row = append(row, p.Adapter)
		}
		_ = t.AddRow(row...) // one cell per column by construction
	}
	footer := []any{"total", "", s.Total, s.Trainable}
	if hasAdapter {
		footer = append(footer, "")
	}
	_ = t.SetFooter(footer...)
	return t
}

// ModuleTable returns the per-module counts of Modules(depth) as a table
// (module, params, trainable, frozen) with totals.
func (s *ModelSummary) ModuleTable(depth int) *table.Table {
	t := table.New("module", "params", "trainable", "frozen")
	t.Thousands = true
	t.Caption = s.TrainableLine()
	for _, mc := range s.Modules(depth) {
		name := mc.Name
		if name == "" {
			name = "(root)"
		}
		_ = t.AddRow(name, mc.Total, mc.Trainable, mc.Total-mc.Trainable)
	}
	_ = t.SetFooter("total", s.Total, s.Trainable, s.Total-s.Trainable)
	return t
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Display implements display.Displayer: the parameter table as HTML with a
// text/plain fallback.
func (s *ModelSummary) Display() display.Bundle { return s.Table().Display() }

// String returns the parameter table as plain text.
func (s *ModelSummary) String() string { return s.Table().String() }
