package peft

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/graftml/graft/nn"
)

// AllLinear is the target that selects every affine layer (Linear, Conv1D)
// of a model except its output head, as PEFT's "all-linear".
const AllLinear = "all-linear"

// headNames are the last name components of output heads, which "all-linear"
// leaves out (PEFT leaves out the model's output embedding layer).
var headNames = map[string]bool{"lm_head": true, "classifier": true, "score": true, "head": true, "output_layer": true}

// Target says which modules a method adapts, in PEFT's target_modules
// conventions. Exactly one of Modules and Regex is set.
type Target struct {
	// Modules are names matched exactly or as a dotted suffix ("c_attn"
	// matches "h.0.attn.c_attn"); the single entry "all-linear" selects every
	// affine layer but the output head.
	Modules []string
	// Regex is matched against the whole dotted module name (PEFT's string
	// form of target_modules); "all-linear" is accepted here too.
	Regex string
}

// allLinear reports whether the target is "all-linear".
func (t Target) allLinear() bool {
	return t.Regex == AllLinear || (len(t.Modules) == 1 && t.Modules[0] == AllLinear)
}

// validate checks the target's form and compiles its regular expression.
func (t Target) compile() (*regexp.Regexp, error) {
	switch {
	case t.allLinear():
		return nil, nil
	case t.Regex != "" && len(t.Modules) > 0:
		return nil, fmt.Errorf("peft: give target modules as a list or as a regular expression, not both (%q and %q)", t.Modules, t.Regex)
	case t.Regex != "":
		re, err := regexp.Compile(`^(?:` + t.Regex + `)$`)
		if err != nil {
			return nil, fmt.Errorf("peft: target regular expression %q: %v", t.Regex, err)
		}
		return re, nil
	case len(t.Modules) == 0:
		return nil, fmt.Errorf("peft: no target modules given")
	}
	for _, m := range t.Modules {
		if m == "" || m == AllLinear {
			return nil, fmt.Errorf("peft: target module list %q: %q must be the only entry or is empty", t.Modules, m)
		}
	}
	return nil, nil
}

// matchSuffix reports whether name equals key or ends in "."+key.
func matchSuffix(name, key string) bool {
	return name == key || strings.HasSuffix(name, "."+key)
}

// candidate is a module that a target may select: not the root, not inside a
// Tuner (a wrapper's base layer is the wrapper's business).
type candidate struct {
	name  string
	layer nn.Layer // nil when the module is not a Layer
	owner nn.Module
}

// candidates lists the model's modules that targets are matched against.
func candidates(model nn.Module) []candidate {
	var out []candidate
	var wrappers []string
	for _, nm := range nn.Modules(model) {
		if nm.Name == "" {
			continue
		}
		inside := false
		for _, w := range wrappers {
			if strings.HasPrefix(nm.Name, w+".") {
				inside = true
			}
		}
		if inside {
			continue
		}
		if _, ok := nm.Module.(Tuner); ok {
			wrappers = append(wrappers, nm.Name)
		}
		if _, ok := nm.Module.(*ModulesToSave); ok {
			wrappers = append(wrappers, nm.Name)
		}
		l, _ := nm.Module.(nn.Layer)
		out = append(out, candidate{nm.Name, l, nm.Module})
	}
	return out
}

// isAffine reports whether a module is an affine layer or a Tuner wrapping one.
func isAffine(m nn.Module) bool {
	if t, ok := m.(Tuner); ok {
		m = t.BaseLayer()
	}
	l, ok := m.(nn.Layer)
	if !ok {
		return false
	}
	_, err := affineOf("", l)
	return err == nil
}

// resolve returns the names of the modules the target selects, in model
// order. A target (or list entry) that selects nothing is an error listing the
// closest module names.
func (t Target) resolve(model nn.Module) ([]string, error) {
	re, err := t.compile()
	if err != nil {
		return nil, err
	}
	cs := candidates(model)
	var names []string
	used := map[string]bool{}
	for _, c := range cs {
		last := c.name[strings.LastIndex(c.name, ".")+1:]
		ok := false
		switch {
		case t.allLinear():
			ok = isAffine(c.owner) && !headNames[last]
		case re != nil:
			ok = re.MatchString(c.name)
		default:
			for _, k := range t.Modules {
				if matchSuffix(c.name, k) {
					ok = true
					used[k] = true
				}
			}
		}
		if ok {
			names = append(names, c.name)
		}
	}
	var all []string
	for _, c := range cs {
		all = append(all, c.name)
	}
	switch {
	case t.allLinear() && len(names) == 0:
		return nil, fmt.Errorf("peft: target %q matches no module: the model has no Linear or Conv1D layer besides its output head", AllLinear)
	case re != nil && len(names) == 0:
		return nil, fmt.Errorf("peft: target regular expression %q matches no module name%s", t.Regex, nearMisses(t.Regex, all))
	case re == nil && !t.allLinear():
		for _, k := range t.Modules {
			if !used[k] {
				return nil, fmt.Errorf("peft: target module %q matches no module name%s", k, nearMisses(k, all))
			}
		}
	}
	return names, nil
}

// nearMisses returns "; closest names: …" with the module names (and their
// last components) nearest to key by edit distance.
func nearMisses(key string, names []string) string {
	if len(names) == 0 {
		return " (the model has no sub-modules)"
	}
	candidates := make([]string, 0, 2*len(names))
	for _, n := range names {
		candidates = append(candidates, n[strings.LastIndex(n, ".")+1:])
	}
	candidates = append(candidates, names...)
	closest := nn.ClosestNames(key, candidates, 5)
	for i, n := range closest {
		closest[i] = strconv.Quote(n)
	}
	return "; closest names: " + strings.Join(closest, ", ")
}

// patternKey returns the key of a rank_pattern/alpha_pattern map that applies
// to the module name: a key matches when it, read as a regular expression,
// matches the whole name or a dotted suffix of it, as in PEFT. When several
// keys match the longest wins (ties: the first in sorted order). It returns
// "" when none does.
func patternKey(keys []string, name string) (string, error) {
	sorted := append([]string(nil), keys...)
	sort.Slice(sorted, func(i, j int) bool {
		if len(sorted[i]) != len(sorted[j]) {
			return len(sorted[i]) > len(sorted[j])
		}
		return sorted[i] < sorted[j]
	})
	for _, k := range sorted {
		re, err := regexp.Compile(`^(?:.*\.)?(?:` + k + `)$`)
		if err != nil {
			return "", fmt.Errorf("peft: pattern %q: %v", k, err)
		}
		if re.MatchString(name) {
			return k, nil
		}
	}
	return "", nil
}
