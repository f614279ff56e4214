// Package nn builds neural networks on graft's tensor engine: modules with
// named parameters, layers, initialisers and losses.
//
// A module is any pointer to a struct. Its exported fields are discovered by
// reflection: a *tensor.Tensor field is a parameter (or a buffer, with the tag
// `nn:",buffer"`), a field holding another module (a struct pointer or an
// interface such as Layer) is a sub-module, and slices, arrays and
// string-keyed maps of these are numbered or keyed children. Names are the
// field names in snake_case ("QProj" → "q_proj"), or the tag's name
// (`nn:"in_proj_weight"`); `nn:"-"` hides a field, and `nn:",inline"` puts a
// slice's or embedded struct's children directly under the parent (as PyTorch's
// Sequential does). Parameter names are therefore the dotted paths PyTorch
// state dicts and safetensors files use, e.g. "encoder.layers.0.self_attn.q_proj.weight".
package nn

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/graftml/graft/tensor"
)

// Module is anything with parameters and sub-modules: a pointer to a struct
// whose exported fields hold them (see the package documentation).
type Module = any

// Layer is a module with a single-input forward pass.
type Layer interface {
	Forward(x *tensor.Tensor) *tensor.Tensor
}

// Trainer is implemented by modules that behave differently in training and
// evaluation (Dropout, BatchNorm); Train and Eval call it on every module.
type Trainer interface {
	SetTraining(training bool)
}

// NamedTensor is a parameter or buffer with its dotted name.
type NamedTensor struct {
	Name   string
	Tensor *tensor.Tensor
}

// NamedModule is a module with its dotted name ("" for the root).
type NamedModule struct {
	Name   string
	Module Module
}

var tensorType = reflect.TypeFor[*tensor.Tensor]()
var rngType = reflect.TypeFor[*tensor.RNG]()

// fieldTag holds the parsed `nn:"name,opts"` tag.
type fieldTag struct {
	name   string
	skip   bool
	buffer bool
	inline bool
}

func parseTag(f reflect.StructField) fieldTag {
	tag, ok := f.Tag.Lookup("nn")
	ft := fieldTag{name: SnakeCase(f.Name)}
	if !ok {
		return ft
	}
	if tag == "-" {
		ft.skip = true
		return ft
	}
	parts := strings.Split(tag, ",")
	if parts[0] != "" {
		ft.name = parts[0]
	}
	for _, opt := range parts[1:] {
		switch opt {
		case "buffer":
			ft.buffer = true
		case "inline":
			ft.inline = true
		}
	}
	return ft
}

