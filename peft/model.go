package peft

import (
	"fmt"
	"slices"
	"strings"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// DefaultAdapter is the name PEFT gives the first adapter.
const DefaultAdapter = "default"

// Model is a model adapted by peft: the user's model, changed in place
// (target modules replaced by Tuners, base weights frozen), with the
// configurations of its named adapters and which of them are active.
type Model struct {
	model    nn.Module
	names    []string // adapters in the order added
	methods  map[string]Method
	active   []string
	disabled bool
}

// Inject adapts model with a first adapter of the given method (PEFT's
// get_peft_model): every parameter of model is frozen, each target module is
// replaced by a wrapper holding the adapter's trainable parameters, and the
// adapter becomes active. adapter "" means "default". Everything is checked
// before anything changes: on error model is exactly as it was.
func Inject(model nn.Module, adapter string, method Method) (*Model, error) {
	m := &Model{model: model, methods: map[string]Method{}}
	if err := m.add(adapter, method, true, nil); err != nil {
		return nil, err
	}
	return m, nil
}

// AddAdapter adds another adapter of the given method, inactive (as PEFT's
// add_adapter); SetActive switches to it. On error nothing changes.
func (m *Model) AddAdapter(name string, method Method) error {
	if err := m.usable(); err != nil {
		return err
	}
	return m.add(name, method, false, nil)
}

// usable reports an error once the model has been unloaded.
func (m *Model) usable() error {
	if m.model == nil {
		return fmt.Errorf("peft: the model has been unloaded")
	}
	return nil
}

// plannedModule is one module's checked change.
type plannedModule struct {
	name  string
	plan  *Plan
	saved bool // a module saved whole (modules_to_save)
}

// plan checks an adapter against the model and returns the changes it makes.
func (m *Model) plan(adapter string, method Method) ([]plannedModule, error) {
	if adapter == "" {
		return nil, fmt.Errorf("peft: an adapter needs a name")
	}
	if strings.Contains(adapter, ".") {
		return nil, fmt.Errorf("peft: adapter name %q must not contain a dot", adapter)
	}
	if _, ok := m.methods[adapter]; ok {
		return nil, fmt.Errorf("peft: the model already has an adapter named %q", adapter)
	}
	if err := method.Validate(); err != nil {
		return nil, err
	}
	names, err := method.Targets().resolve(m.model)
	if err != nil {
		return nil, err
	}
	if b, ok := method.(sharedBinder); ok {
		if method, err = bindShared(m.model, names, b, adapter); err != nil {
			return nil, err
		}
	}
	var out []plannedModule
	for i, name := range names {
		mod, err := nn.Get(m.model, name)
		if err != nil {
			return nil, err
		}
		layer, ok := mod.(nn.Layer)
		if !ok {
			return nil, fmt.Errorf("peft: module %q is a %T, not a layer an adapter can wrap", name, mod)
		}
		p, err := method.Prepare(name, layer, adapter, i)
		if err != nil {
			return nil, err
		}
		if err := m.canWrap(name, layer); err != nil {
			return nil, err
		}
		out = append(out, plannedModule{name: name, plan: p})
	}
	saved := method.SavedModules()
	if len(saved) > 0 {
		matched := map[string]bool{}
		for _, c := range candidates(m.model) {
			for _, k := range saved {
				if !matchSuffix(c.name, k) {
					continue
				}
				matched[k] = true
				for _, o := range out {
					if o.name == c.name {
						return nil, fmt.Errorf("peft: module %q is both a target and a module to save", c.name)
					}
				}
				p, err := prepareSaved(c.name, c.owner, adapter)
				if err != nil {
					return nil, err
				}
				if err := m.canWrap(c.name, c.owner); err != nil {
					return nil, err
				}
				out = append(out, plannedModule{name: c.name, plan: p, saved: true})
			}
		}
		var all []string
		for _, c := range candidates(m.model) {
			all = append(all, c.name)
		}
		for _, k := range saved {
			if !matched[k] {
				return nil, fmt.Errorf("peft: module to save %q matches no module name%s", k, nearMisses(k, all))
			}
		}
	}
	return out, nil
}

// probe is a stand-in wrapper: canWrap checks that a module's slot can hold
// one.
type probe struct{}

func (*probe) Forward(x *tensor.Tensor) *tensor.Tensor { return x }

// canWrap checks that the slot holding the module called name (current) can
// hold a wrapper, by putting a stand-in there and current back.
func (m *Model) canWrap(name string, current nn.Module) error {
	if _, ok := current.(Tuner); ok {
		return nil
	}
	if err := nn.Replace(m.model, name, &probe{}); err != nil {
		return fmt.Errorf("peft: module %q cannot be wrapped: %v", name, err)
	}
	if err := nn.Replace(m.model, name, current); err != nil {
		panic(fmt.Sprintf("peft: putting %q back: %v", name, err))
	}
	return nil
}

// add plans and applies an adapter; check, if not nil, vets the plan first.
func (m *Model) add(adapter string, method Method, activate bool, check func([]plannedModule) error) error {
	if adapter == "" {
		adapter = DefaultAdapter
	}
	planned, err := m.plan(adapter, method)
	if err != nil {
		return err
	}
	if check != nil {
		if err := check(planned); err != nil {
			return err
		}
	}
	if len(m.names) == 0 {
		nn.Freeze(m.model)
	}
	for _, p := range planned {
		layer := p.plan.Apply()
		cur, _ := nn.Get(m.model, p.name)
		if cur != nn.Module(layer) {
			if err := nn.Replace(m.model, p.name, layer); err != nil {
				// Checked by Prepare's callers only in part: a field that
				// cannot hold a wrapper is a model written without nn.Layer
				// fields, a programmer error.
				panic(fmt.Sprintf("peft: %v", err))
			}
		}
	}
	m.names = append(m.names, adapter)
	m.methods[adapter] = method
	active := m.active
	if activate || len(active) == 0 {
		active = []string{adapter}
	}
	m.applyActive(active)
	return nil
}

// Tuners returns the model's wrapped modules by name, in model order.
func (m *Model) Tuners() []nn.NamedModule {
	if m.model == nil {
		return nil
	}
	var out []nn.NamedModule
	for _, c := range candidates(m.model) {
		if _, ok := c.owner.(Tuner); ok {
			out = append(out, nn.NamedModule{Name: c.name, Module: c.owner})
		}
	}
	return out
}

func (m *Model) eachTuner(f func(name string, t Tuner) error) error {
	for _, nm := range m.Tuners() {
		if err := f(nm.Name, nm.Module.(Tuner)); err != nil {
			return err
		}
	}
	return nil
}

func (m *Model) applyActive(names []string) {
	m.active = slices.Clone(names)
	_ = m.eachTuner(func(_ string, t Tuner) error { t.SetActive(m.active); return nil })
}

// Module returns the adapted model (the one given to Inject, changed in place).
func (m *Model) Module() nn.Module { return m.model }

// Adapters lists the adapters' names in the order they were added.
func (m *Model) Adapters() []string { return slices.Clone(m.names) }

// Active lists the active adapters.
func (m *Model) Active() []string { return slices.Clone(m.active) }

// Method returns the configuration of the named adapter (nil if none).
func (m *Model) Method(adapter string) Method { return m.methods[adapter] }

// SetActive makes the named adapters the ones the model applies (their
// outputs add up), their parameters trainable and every other adapter's
// frozen.
func (m *Model) SetActive(names ...string) error {
	if err := m.usable(); err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("peft: SetActive needs at least one adapter (use Disable to switch them all off)")
	}
	for _, n := range names {
		if _, ok := m.methods[n]; !ok {
			return fmt.Errorf("peft: no adapter named %q (the model has %q)", n, m.names)
		}
	}
	m.applyActive(names)
	return nil
}

