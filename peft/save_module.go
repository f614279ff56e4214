package peft

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// adapterOfParam returns the adapter that owns a wrapper's parameter named
// "<kind>.<adapter>.…", or "" for the parameters of the wrapped layer (under
// base).
func adapterOfParam(param, base string) string {
	if param == base || strings.HasPrefix(param, base+".") {
		return ""
	}
	parts := strings.SplitN(param, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// ModulesToSave wraps a module that an adapter trains whole (PEFT's
// modules_to_save, such as a classifier head): the original stays frozen
// under original_module and each adapter trains its own copy under
// modules_to_save.<adapter>; Forward uses the first active adapter's copy.
type ModulesToSave struct {
	Original nn.Layer            `nn:"original_module"`
	Copies   map[string]nn.Layer `nn:"modules_to_save"`

	order    []string
	active   string
	disabled bool
}

// Forward applies the active adapter's copy, or the original.
func (m *ModulesToSave) Forward(x *tensor.Tensor) *tensor.Tensor {
	if c := m.Copies[m.active]; c != nil && !m.disabled {
		return c.Forward(x)
	}
	return m.Original.Forward(x)
}

// AdapterName implements nn.Adapter.
func (m *ModulesToSave) AdapterName(param string) string {
	return adapterOfParam(param, "original_module")
}

// BaseLayer returns the original module.
func (m *ModulesToSave) BaseLayer() nn.Layer { return m.Original }

// AdapterNames lists the adapters holding a copy.
func (m *ModulesToSave) AdapterNames() []string { return slices.Clone(m.order) }

// SetActive uses the first named adapter holding a copy, whose parameters
// become trainable; the other copies are frozen.
func (m *ModulesToSave) SetActive(names []string) {
	m.active = ""
	for _, n := range names {
		if m.Copies[n] != nil {
			m.active = n
			break
		}
	}
	for n, c := range m.Copies {
		for _, p := range nn.Parameters(c) {
			p.SetRequiresGrad(n == m.active)
		}
	}
}

// SetEnabled switches between the active copy (on) and the original.
func (m *ModulesToSave) SetEnabled(on bool) { m.disabled = !on }

// DeleteAdapter drops the adapter's copy; it reports whether copies remain.
func (m *ModulesToSave) DeleteAdapter(name string) bool {
	delete(m.Copies, name)
	m.order = slices.DeleteFunc(m.order, func(n string) bool { return n == name })
	if m.active == name {
		m.active = ""
	}
	return len(m.order) > 0
}

// Merge does nothing: a saved module has no update to fold in.
func (m *ModulesToSave) Merge([]string) error { return nil }

// Unmerge does nothing.
func (m *ModulesToSave) Unmerge() error { return nil }

// MergedAdapters returns nil.
func (m *ModulesToSave) MergedAdapters() []string { return nil }

// Unwrap returns the active copy (trainable), or the original when no
// adapter is active, as PEFT's unload does.
func (m *ModulesToSave) Unwrap(bool) (nn.Layer, error) {
	if c := m.Copies[m.active]; c != nil {
		return c, nil
	}
	return m.Original, nil
}

// AdapterTensors returns the copy's parameters under the original module's
// names ("weight", "bias").
func (m *ModulesToSave) AdapterTensors(adapter string) []nn.NamedTensor {
	if c := m.Copies[adapter]; c != nil {
		return nn.NamedParameters(c)
	}
	return nil
}

// prepareSaved checks that the module called name can get a trainable copy
// for adapter and returns the plan that makes one.
func prepareSaved(name string, current nn.Module, adapter string) (*Plan, error) {
	existing, _ := current.(*ModulesToSave)
	if t, ok := current.(Tuner); ok && existing == nil {
		return nil, fmt.Errorf("peft: module %q to save whole is already adapted by %T", name, t)
	}
	var orig nn.Layer
	if existing != nil {
		if existing.Copies[adapter] != nil {
			return nil, fmt.Errorf("peft: module %q already holds a copy for adapter %q", name, adapter)
		}
		orig = existing.Original
	} else {
		l, ok := current.(nn.Layer)
		if !ok {
			return nil, fmt.Errorf("peft: module %q to save whole is a %T, not a layer", name, current)
		}
		orig = l
	}
	shapes := map[string][]int{}
	for _, p := range nn.NamedParameters(orig) {
		shapes[p.Name] = p.Tensor.Shape()
	}
	return &Plan{Shapes: shapes, Apply: func() nn.Layer {
		m := existing
		if m == nil {
			m = &ModulesToSave{Original: orig, Copies: map[string]nn.Layer{}}
		}
		c := cloneModule(orig).(nn.Layer)
		nn.Unfreeze(c)
		m.Copies[adapter] = c
		m.order = append(m.order, adapter)
		return m
	}}, nil
}

// cloneModule returns a deep copy of a module: every struct pointer, slice
// and map on the way to a tensor is copied and every tensor cloned (detached,
// same requires-grad); other pointers (random sources) are shared.
func cloneModule(m nn.Module) nn.Module {
	return cloneValue(reflect.ValueOf(m)).Interface()
}

var tensorPtr = reflect.TypeFor[*tensor.Tensor]()

func cloneValue(v reflect.Value) reflect.Value {
	switch {
	case !v.IsValid():
		return v
	case v.Type() == tensorPtr:
		if v.IsNil() {
			return v
		}
		t := v.Interface().(*tensor.Tensor)
		c := t.Detach().Clone()
		c.SetRequiresGrad(t.RequiresGrad())
		return reflect.ValueOf(c)
	case v.Kind() == reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(cloneValue(v.Elem()))
		return out
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(v.Elem())
		st := v.Type().Elem()
		for i := 0; i < st.NumField(); i++ {
			if st.Field(i).IsExported() {
				f := out.Elem().Field(i)
				f.Set(cloneValue(f))
			}
		}
		return out
	case v.Kind() == reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(cloneValue(v.Index(i)))
		}
		return out
	case v.Kind() == reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for _, k := range v.MapKeys() {
			out.SetMapIndex(k, cloneValue(v.MapIndex(k)))
		}
		return out
	}
	return v
}
