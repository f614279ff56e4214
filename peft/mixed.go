package peft

import (
	"fmt"
	"slices"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// BaseAdapter in a mixed batch's list of adapter names (as "" does) leaves
// that example to the base model, as PEFT's "__base__".
const BaseAdapter = "__base__"

// ForwardWithAdapters runs the model on a batch whose examples each use their
// own adapter (PEFT's mixed-batch inference, adapter_names=[...]): row i of x
// (N, in) or (N, L, in) goes through the LoRA adapter adapters[i], or through
// the base model where adapters[i] is "" or BaseAdapter. Each example's
// output equals running it alone with that adapter the only one active
// (other adapters, of any method, apply to no row). A LoRA layer that sees
// the batch flattened to (N·L, in) gives each example its L rows. The
// adapters must be LoRA adapters (LoraLayer), no adapter may be merged, and
// the model must be an nn.Layer; afterwards the model applies its active
// adapters again.
func (m *Model) ForwardWithAdapters(x *tensor.Tensor, adapters []string) (*tensor.Tensor, error) {
	if err := m.usable(); err != nil {
		return nil, err
	}
	layer, ok := m.model.(nn.Layer)
	if !ok {
		return nil, fmt.Errorf("peft: ForwardWithAdapters: the model (%T) has no Forward", m.model)
	}
	if x.Dims() < 2 {
		return nil, fmt.Errorf("peft: ForwardWithAdapters: input %s needs a batch axis and features", tensor.FormatShape(x.Shape()))
	}
	n := x.Dim(0)
	if len(adapters) != n {
		return nil, fmt.Errorf("peft: ForwardWithAdapters: %d adapter names for a batch of %d", len(adapters), n)
	}
	if m.disabled {
		return nil, fmt.Errorf("peft: ForwardWithAdapters: the adapters are disabled")
	}
	if merged := m.Merged(); len(merged) > 0 {
		return nil, fmt.Errorf("peft: ForwardWithAdapters: adapters %q are merged into the base weights: unmerge them first", merged)
	}
	var used []string
	for _, a := range adapters {
		if a == "" || a == BaseAdapter || slices.Contains(used, a) {
			continue
		}
		if _, ok := m.methods[a]; !ok {
			return nil, fmt.Errorf("peft: ForwardWithAdapters: no adapter named %q (the model has %q)", a, m.names)
		}
		used = append(used, a)
	}
	layers, err := m.loraLayers(used, "ForwardWithAdapters")
	if err != nil {
		return nil, err
	}
	// One row mask per adapter used: 1 on its rows, 0 elsewhere.
	masks := make([][]float32, len(used))
	for j, a := range used {
		masks[j] = make([]float32, n)
		for i, b := range adapters {
			if b == a {
				masks[j][i] = 1
			}
		}
	}
	for _, l := range layers {
		held := l.order
		l.weigh = func(h *tensor.Tensor) ([]string, []*tensor.Tensor) {
			// Each example owns per consecutive rows of h: 1, or L where
			// the model flattened (N, L, in) to (N·L, in).
			rows := h.Dim(0)
			if rows%n != 0 {
				panic(fmt.Sprintf("peft: ForwardWithAdapters: a LoRA layer saw input %s, not a batch of %d", tensor.FormatShape(h.Shape()), n))
			}
			per := rows / n
			// (rows, 1, …, 1): broadcast over the rest of each row's output.
			shape := []int{rows}
			for k := 1; k < h.Dims(); k++ {
				shape = append(shape, 1)
			}
			var names []string
			var ws []*tensor.Tensor
			for j, a := range used {
				if !slices.Contains(held, a) {
					continue
				}
				w := make([]float32, rows)
				for r := range w {
					w[r] = masks[j][r/per]
				}
				names = append(names, a)
				ws = append(ws, tensor.New(w, shape...))
			}
			return names, ws
		}
	}
	defer func() {
		for _, l := range layers {
			l.weigh = nil
		}
	}()
	defer m.offOtherTuners()()
	return layer.Forward(x), nil
}

// offOtherTuners switches off the adapters of every Tuner that is not a
// LoraLayer (they hold none of the adapters a mixed batch or X-LoRA weighs,
// so that running an example with only those active leaves them out) and
// returns the function that switches them back on.
func (m *Model) offOtherTuners() func() {
	var off []Tuner
	_ = m.eachTuner(func(_ string, t Tuner) error {
		if _, ok := t.(*LoraLayer); !ok {
			t.SetEnabled(false)
			off = append(off, t)
		}
		return nil
	})
	return func() {
		for _, t := range off {
			t.SetEnabled(true)
		}
	}
}

// loraLayers returns the model's LoRA layers, after checking that each of
// the named adapters is a LoRA adapter held only by LoraLayers and merged
// nowhere; what names the caller in errors.
func (m *Model) loraLayers(adapters []string, what string) ([]*LoraLayer, error) {
	var out []*LoraLayer
	err := m.eachTuner(func(mod string, t Tuner) error {
		l, ok := t.(*LoraLayer)
		for _, a := range adapters {
			if !slices.Contains(t.AdapterNames(), a) {
				continue
			}
			if !ok {
				return fmt.Errorf("peft: %s: adapter %q on module %q is not a LoRA adapter (%T)", what, a, mod, t)
			}
			if slices.Contains(l.merged, a) {
				return fmt.Errorf("peft: %s: adapter %q is merged into %q: unmerge it first", what, a, mod)
			}
		}
		if ok {
			out = append(out, l)
		}
		return nil
	})
	return out, err
}