// SnakeCase converts a Go field name to the snake_case name graft uses for it
// ("QProj" → "q_proj", "FC1" → "fc1", "LayerNorm1" → "layer_norm1").
func SnakeCase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			nextLower := i > 0 && i+1 < len(rs) && unicode.IsUpper(rs[i-1]) && unicode.IsLower(rs[i+1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// slot is one place a child can live: a struct field, slice/array element or
// map entry of its parent, addressable so it can be replaced.
type slot struct {
	name  string
	value reflect.Value // the field/element value (settable for fields and elements)
	mapV  reflect.Value // for map entries: the map
	key   reflect.Value // for map entries: the key
}

// visitor receives the items found by walk.
type visitor struct {
	tensor func(name string, t *tensor.Tensor, buffer bool)
	module func(name string, m Module, parent Module, s slot) bool // false: don't descend
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	if name == "" {
		return prefix
	}
	return prefix + "." + name
}

// moduleKey identifies a module instance for de-duplication.
type moduleKey struct {
	ptr uintptr
	typ reflect.Type
}

// walk visits m and everything below it in field order. Each module is visited
// once (shared modules and tied parameters appear under their first name).
func walk(m Module, v visitor) {
	seenModules := map[moduleKey]bool{}
	seenTensors := map[*tensor.Tensor]bool{}
	var visitModule func(prefix string, rv reflect.Value, parent Module, s slot)
	var visitValue func(prefix string, rv reflect.Value, buffer bool, parent Module, s slot)

	visitValue = func(name string, rv reflect.Value, buffer bool, parent Module, s slot) {
		if rv.Kind() == reflect.Interface {
			if rv.IsNil() {
				return
			}
			rv = rv.Elem()
		}
		switch {
		case rv.Type() == tensorType:
			t := rv.Interface().(*tensor.Tensor)
			if t != nil && !seenTensors[t] {
				seenTensors[t] = true
				if v.tensor != nil {
					v.tensor(name, t, buffer)
				}
			}
		case rv.Type() == rngType:
		case rv.Kind() == reflect.Pointer && rv.Type().Elem().Kind() == reflect.Struct:
			if !rv.IsNil() {
				visitModule(name, rv, parent, s)
			}
		case rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array:
			for i := 0; i < rv.Len(); i++ {
				el := rv.Index(i)
				visitValue(join(name, strconv.Itoa(i)), el, buffer, parent, slot{name: strconv.Itoa(i), value: el})
			}
		case rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String:
			keys := rv.MapKeys()
			sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
			for _, k := range keys {
				visitValue(join(name, k.String()), rv.MapIndex(k), buffer, parent, slot{name: k.String(), mapV: rv, key: k})
			}
		}
	}

	visitModule = func(prefix string, rv reflect.Value, parent Module, s slot) {
		// Zero-size structs may share one address, so only sized ones are de-duplicated.
		if rv.Type().Elem().Size() > 0 {
			key := moduleKey{rv.Pointer(), rv.Type()}
			if seenModules[key] {
				return
			}
			seenModules[key] = true
		}
		mod := rv.Interface()
		if v.module != nil && !v.module(prefix, mod, parent, s) {
			return
		}
		visitFields(prefix, rv.Elem(), mod, visitValue)
	}

	rv := reflect.ValueOf(m)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("nn: a module must be a pointer to a struct, got %T", m))
	}
	visitModule("", rv, nil, slot{})
}

// visitFields calls visit for each exported, untagged-out field of the struct
// value sv, flattening embedded and inline fields into prefix.
func visitFields(prefix string, sv reflect.Value, mod Module, visit func(string, reflect.Value, bool, Module, slot)) {
	st := sv.Type()
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := parseTag(f)
		if tag.skip {
			continue
		}
		fv := sv.Field(i)
		if f.Anonymous || tag.inline {
			inner := fv
			if inner.Kind() == reflect.Pointer && !inner.IsNil() && inner.Elem().Kind() == reflect.Struct && inner.Type() != tensorType {
				inner = inner.Elem()
			}
			if inner.Kind() == reflect.Struct {
				visitFields(prefix, inner, mod, visit)
				continue
			}
			if inner.Kind() == reflect.Slice || inner.Kind() == reflect.Array {
				for j := 0; j < inner.Len(); j++ {
					el := inner.Index(j)
					visit(join(prefix, strconv.Itoa(j)), el, tag.buffer, mod, slot{name: strconv.Itoa(j), value: el})
				}
				continue
			}
		}
		visit(join(prefix, tag.name), fv, tag.buffer, mod, slot{name: tag.name, value: fv})
	}
}

// NamedParameters lists the module's parameters (trainable or frozen) with
// their dotted names, in field order, each tensor once.
func NamedParameters(m Module) []NamedTensor {
	var out []NamedTensor
	walk(m, visitor{tensor: func(name string, t *tensor.Tensor, buffer bool) {
		if !buffer {
			out = append(out, NamedTensor{name, t})
		}
	}})
	return out
}

// Parameters lists the module's parameters (trainable or frozen).
func Parameters(m Module) []*tensor.Tensor {
	var out []*tensor.Tensor
	for _, p := range NamedParameters(m) {
		out = append(out, p.Tensor)
	}
	return out
}

// TrainableParameters lists the parameters that require gradients.
func TrainableParameters(m Module) []*tensor.Tensor {
	var out []*tensor.Tensor
	for _, p := range NamedParameters(m) {
		if p.Tensor.RequiresGrad() {
			out = append(out, p.Tensor)
		}
	}
	return out
}