// Disable switches every adapter off until Enable: the model computes as the
// base model. Merged adapters are unmerged first, as PEFT does.
func (m *Model) Disable() error {
	if err := m.Unmerge(); err != nil {
		return err
	}
	m.disabled = true
	return m.eachTuner(func(_ string, t Tuner) error { t.SetEnabled(false); return nil })
}

// Enable switches the active adapters back on after Disable.
func (m *Model) Enable() {
	m.disabled = false
	_ = m.eachTuner(func(_ string, t Tuner) error { t.SetEnabled(true); return nil })
}

// WithDisabled runs f with the adapters switched off (computing the base
// model's outputs) and switches them back on afterwards, even if f panics.
func (m *Model) WithDisabled(f func()) error {
	if err := m.Disable(); err != nil {
		return err
	}
	defer m.Enable()
	f()
	return nil
}

// DeleteAdapter removes an adapter and its parameters; wrappers left with no
// adapter are replaced by their base layers. A merged adapter must be
// unmerged first. Deleting an active adapter leaves the others active, or the
// first remaining one.
func (m *Model) DeleteAdapter(name string) error {
	if err := m.usable(); err != nil {
		return err
	}
	if _, ok := m.methods[name]; !ok {
		return fmt.Errorf("peft: no adapter named %q (the model has %q)", name, m.names)
	}
	if err := m.eachTuner(func(mod string, t Tuner) error {
		if slices.Contains(t.MergedAdapters(), name) {
			return fmt.Errorf("peft: adapter %q is merged into %q: unmerge it before deleting it", name, mod)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, nm := range m.Tuners() {
		t := nm.Module.(Tuner)
		if !slices.Contains(t.AdapterNames(), name) {
			continue
		}
		if !t.DeleteAdapter(name) {
			l, err := t.Unwrap(false)
			if err != nil {
				return err
			}
			if err := nn.Replace(m.model, nm.Name, l); err != nil {
				return err
			}
		}
	}
	delete(m.methods, name)
	m.names = slices.DeleteFunc(m.names, func(n string) bool { return n == name })
	active := slices.DeleteFunc(slices.Clone(m.active), func(n string) bool { return n == name })
	if len(active) == 0 && len(m.names) > 0 {
		active = m.names[:1]
	}
	m.applyActive(active)
	return nil
}

// Merge folds the named adapters (default: the active ones) into the base
// weights; the model's outputs stay the same while its forward pass no
// longer computes them separately.
func (m *Model) Merge(names ...string) error {
	if err := m.usable(); err != nil {
		return err
	}
	if len(names) == 0 {
		names = m.active
	}
	for _, n := range names {
		if _, ok := m.methods[n]; !ok {
			return fmt.Errorf("peft: no adapter named %q (the model has %q)", n, m.names)
		}
	}
	if err := m.sameBase(append(m.Merged(), names...)); err != nil {
		return err
	}
	return m.eachTuner(func(mod string, t Tuner) error {
		if err := t.Merge(names); err != nil {
			return fmt.Errorf("peft: merge into %q: %v", mod, err)
		}
		return nil
	})
}

// Unmerge takes every merged adapter back out of the base weights.
func (m *Model) Unmerge() error {
	if err := m.usable(); err != nil {
		return err
	}
	return m.eachTuner(func(mod string, t Tuner) error {
		if err := t.Unmerge(); err != nil {
			return fmt.Errorf("peft: unmerge from %q: %v", mod, err)
		}
		return nil
	})
}

// Merged lists the adapters merged into some module's base weights.
func (m *Model) Merged() []string {
	var out []string
	_ = m.eachTuner(func(_ string, t Tuner) error {
		for _, n := range t.MergedAdapters() {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return nil
	})
	return out
}

// MergeAndUnload merges the active adapters into the base weights and puts
// the base layers back in place of the wrappers, returning the plain model
// (PEFT's merge_and_unload). Modules saved whole keep the active adapter's
// copy. The Model cannot be used afterwards.
func (m *Model) MergeAndUnload() (nn.Module, error) { return m.unload(true) }

// Unload puts the base layers back without merging (PEFT's unload): the
// model computes as before adaptation, apart from modules saved whole, which
// keep the active adapter's copy. The Model cannot be used afterwards.
func (m *Model) Unload() (nn.Module, error) { return m.unload(false) }

func (m *Model) unload(merge bool) (nn.Module, error) {
	if err := m.usable(); err != nil {
		return nil, err
	}
	if !merge {
		if err := m.Unmerge(); err != nil {
			return nil, err
		}
	}
	if err := m.eachTuner(func(name string, t Tuner) error {
		l, err := t.Unwrap(merge)
		if err != nil {
			return err
		}
		return nn.Replace(m.model, name, l)
	}); err != nil {
		return nil, err
	}
	model := m.model
	m.model = nil
	return model, nil
}

// Summary describes the adapted model's parameters (see nn.Summary): which
// adapter each belongs to, and the totals PEFT prints.
func (m *Model) Summary() *nn.ModelSummary { return nn.Summary(m.model) }

// TrainableLine returns the line PEFT's print_trainable_parameters prints:
// "trainable params: N || all params: M || trainable%: P".
func (m *Model) TrainableLine() string { return m.Summary().TrainableLine() }

// String describes the model: its adapters and the trainable-parameter line.
func (m *Model) String() string {
	if m.model == nil {
		return "peft.Model (unloaded)"
	}
	return fmt.Sprintf("peft.Model %T adapters %q active %q: %s", m.model, m.names, m.active, m.TrainableLine())
}

// Display shows the parameter table with the adapter column in a notebook.
func (m *Model) Display() display.Bundle { return m.Summary().Display() }
