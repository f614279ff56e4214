package bert

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/graftml/graft/models/internal/reftest"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// parityTol bounds the largest absolute difference from PyTorch.
const parityTol = 1e-4

// parityCases are small BERTs: the default architecture, and one with a
// tanh-approximated GELU, classifier dropout set and three segments.
var parityCases = []struct {
	name   string
	labels int
	cfg    func() Config
}{
	{"default", 3, func() Config {
		c := Base()
		c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 97, 64, 2, 4, 128
		c.MaxPositionEmbeddings, c.InitializerRange = 16, 0.1
		return c
	}},
	{"variant", 2, func() Config {
		c := Base()
		c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 41, 48, 3, 3, 72
		c.MaxPositionEmbeddings, c.TypeVocabSize, c.InitializerRange, c.LayerNormEps = 12, 3, 0.1, 1e-5
		c.HiddenAct, c.PadTokenID = "gelu_new", 1
		p := 0.2
		c.ClassifierDropout = &p
		return c
	}},
}

// TestTorchParity checks sequence output, pooled output and logits against
// a plain-PyTorch BertForSequenceClassification (testdata/reference.py) on
// the same random weights and a padded batch with two segments, then loads
// the pre-training-style checkpoint the script writes with Load and
// LoadClassifier.
func TestTorchParity(t *testing.T) {
	root := t.TempDir()
	models := map[string]*Classifier{}
	inputs := map[string]Input{}
	var dirs []string
	for i, pc := range parityCases {
		r := tensor.NewRNG(uint64(200 + i))
		c := mustNewClassifier(t, pc.cfg(), pc.labels, r)
		reftest.Perturb(c, r, 0.1)
		nn.Eval(c)
		dir := filepath.Join(root, pc.name)
		if err := c.Save(filepath.Join(dir, "model")); err != nil {
			t.Fatal(err)
		}
		// Three sequences, the longest filling the positions; two segments each.
		cfg := c.Bert.Config
		n := cfg.MaxPositionEmbeddings
		var ids, types [][]int
		for _, l := range []int{n, n / 2, 3} {
			s, tt := make([]int, l), make([]int, l)
			for j := range s {
				s[j] = int(r.Uint64() % uint64(cfg.VocabSize))
				if j >= l/2 {
					tt[j] = cfg.TypeVocabSize - 1
				}
			}
			ids, types = append(ids, s), append(types, tt)
		}
		in, err := c.Input(ids, types)
		if err != nil {
			t.Fatal(err)
		}
		lengths := tensor.New([]float32{float32(in.Lengths[0]), float32(in.Lengths[1]), float32(in.Lengths[2])}, 3)
		reftest.Write(t, filepath.Join(dir, "inputs.safetensors"), map[string]*tensor.Tensor{"ids": in.IDs, "token_types": in.TokenTypes, "lengths": lengths})
		models[pc.name], inputs[pc.name] = c, in
		dirs = append(dirs, dir)
	}
	reftest.RunPython(t, filepath.Join("testdata", "reference.py"), dirs...)

	for _, pc := range parityCases {
		t.Run(pc.name, func(t *testing.T) {
			c, in, dir := models[pc.name], inputs[pc.name], filepath.Join(root, pc.name)
			ref := reftest.Read(t, filepath.Join(dir, "outputs.safetensors"))
			seq, pooled := c.Bert.Encode(in)
			reftest.Check(t, "sequence", seq, ref["sequence"], parityTol)
			reftest.Check(t, "pooled", pooled, ref["pooled"], parityTol)
			reftest.Check(t, "logits", c.Head(pooled), ref["logits"], parityTol)

			// The encoder as an old BertForPreTraining checkpoint written by PyTorch.
			hfDir := filepath.Join(dir, "hf")
			m, err := Load(hfDir)
			if err != nil {
				t.Fatal(err)
			}
			want := nn.StateDict(c.Bert)
			got := nn.StateDict(m)
			if len(got) != len(want) {
				t.Fatalf("loaded %d tensors, want %d", len(got), len(want))
			}
			for i, nt := range got {
				if nt.Name != want[i].Name || !slices.Equal(nt.Tensor.Data(), want[i].Tensor.Data()) {
					t.Fatalf("loaded %s differs from the saved %s", nt.Name, want[i].Name)
				}
			}
			seq2, _ := m.Encode(in)
			reftest.Check(t, "sequence after Load", seq2, ref["sequence"], parityTol)

			// A classifier on it: encoder loaded, head new from r.
			lc, err := LoadClassifier(hfDir, 5, tensor.NewRNG(9))
			if err != nil {
				t.Fatal(err)
			}
			reftest.Check(t, "pooled after LoadClassifier", lc.Features(in), ref["pooled"], parityTol)
			w := lc.Classifier.(*nn.Linear).Weight
			if !slices.Equal(w.Shape(), []int{5, c.Bert.Config.HiddenSize}) || w.Data()[0] == 0 {
				t.Errorf("new head %v not initialised from r (first weight %g)", w.Shape(), w.Data()[0])
			}
		})
	}
}
