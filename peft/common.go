package peft

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/graftml/graft/nn"
)

// commonJSON holds the adapter_config.json keys every PEFT method writes
// first. Embedded at the head of a method's JSON struct, encoding/json
// flattens it, so the keys keep their names and order.
type commonJSON struct {
	PeftType            string  `json:"peft_type"`
	TaskType            *string `json:"task_type"`
	BaseModelNameOrPath *string `json:"base_model_name_or_path"`
	Revision            *string `json:"revision"`
	InferenceMode       bool    `json:"inference_mode"`
}

// newCommonJSON fills the common keys; an empty task type or base model is
// written as null.
func newCommonJSON(peftType, taskType, baseModel string) commonJSON {
	return commonJSON{PeftType: peftType, TaskType: optString(taskType), BaseModelNameOrPath: optString(baseModel)}
}

// recorded returns the task type and base model ("" for null).
func (j commonJSON) recorded() (taskType, baseModel string) {
	if j.TaskType != nil {
		taskType = *j.TaskType
	}
	if j.BaseModelNameOrPath != nil {
		baseModel = *j.BaseModelNameOrPath
	}
	return taskType, baseModel
}

// decodeConfig unmarshals an adapter_config.json's contents into v.
func decodeConfig(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("peft: adapter config: %v", err)
	}
	return nil
}

// targetJSON writes a Target as PEFT's target_modules: a sorted list, the
// regular expression string, or "all-linear".
func targetJSON(t Target) (json.RawMessage, error) {
	var v any = t.Regex
	if t.Regex == "" {
		ts := slices.Clone(t.Modules)
		sort.Strings(ts)
		v = ts
		if t.allLinear() {
			v = AllLinear
		}
	}
	return json.Marshal(v)
}

// parseTargets reads PEFT's target_modules (or another key holding a target,
// named by key): a list or a string; null or absent gives neither.
func parseTargets(raw json.RawMessage, key string) (Target, error) {
	var t Target
	if len(raw) == 0 || string(raw) == "null" {
		return t, nil
	}
	if err := json.Unmarshal(raw, &t.Modules); err != nil {
		if err := json.Unmarshal(raw, &t.Regex); err != nil {
			return t, fmt.Errorf("peft: adapter config: %s %s: want a list or a string", key, raw)
		}
		if t.Regex == AllLinear {
			t.Regex, t.Modules = "", []string{AllLinear}
		}
	}
	return t, nil
}

// parseTargetJSON reads a required target_modules (a list or a string; null
// gives neither).
func parseTargetJSON(raw json.RawMessage) (Target, error) {
	if len(raw) == 0 {
		return Target{}, fmt.Errorf("peft: adapter config: target_modules %s: want a list or a string", raw)
	}
	return parseTargets(raw, "target_modules")
}

// unwrapMerged returns base, the layer a Tuner wraps, after merging the
// active adapters through m when merge is set.
func unwrapMerged(m interface{ Merge(names []string) error }, active []string, base nn.Layer, merge bool) (nn.Layer, error) {
	if merge {
		if err := m.Merge(active); err != nil {
			return nil, err
		}
	}
	return base, nil
}

// affineTarget checks that the module called name, now the layer current,
// can take the adapter: current is not a Tuner, or is one of the method's
// own layers (own) that does not hold the adapter yet. It returns the layer
// the adapter wraps and its affine view.
func affineTarget(name string, current nn.Layer, own bool, adapter string) (nn.Layer, affine, error) {
	base, err := tunerBase(name, current, own, adapter)
	if err != nil {
		return nil, affine{}, err
	}
	aff, err := affineOf(name, base)
	if err != nil {
		return nil, affine{}, err
	}
	return base, aff, nil
}

// tunerBase checks that the module called name, now the layer current, can
// take the adapter (as affineTarget does) and returns the layer the adapter
// wraps.
func tunerBase(name string, current nn.Layer, own bool, adapter string) (nn.Layer, error) {
	t, ok := current.(Tuner)
	if !ok {
		return current, nil
	}
	if !own {
		return nil, fmt.Errorf("peft: module %q already holds adapters of another method (%T)", name, t)
	}
	if slices.Contains(t.AdapterNames(), adapter) {
		return nil, fmt.Errorf("peft: module %q already holds an adapter named %q", name, adapter)
	}
	return t.BaseLayer(), nil
}

// orDefault returns v, or def when v is zero (unset).
func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// affineWidths gives a Tuner over an affine layer InFeatures and
// OutFeatures.
type affineWidths struct{ aff affine }

// InFeatures returns the base layer's input width.
func (a *affineWidths) InFeatures() int { return a.aff.in }

// OutFeatures returns the base layer's output width.
func (a *affineWidths) OutFeatures() int { return a.aff.out }

// checkNoBias refuses any bias setting but "none" ("" too).
func checkNoBias(method, bias string) error {
	if bias != "" && bias != "none" {
		return fmt.Errorf("peft: %s bias %q: only \"none\" is supported", method, bias)
	}
	return nil
}