// NamedBuffers lists the module's buffers (state that is saved but not
// trained, such as batch-norm running statistics).
func NamedBuffers(m Module) []NamedTensor {
	var out []NamedTensor
	walk(m, visitor{tensor: func(name string, t *tensor.Tensor, buffer bool) {
		if buffer {
			out = append(out, NamedTensor{name, t})
		}
	}})
	return out
}

// StateDict lists parameters and buffers by name, in the order PyTorch would
// (field order, parameters and buffers interleaved as declared). The tensors
// are the module's own: copy them if they must not change.
func StateDict(m Module) []NamedTensor {
	var out []NamedTensor
	walk(m, visitor{tensor: func(name string, t *tensor.Tensor, _ bool) {
		out = append(out, NamedTensor{name, t})
	}})
	return out
}

// Modules lists m and all its sub-modules with dotted names (the root is "").
func Modules(m Module) []NamedModule {
	var out []NamedModule
	walk(m, visitor{module: func(name string, mod Module, _ Module, _ slot) bool {
		out = append(out, NamedModule{name, mod})
		return true
	}})
	return out
}

// Children lists the direct sub-modules of m with their local names.
func Children(m Module) []NamedModule {
	var out []NamedModule
	walk(m, visitor{module: func(name string, mod Module, parent Module, _ slot) bool {
		if name == "" {
			return true
		}
		out = append(out, NamedModule{name, mod})
		return false
	}})
	return out
}

// moduleNames lists every module name (for error messages).
func moduleNames(m Module) []string {
	var names []string
	for _, nm := range Modules(m) {
		if nm.Name != "" {
			names = append(names, nm.Name)
		}
	}
	return names
}

// Get returns the sub-module with the given dotted name ("" is m itself).
func Get(m Module, name string) (Module, error) {
	var found Module
	walk(m, visitor{module: func(n string, mod Module, _ Module, _ slot) bool {
		if n == name {
			found = mod
		}
		return found == nil && (n == "" || strings.HasPrefix(name, n+"."))
	}})
	if found == nil {
		return nil, fmt.Errorf("nn: no module named %q%s", name, suggest(name, moduleNames(m)))
	}
	return found, nil
}

// Replace swaps the sub-module with the given dotted name for replacement,
// writing it into the parent's field, slice element or map entry. The field's
// type must be able to hold the replacement (declare it as an interface such as
// Layer to allow wrapping).
func Replace(m Module, name string, replacement Module) error {
	if name == "" {
		return fmt.Errorf("nn: cannot replace the root module")
	}
	var target slot
	var parent Module
	found := false
	walk(m, visitor{module: func(n string, mod Module, p Module, s slot) bool {
		if n == name && !found {
			found, target, parent = true, s, p
		}
		return !found && (n == "" || strings.HasPrefix(name, n+"."))
	}})
	if !found {
		return fmt.Errorf("nn: replace: no module named %q%s", name, suggest(name, moduleNames(m)))
	}
	rv := reflect.ValueOf(replacement)
	if target.mapV.IsValid() {
		if !rv.Type().AssignableTo(target.mapV.Type().Elem()) {
			return fmt.Errorf("nn: replace %q: the map of %T holds %s, which cannot hold %T", name, parent, target.mapV.Type().Elem(), replacement)
		}
		target.mapV.SetMapIndex(target.key, rv)
		return nil
	}
	if !target.value.CanSet() {
		return fmt.Errorf("nn: replace %q: the field of %T holding it cannot be set", name, parent)
	}
	if !rv.Type().AssignableTo(target.value.Type()) {
		return fmt.Errorf("nn: replace %q: the field of %T has type %s, which cannot hold %T; declare it as an interface such as nn.Layer", name, parent, target.value.Type(), replacement)
	}
	target.value.Set(rv)
	return nil
}

