package gpt2

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/models/internal/reftest"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// parityTol bounds the largest absolute difference from PyTorch.
const parityTol = 1e-4

// parityCases are small GPT-2s covering the config's options: the default
// architecture, and another activation, feed-forward width, layer-index
// scaling and epsilon.
var parityCases = []struct {
	name string
	cfg  func() Config
}{
	{"default", func() Config {
		c := Small()
		c.VocabSize, c.NPositions, c.NEmbd, c.NLayer, c.NHead = 101, 16, 64, 2, 4
		c.InitializerRange = 0.1
		return c
	}},
	{"variant", func() Config {
		c := Small()
		c.VocabSize, c.NPositions, c.NEmbd, c.NLayer, c.NHead, c.NInner = 53, 12, 48, 3, 3, 80
		c.ActivationFunction, c.ScaleAttnByInverseLayerIdx, c.LayerNormEpsilon = "gelu", true, 1e-6
		c.InitializerRange = 0.1
		return c
	}},
}

// TestTorchParity checks hidden states and logits against a plain-PyTorch
// GPT-2 (testdata/reference.py) on the same random weights and a padded
// batch, and loads the GPT2LMHeadModel-style checkpoint the script writes
// back with Load.
func TestTorchParity(t *testing.T) {
	root := t.TempDir()
	models := map[string]*Model{}
	var dirs []string
	for i, pc := range parityCases {
		r := tensor.NewRNG(uint64(100 + i))
		m := mustNew(t, pc.cfg(), r)
		reftest.Perturb(m, r, 0.1)
		nn.Eval(m)
		dir := filepath.Join(root, pc.name)
		if err := m.Save(filepath.Join(dir, "model")); err != nil {
			t.Fatal(err)
		}
		// Three sequences, the longest filling the context; the others padded.
		n := m.Config.NPositions
		ids := [][]int{make([]int, n), make([]int, n/2), make([]int, 3)}
		for _, s := range ids {
			for j := range s {
				s[j] = int(r.Uint64() % uint64(m.Config.VocabSize))
			}
		}
		x, lengths, err := hf.PadIDs(ids, 0)
		if err != nil {
			t.Fatal(err)
		}
		reftest.Write(t, filepath.Join(dir, "inputs.safetensors"), map[string]*tensor.Tensor{
			"ids": x, "lengths": tensor.New([]float32{float32(lengths[0]), float32(lengths[1]), float32(lengths[2])}, 3),
		})
		models[pc.name] = m
		dirs = append(dirs, dir)
	}
	reftest.RunPython(t, filepath.Join("testdata", "reference.py"), dirs...)

	for _, pc := range parityCases {
		t.Run(pc.name, func(t *testing.T) {
			m, dir := models[pc.name], filepath.Join(root, pc.name)
			in := reftest.Read(t, filepath.Join(dir, "inputs.safetensors"))
			ref := reftest.Read(t, filepath.Join(dir, "outputs.safetensors"))
			ids, lengths := in["ids"], reftest.Ints(in["lengths"])
			hidden := m.ForwardMask(ids, lengths)
			reftest.Check(t, "hidden", hidden, ref["hidden"], parityTol)
			reftest.Check(t, "logits", m.Logits(hidden), ref["logits"], parityTol)

			// The same weights as a GPT2LMHeadModel checkpoint written by PyTorch.
			loaded, err := Load(filepath.Join(dir, "hf"))
			if err != nil {
				t.Fatal(err)
			}
			if loaded.Config.NInner != m.Config.NInner || loaded.Config.ActivationFunction != m.Config.ActivationFunction || loaded.Config.ScaleAttnByInverseLayerIdx != m.Config.ScaleAttnByInverseLayerIdx {
				t.Errorf("loaded config %+v, want %+v", loaded.Config, m.Config)
			}
			want := nn.StateDict(m)
			for i, nt := range nn.StateDict(loaded) {
				if nt.Name != want[i].Name || !slices.Equal(nt.Tensor.Data(), want[i].Tensor.Data()) {
					t.Fatalf("loaded %s differs from the saved %s", nt.Name, want[i].Name)
				}
			}
			reftest.Check(t, "hidden after Load", loaded.ForwardMask(ids, lengths), ref["hidden"], parityTol)
		})
	}
}
