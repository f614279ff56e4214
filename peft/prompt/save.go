package prompt

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/graftml/graft/safetensors"
)

// MethodKey is the safetensors metadata key under which Save records the
// learner's Name, which Load checks.
const MethodKey = "graft_prompt_method"

// Save writes the learned parameters of l (its context vectors, meta-net or
// coupling maps, in the order of l.Parameters) to a safetensors file at path,
// as "param.0", "param.1", …, with l.Name() in the metadata under MethodKey.
// The frozen encoders are not saved: Load restores the prompts into a learner
// built the same way on the same model.
func Save(l Learner, path string) error {
	if l == nil {
		return fmt.Errorf("prompt: Save: no learner")
	}
	params := l.Parameters()
	entries := make([]safetensors.Entry, len(params))
	for i, p := range params {
		entries[i] = safetensors.Entry{Name: paramKey(i), Shape: p.Shape(), Data: slices.Clone(p.Data())}
	}
	return safetensors.Save(path, entries, map[string]string{MethodKey: l.Name(), "format": "pt"})
}

// Load reads prompts written by Save into l, which must be the same method
// with the same configuration (the same name, number of parameters and
// shapes); otherwise it returns an error naming the difference and leaves l
// unchanged.
func Load(l Learner, path string) error {
	if l == nil {
		return fmt.Errorf("prompt: Load: no learner")
	}
	entries, meta, err := safetensors.Load(path)
	if err != nil {
		return fmt.Errorf("prompt: Load: %w", err)
	}
	if got := meta[MethodKey]; got != l.Name() {
		return fmt.Errorf("prompt: Load: %s holds prompts of %q, not of %q", path, got, l.Name())
	}
	params := l.Parameters()
	byName := map[string]safetensors.Entry{}
	for _, e := range entries {
		byName[e.Name] = e
	}
	if len(entries) != len(params) {
		return fmt.Errorf("prompt: Load: %s holds %d tensors, %s has %d parameters", path, len(entries), l.Name(), len(params))
	}
	for i, p := range params {
		e, ok := byName[paramKey(i)]
		if !ok {
			return fmt.Errorf("prompt: Load: %s lacks %q", path, paramKey(i))
		}
		if !slices.Equal(e.Shape, p.Shape()) {
			return fmt.Errorf("prompt: Load: %s: %q has shape %v, %s's parameter %d has %v", path, paramKey(i), e.Shape, l.Name(), i, p.Shape())
		}
	}
	for i, p := range params {
		copy(p.Data(), byName[paramKey(i)].Data)
	}
	return nil
}

func paramKey(i int) string { return "param." + strconv.Itoa(i) }