// suggest returns "; closest names: …" with the names nearest to name.
func suggest(name string, names []string) string {
	if len(names) == 0 {
		return " (the module has no sub-modules)"
	}
	return "; closest names: " + quoteAll(ClosestNames(name, names, 3))
}

// quoteAll joins the names quoted, separated by commas.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// ClosestNames returns up to n of candidates nearest to name by edit
// (Levenshtein) distance, nearest first, ties in candidates' order, each
// name once: the "did you mean" of error messages about module names.
func ClosestNames(name string, candidates []string, n int) []string {
	type scored struct {
		name string
		d    int
	}
	seen := map[string]bool{}
	var s []scored
	for _, c := range candidates {
		if !seen[c] {
			seen[c] = true
			s = append(s, scored{c, editDistance(name, c)})
		}
	}
	sort.SliceStable(s, func(i, j int) bool { return s[i].d < s[j].d })
	out := make([]string, 0, min(n, len(s)))
	for i := 0; i < len(s) && i < n; i++ {
		out = append(out, s[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Freeze stops gradients for every parameter of m.
func Freeze(m Module) { setRequiresGrad(m, false) }

// Unfreeze makes every parameter of m trainable.
func Unfreeze(m Module) { setRequiresGrad(m, true) }

func setRequiresGrad(m Module, on bool) {
	for _, p := range Parameters(m) {
		p.SetRequiresGrad(on)
	}
}

// ZeroGrad zeroes the gradients of every parameter of m.
func ZeroGrad(m Module) {
	for _, p := range Parameters(m) {
		p.ZeroGrad()
	}
}

// CountParameters returns the number of parameter values in m and how many of
// them are trainable.
func CountParameters(m Module) (total, trainable int) {
	for _, p := range Parameters(m) {
		total += p.Len()
		if p.RequiresGrad() {
			trainable += p.Len()
		}
	}
	return total, trainable
}

// Train puts m and its sub-modules in training mode.
func Train(m Module) { setTraining(m, true) }

// Eval puts m and its sub-modules in evaluation mode.
func Eval(m Module) { setTraining(m, false) }

func setTraining(m Module, on bool) {
	for _, nm := range Modules(m) {
		if t, ok := nm.Module.(Trainer); ok {
			t.SetTraining(on)
		}
	}
}

// LoadStateDict copies the given tensors into m's parameters and buffers of
// the same names. With strict, every name of m must be given and every given
// name must exist; either way shapes must match. It checks everything before
// copying anything, so on error m is unchanged.
func LoadStateDict(m Module, entries []NamedTensor, strict bool) error {
	own := map[string]*tensor.Tensor{}
	var order []string
	for _, nt := range StateDict(m) {
		own[nt.Name] = nt.Tensor
		order = append(order, nt.Name)
	}
	given := map[string]bool{}
	var unexpected, mismatched []string
	for _, e := range entries {
		given[e.Name] = true
		t, ok := own[e.Name]
		if !ok {
			unexpected = append(unexpected, e.Name)
			continue
		}
		if !tensor.SameShape(t, e.Tensor) {
			mismatched = append(mismatched, fmt.Sprintf("%s: checkpoint %s, model %s", e.Name, tensor.FormatShape(e.Tensor.Shape()), tensor.FormatShape(t.Shape())))
		}
	}
	var missing []string
	for _, n := range order {
		if !given[n] {
			missing = append(missing, n)
		}
	}
	var problems []string
	if len(mismatched) > 0 {
		problems = append(problems, "shape mismatch for "+strings.Join(mismatched, "; "))
	}
	if strict && len(missing) > 0 {
		problems = append(problems, "missing "+strings.Join(missing, ", "))
	}
	if strict && len(unexpected) > 0 {
		problems = append(problems, "unexpected "+strings.Join(unexpected, ", "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("nn: load state dict: %s", strings.Join(problems, "; "))
	}
	for _, e := range entries {
		if t, ok := own[e.Name]; ok {
			t.CopyFrom(e.Tensor)
		}
	}
	return nil
}
