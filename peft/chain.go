package peft

import (
	"fmt"
	"slices"
)

// ChainStep is one link of Chain of LoRA (COLA, Xia et al. 2024): the LoRA
// adapter's update is merged into the base weights for good (W ← W + s·B·A),
// the adapter is deleted, and a fresh adapter of the given method (nil: the
// adapter's own configuration) takes its name, with B = 0 so that the model's
// outputs are unchanged. The new adapter is active if the old one was. Its
// parameters are new tensors: build a new optimiser (or reset its state)
// over the model's trainable parameters after each step. Repeat for a chain
// of k adapters. Nothing may be merged beforehand; on error nothing changes.
func (m *Model) ChainStep(adapter string, method Method) error {
	if err := m.usable(); err != nil {
		return err
	}
	old, ok := m.methods[adapter]
	if !ok {
		return fmt.Errorf("peft: ChainStep: no adapter named %q (the model has %q)", adapter, m.names)
	}
	if method == nil {
		method = old
	}
	if merged := m.Merged(); len(merged) > 0 {
		return fmt.Errorf("peft: ChainStep: adapters %q are merged already: unmerge them first", merged)
	}
	layers, err := m.loraLayers([]string{adapter}, "ChainStep")
	if err != nil {
		return err
	}
	// Check the fresh adapter against the model under a name no adapter has
	// (plans change nothing), so that a bad method fails before the merge.
	probe := adapter + "_chain"
	for m.methods[probe] != nil {
		probe += "_"
	}
	if _, err := m.plan(probe, method); err != nil {
		return fmt.Errorf("peft: ChainStep %q: %v", adapter, err)
	}
	active := slices.Clone(m.active)
	if err := m.Merge(adapter); err != nil {
		return err
	}
	// The merged update now belongs to the base: forget that it was merged.
	for _, l := range layers {
		l.merged = slices.DeleteFunc(l.merged, func(n string) bool { return n == adapter })
		delete(l.doraNorms, adapter)
	}
	if err := m.DeleteAdapter(adapter); err != nil {
		return err
	}
	if err := m.add(adapter, method, false, nil); err != nil {
		return err
	}
	m.applyActive(active)
	return nil
}
