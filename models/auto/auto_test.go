package auto_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graftml/graft/models/auto"
	"github.com/graftml/graft/models/bert"
	"github.com/graftml/graft/models/clip"
	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/models/vit"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// saver is what every model family's Save offers.
type saver interface{ Save(dir string) error }

// TestLoadPicksTheFamily saves a small model of every family, with a config
// whose model_type was left empty (Save must fill it in), and checks that
// Load returns the same type with the same parameters.
func TestLoadPicksTheFamily(t *testing.T) {
	r := tensor.NewRNG(1)
	g := gpt2.Small()
	g.VocabSize, g.NPositions, g.NEmbd, g.NLayer, g.NHead, g.ModelType = 40, 8, 16, 1, 2, ""
	b := bert.Base()
	b.VocabSize, b.HiddenSize, b.NumHiddenLayers, b.NumAttentionHeads, b.IntermediateSize, b.MaxPositionEmbeddings, b.ModelType = 30, 16, 1, 2, 24, 12, ""
	v := vit.Config{HiddenSize: 16, NumHiddenLayers: 1, NumAttentionHeads: 2, IntermediateSize: 24, HiddenAct: "gelu",
		LayerNormEps: 1e-12, InitializerRange: 0.02, ImageSize: 8, PatchSize: 4, NumChannels: 3, QKVBias: true,
		ID2Label: map[string]string{"0": "cat", "1": "dog"}}
	c := clip.ViTB32()
	c.TextConfig = clip.TextConfig{VocabSize: 50, HiddenSize: 16, IntermediateSize: 24, ProjectionDim: 8, NumHiddenLayers: 1,
		NumAttentionHeads: 2, MaxPositionEmbeddings: 8, HiddenAct: "quick_gelu", LayerNormEps: 1e-5, InitializerRange: 0.02,
		InitializerFactor: 1, PadTokenID: 1, BosTokenID: 48, EosTokenID: 49}
	c.VisionConfig = clip.VisionConfig{HiddenSize: 16, IntermediateSize: 24, ProjectionDim: 8, NumHiddenLayers: 1,
		NumAttentionHeads: 2, NumChannels: 3, ImageSize: 8, PatchSize: 4, HiddenAct: "quick_gelu", LayerNormEps: 1e-5,
		InitializerRange: 0.02, InitializerFactor: 1}
	c.ProjectionDim, c.ModelType = 8, ""

	must := func(m saver, err error) saver {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := []struct {
		name     string
		model    saver
		wantType string
	}{
		{"gpt2", must(gpt2.New(g, r)), "*gpt2.Model"},
		{"bert", must(bert.New(b, r)), "*bert.Model"},
		{"bert-classifier", must(bert.NewClassifier(b, 3, r)), "*bert.Classifier"},
		{"vit", must(vit.New(v, r)), "*vit.Model"},
		{"vit-classifier", must(vit.NewForImageClassification(v, r)), "*vit.ForImageClassification"},
		{"clip", must(clip.New(c, r)), "*clip.Model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tc.model.Save(dir); err != nil {
				t.Fatal(err)
			}
			got, err := auto.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if typ := fmt.Sprintf("%T", got); typ != tc.wantType {
				t.Fatalf("Load gave a %s, want %s", typ, tc.wantType)
			}
			want := nn.StateDict(tc.model)
			have := nn.StateDict(got)
			if len(have) != len(want) {
				t.Fatalf("loaded model has %d tensors, saved one %d", len(have), len(want))
			}
			for i := range want {
				if have[i].Name != want[i].Name {
					t.Fatalf("tensor %d is %s, want %s", i, have[i].Name, want[i].Name)
				}
				w, h := want[i].Tensor.Data(), have[i].Tensor.Data()
				for j := range w {
					if w[j] != h[j] {
						t.Fatalf("%s[%d] = %v after loading, saved %v", want[i].Name, j, h[j], w[j])
					}
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type": "llama", "hidden_size": 8}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := auto.Load(dir)
	if err == nil || !strings.Contains(err.Error(), `model_type "llama" is not one graft builds (want one of bert, clip, gpt2, vit)`) {
		t.Fatalf("llama config: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"hidden_size": 8}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := auto.Load(dir); err == nil || !strings.Contains(err.Error(), "model_type") {
		t.Fatalf("config without model_type: err = %v, want one naming the key", err)
	}
}
