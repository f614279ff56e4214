package peft

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/graftml/graft/nn"
)

// FingerprintKey is the graft-specific adapter_config.json field recording
// the base weights an adapter was trained on (see BaseFingerprint); PEFT
// ignores it.
const FingerprintKey = "graft_base_fingerprint"

// ModuleFingerprint summarises one adapted module's base weight: its shape
// in (out, in) layout and four statistics of its values in that layout —
// the mean, the root mean square and two fixed pseudo-random ±1 projections
// divided by √n — enough to tell two bases apart while surviving the float32
// rounding of merging and unmerging.
type ModuleFingerprint struct {
	Shape []int     `json:"shape"`
	Stats []float64 `json:"stats"`
}

// BaseFingerprint records, per adapted module, the base weight an adapter
// was trained on. SaveAdapter writes it under FingerprintKey; LoadAdapter
// and Load refuse an adapter whose recorded base differs from the model's.
type BaseFingerprint map[string]ModuleFingerprint

// BaseFingerprint returns the fingerprint of the base weights of the modules
// holding the named adapter, with merged LoRA updates taken back out.
// Modules whose base cannot be recovered that way (another method's adapter
// or a DoRA adapter merged into it) or that are not affine are left out.
func (m *Model) BaseFingerprint(adapter string) (BaseFingerprint, error) {
	if err := m.usable(); err != nil {
		return nil, err
	}
	if _, ok := m.methods[adapter]; !ok {
		return nil, fmt.Errorf("peft: no adapter named %q (the model has %q)", adapter, m.names)
	}
	fp := BaseFingerprint{}
	for _, nm := range m.Tuners() {
		t := nm.Module.(Tuner)
		if !slices.Contains(t.AdapterNames(), adapter) {
			continue
		}
		if f, ok := moduleFingerprint(t); ok {
			fp[nm.Name] = f
		}
	}
	return fp, nil
}

// moduleFingerprint fingerprints layer's base weight (the layer itself, or a
// Tuner's base with merged LoRA updates subtracted).
func moduleFingerprint(layer nn.Layer) (ModuleFingerprint, bool) {
	base := layer
	t, isTuner := layer.(Tuner)
	if isTuner {
		base = t.BaseLayer()
	}
	aff, err := affineOf("", base)
	if err != nil {
		return ModuleFingerprint{}, false
	}
	w := aff.weightOutIn()
	if isTuner && len(t.MergedAdapters()) > 0 {
		l, ok := t.(*LoraLayer)
		if !ok {
			return ModuleFingerprint{}, false
		}
		for _, n := range l.merged {
			if l.Magnitude[n] != nil {
				return ModuleFingerprint{}, false
			}
			for i, d := range l.delta(n) {
				w[i] -= d
			}
		}
	}
	var sum, sq, p1, p2 float64
	for i, v := range w {
		sum += v
		sq += v * v
		h := splitmix(uint64(i))
		p1 += v * float64(int64(h&1)*2-1)
		p2 += v * float64(int64(h>>1&1)*2-1)
	}
	n := float64(len(w))
	return ModuleFingerprint{Shape: []int{aff.out, aff.in}, Stats: []float64{sum / n, math.Sqrt(sq / n), p1 / math.Sqrt(n), p2 / math.Sqrt(n)}}, true
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// differs describes how f's statistics differ from g's (the model's, of
// the same shape), or returns "".
func (f ModuleFingerprint) differs(g ModuleFingerprint) string {
	if len(f.Stats) != len(g.Stats) {
		return fmt.Sprintf("%d statistics recorded, graft computes %d", len(f.Stats), len(g.Stats))
	}
	tol := 1e-4*math.Max(math.Abs(g.Stats[1]), math.Abs(f.Stats[1])) + 1e-7
	for i, v := range f.Stats {
		if math.Abs(v-g.Stats[i]) > tol {
			return fmt.Sprintf("weight statistics (mean, rms, two projections) %.6g recorded, the model's are %.6g", f.Stats, g.Stats)
		}
	}
	return ""
}

// recordBase adds the adapter's base fingerprint to its saved configuration.
func (m *Model) recordBase(adapter string, cfg map[string]any) error {
	fp, err := m.BaseFingerprint(adapter)
	if err != nil {
		return err
	}
	if len(fp) > 0 {
		cfg[FingerprintKey] = fp
	}
	return nil
}

// baseName returns a method's base_model_name_or_path ("" if none).
func baseName(method Method) string {
	data, err := json.Marshal(method)
	if err != nil {
		return ""
	}
	var head struct {
		Base *string `json:"base_model_name_or_path"`
	}
	if json.Unmarshal(data, &head) != nil || head.Base == nil {
		return ""
	}
	return *head.Base
}

// checkBase refuses an adapter config (the contents of dir's
// adapter_config.json) recording another base than the model's: a
// fingerprint that differs on a module the model has.
func (m *Model) checkBase(dir string, data []byte, method Method) error {
	var rec struct {
		FP BaseFingerprint `json:"graft_base_fingerprint"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return fmt.Errorf("peft: load adapter %s: %s: %v", dir, FingerprintKey, err)
	}
	var problems []string
	for _, name := range mapKeys(rec.FP) {
		mod, err := nn.Get(m.model, name)
		if err != nil {
			continue // the shape check names missing modules
		}
		layer, ok := mod.(nn.Layer)
		if !ok {
			continue
		}
		have, ok := moduleFingerprint(layer)
		if !ok || !slices.Equal(have.Shape, rec.FP[name].Shape) {
			continue // another shape: the shape check describes it
		}
		if d := rec.FP[name].differs(have); d != "" {
			problems = append(problems, fmt.Sprintf("module %q: %s", name, d))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	if len(problems) > 4 {
		problems = append(problems[:4], fmt.Sprintf("and %d more", len(problems)-4))
	}
	return fmt.Errorf("peft: load adapter %s: it was trained on another base (base_model_name_or_path %q) than this model's%s: %s",
		dir, baseName(method), m.baseNames(), strings.Join(problems, "; "))
}

// baseNames describes the base_model_name_or_path the model's adapters
// record, for error messages.
func (m *Model) baseNames() string {
	var names []string
	for _, a := range m.names {
		if b := baseName(m.methods[a]); b != "" && !slices.Contains(names, b) {
			names = append(names, b)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf(" (its adapters record %q)", names)
}

// sameBase refuses to merge adapters whose configurations name different
// base models (base_model_name_or_path; unset names match any).
func (m *Model) sameBase(adapters []string) error {
	first, firstBase := "", ""
	for _, a := range adapters {
		b := baseName(m.methods[a])
		if b == "" {
			continue
		}
		if firstBase == "" {
			first, firstBase = a, b
			continue
		}
		if b != firstBase {
			return fmt.Errorf("peft: cannot merge adapters of different bases: %q was trained on %q, %q on %q", first, firstBase, a, b)
		}
	}
	return nil
}
