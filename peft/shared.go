package peft

import (
	"slices"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// SharedKeyPrefix prefixes the saved keys of tensors an adapter shares across
// all the modules it adapts (PEFT's "base_model.vera_A"), in place of
// KeyPrefix and a module name.
const SharedKeyPrefix = "base_model."

// sharedBinder is implemented by methods whose adapters share state across
// the modules they adapt (VeRA's random projections, Tied-LoRA's A and B):
// before any module is prepared, Model.plan hands the method every target and
// uses the method it returns — the configuration bound to the shared state,
// sized for all targets — to prepare each of them. Nothing changes until the
// plans are applied.
type sharedBinder interface {
	bindShared(targets []nn.NamedModule, adapter string) (Method, error)
}

// sharedHolder is implemented by Tuners that reference tensors shared by
// every module an adapter adapts; sharedTensors names them relative to
// SharedKeyPrefix ("vera_A"). The same tensor is returned by every layer of
// the adapter; saving and loading take it once.
type sharedHolder interface {
	sharedTensors(adapter string) []nn.NamedTensor
}

// sharedEntries returns the adapter's shared tensors over all tuners, each
// name once.
func sharedEntries(tuners []nn.NamedModule, adapter string) []nn.NamedTensor {
	var out []nn.NamedTensor
	for _, nm := range tuners {
		h, ok := nm.Module.(sharedHolder)
		if !ok {
			continue
		}
		for _, nt := range h.sharedTensors(adapter) {
			if !slices.ContainsFunc(out, func(o nn.NamedTensor) bool { return o.Name == nt.Name }) {
				out = append(out, nt)
			}
		}
	}
	return out
}

// largestAffine returns the largest input and output widths over the targets
// (PEFT's _find_dim for VeRA), checking that each is an affine layer (or a
// Tuner wrapping one).
func largestAffine(targets []nn.NamedModule) (in, out int, err error) {
	for _, t := range targets {
		layer := t.Module
		if tu, ok := layer.(Tuner); ok {
			layer = tu.BaseLayer()
		}
		l, ok := layer.(nn.Layer)
		if !ok {
			continue
		}
		aff, err := affineOf(t.Name, l)
		if err != nil {
			return 0, 0, err
		}
		in, out = max(in, aff.in), max(out, aff.out)
	}
	return in, out, nil
}

// adapterSet is the bookkeeping every Tuner of this package needs: the
// adapters in the order added, the active ones, the merged ones, and whether
// adapters are switched off.
type adapterSet struct {
	order    []string
	active   []string
	merged   []string
	disabled bool
}

// applied lists the active adapters that are not merged, in activation
// order, or none when adapters are switched off.
func (s *adapterSet) applied() []string {
	if s.disabled {
		return nil
	}
	var out []string
	for _, n := range s.active {
		if !slices.Contains(s.merged, n) {
			out = append(out, n)
		}
	}
	return out
}

// setActive activates the named adapters held and calls train with each
// held adapter and whether it is now active.
func (s *adapterSet) setActive(names []string, train func(adapter string, on bool)) {
	s.active = s.active[:0]
	for _, n := range s.order {
		on := slices.Contains(names, n)
		if on {
			s.active = append(s.active, n)
		}
		train(n, on)
	}
}

// remove forgets an adapter; it reports whether any remain.
func (s *adapterSet) remove(name string) bool {
	drop := func(n string) bool { return n == name }
	s.order = slices.DeleteFunc(s.order, drop)
	s.active = slices.DeleteFunc(s.active, drop)
	return len(s.order) > 0
}

// AdapterNames lists the adapters in the order added.
func (s *adapterSet) AdapterNames() []string { return slices.Clone(s.order) }

// SetEnabled switches the adapters on or off.
func (s *adapterSet) SetEnabled(on bool) { s.disabled = !on }

// MergedAdapters lists the merged adapters.
func (s *adapterSet) MergedAdapters() []string { return slices.Clone(s.merged) }

// toMerge returns the named adapters that are held and not merged yet.
func (s *adapterSet) toMerge(names []string) []string {
	var out []string
	for _, n := range names {
		if slices.Contains(s.order, n) && !slices.Contains(s.merged, n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// setTrainable switches gradients on or off for the given tensors.
func setTrainable(on bool, ts ...*tensor.Tensor) {
	for _, t := range ts {
		t.SetRequiresGrad(on)
	}
}

// bindShared looks up the targets and binds the method to its shared state.
func bindShared(model nn.Module, names []string, b sharedBinder, adapter string) (Method, error) {
	var targets []nn.NamedModule
	for _, name := range names {
		mod, err := nn.Get(model, name)
		if err != nil {
			return nil, err
		}
		targets = append(targets, nn.NamedModule{Name: name, Module: mod})
	}
	return b.bindShared(targets, adapter)
}
