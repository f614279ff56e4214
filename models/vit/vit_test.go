package vit_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/models/internal/reftest"
	"github.com/graftml/graft/models/vit"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

var _ models.Classifier = (*vit.ForImageClassification)(nil)

// count is ViTModel's parameter count by formula, for width d, L layers,
// feed-forward width f, p×p patches of c-channel s×s images: class token d,
// positions (patches+1)·d, patch projection c·p²·d + d; per layer four d×d
// projections with biases, two feed-forward layers and two layer norms;
// the final layer norm; and the pooler's d×d + d if present.
func count(d, layers, f, p, c, s int, pooler bool) int {
	patches := (s / p) * (s / p)
	n := d + (patches+1)*d + c*p*p*d + d
	n += layers * (4*(d*d+d) + (d*f + f) + (f*d + d) + 2*2*d)
	n += 2 * d
	if pooler {
		n += d*d + d
	}
	return n
}

func TestParameterCounts(t *testing.T) {
	if got := count(768, 12, 3072, 16, 3, 224, false); got != 85798656 {
		t.Fatalf("the formula gives %d for ViT-B/16", got)
	}
	cfg := vit.Base16()
	base, err := vit.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AddPoolingLayer = true
	pooled, _ := vit.New(cfg, nil)
	cfg.NumLabels = 1000
	cls, _ := vit.NewForImageClassification(cfg, nil)
	small := vit.Config{HiddenSize: 48, NumHiddenLayers: 3, NumAttentionHeads: 4, IntermediateSize: 80, HiddenAct: "gelu",
		ImageSize: 20, PatchSize: 5, NumChannels: 1, QKVBias: true, AddPoolingLayer: true}
	smallModel, err := vit.New(small, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		m    nn.Module
		want int
	}{
		{"ViT-B/16 without pooler", base, 85798656},
		{"ViT-B/16 with pooler (vit-base-patch16-224-in21k)", pooled, 86389248},
		// google/vit-base-patch16-224: the backbone and a 768×1000 classifier.
		{"ViT-B/16 ImageNet classifier", cls, 85798656 + 768*1000 + 1000},
		{"small", smallModel, count(48, 3, 80, 5, 1, 20, true)},
	} {
		if total, trainable := nn.CountParameters(c.m); total != c.want || trainable != c.want {
			t.Errorf("%s: %d parameters (%d trainable), want %d", c.name, total, trainable, c.want)
		}
	}
}

// TestNames checks the full state dict of a one-layer classifier against
// Hugging Face's ViTForImageClassification names, in its order.
func TestNames(t *testing.T) {
	cfg := vit.Config{HiddenSize: 8, NumHiddenLayers: 1, NumAttentionHeads: 2, IntermediateSize: 16, HiddenAct: "gelu",
		ImageSize: 8, PatchSize: 4, NumChannels: 3, QKVBias: true, NumLabels: 3}
	m, err := vit.NewForImageClassification(cfg, tensor.NewRNG(2))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"vit.embeddings.cls_token", "vit.embeddings.position_embeddings",
		"vit.embeddings.patch_embeddings.projection.weight", "vit.embeddings.patch_embeddings.projection.bias",
	}
	for _, p := range []string{
		"attention.attention.query", "attention.attention.key", "attention.attention.value", "attention.output.dense",
		"intermediate.dense", "output.dense", "layernorm_before", "layernorm_after",
	} {
		want = append(want, "vit.encoder.layer.0."+p+".weight", "vit.encoder.layer.0."+p+".bias")
	}
	want = append(want, "vit.layernorm.weight", "vit.layernorm.bias", "classifier.weight", "classifier.bias")
	var got []string
	for _, p := range nn.StateDict(m) {
		got = append(got, p.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("names\n%v\nwant\n%v", got, want)
	}
	shapes := map[string][]int{}
	for _, p := range nn.StateDict(m) {
		shapes[p.Name] = p.Tensor.Shape()
	}
	for name, s := range map[string][]int{
		"vit.embeddings.cls_token":                          {1, 1, 8},
		"vit.embeddings.position_embeddings":                {1, 5, 8},
		"vit.embeddings.patch_embeddings.projection.weight": {8, 3, 4, 4},
		"vit.encoder.layer.0.intermediate.dense.weight":     {16, 8},
		"classifier.weight":                                 {3, 8},
	} {
		if !slices.Equal(shapes[name], s) {
			t.Errorf("%s has shape %v, want %v", name, shapes[name], s)
		}
	}
	noBias := cfg
	noBias.QKVBias = false
	nb, _ := vit.New(noBias, nil)
	for _, p := range nn.NamedParameters(nb) {
		if strings.HasSuffix(p.Name, "query.bias") {
			t.Errorf("qkv_bias false still has %s", p.Name)
		}
	}
}

// smallConfig is the configuration of the parity and round-trip tests.
func smallConfig() vit.Config {
	return vit.Config{HiddenSize: 32, NumHiddenLayers: 2, NumAttentionHeads: 4, IntermediateSize: 48, HiddenAct: "gelu",
		LayerNormEps: 1e-12, InitializerRange: 0.02, ImageSize: 16, PatchSize: 4, NumChannels: 3, QKVBias: true,
		ID2Label: map[string]string{"0": "cat", "1": "dog", "2": "fox"}, ModelType: "vit"}
}

// parityTol is the largest absolute difference from PyTorch accepted.
const parityTol = 1e-4

// TestTorchParity saves random ViTs with Save (a classifier, a ViTModel with
// pooler and one with the tanh GELU and no query/key/value bias on
// one-channel images) and compares graft's outputs with those of
// ../testdata/torch_models.py, which builds the models in plain PyTorch under
// Hugging Face's names and loads the saved weights strictly. Weights are
// drawn with std 0.15 so that attention is far from uniform.
func TestTorchParity(t *testing.T) {
	r := tensor.NewRNG(3)
	base := smallConfig()
	base.InitializerRange = 0.15
	cls, err := vit.NewForImageClassification(base, r)
	if err != nil {
		t.Fatal(err)
	}
	pooledCfg := base
	pooledCfg.AddPoolingLayer = true
	pooled, _ := vit.New(pooledCfg, r)
	variantCfg := base
	variantCfg.HiddenAct, variantCfg.QKVBias, variantCfg.LayerNormEps, variantCfg.NumChannels = "gelu_new", false, 1e-6, 1
	variant, _ := vit.New(variantCfg, r)
	backbone := func(m *vit.Model) func(x *tensor.Tensor) map[string]*tensor.Tensor {
		return func(x *tensor.Tensor) map[string]*tensor.Tensor {
			out := map[string]*tensor.Tensor{"last_hidden_state": m.Forward(x)}
			if m.Pooler != nil {
				out["pooler_output"] = m.Pooled(x)
			}
			return out
		}
	}
	cases := []struct {
		name     string
		channels int
		save     func(dir string) error
		run      func(x *tensor.Tensor) map[string]*tensor.Tensor
	}{
		{"classifier", 3, cls.Save, func(x *tensor.Tensor) map[string]*tensor.Tensor {
			return map[string]*tensor.Tensor{"last_hidden_state": cls.ViT.Forward(x), "logits": cls.Forward(x)}
		}},
		{"pooled", 3, pooled.Save, backbone(pooled)},
		{"gelu_tanh_nobias_gray", 1, variant.Save, backbone(variant)},
	}
	for _, m := range []nn.Module{cls, pooled, variant} {
		reftest.Perturb(m, r, 0.2)
		nn.Eval(m)
	}
	root := t.TempDir()
	var dirs []string
	var inputs []*tensor.Tensor
	for _, c := range cases {
		dir := filepath.Join(root, c.name)
		if err := c.save(dir); err != nil {
			t.Fatal(err)
		}
		x := tensor.Randn(r, 3, c.channels, 16, 16)
		reftest.Write(t, filepath.Join(dir, "inputs.safetensors"), map[string]*tensor.Tensor{"x": x})
		dirs, inputs = append(dirs, dir), append(inputs, x)
	}
	reftest.RunPython(t, filepath.Join("..", "testdata", "torch_models.py"), dirs...)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := reftest.Read(t, filepath.Join(dirs[i], "outputs.safetensors"))
			got := c.run(inputs[i])
			if len(got) != len(ref) {
				t.Errorf("graft gives %d outputs, torch %d", len(got), len(ref))
			}
			for name, g := range got {
				if ref[name] == nil {
					t.Errorf("torch gives no %s", name)
					continue
				}
				reftest.Check(t, name, g, ref[name], parityTol)
			}
		})
	}
}

// same fails t unless a and b are equal element for element.
func same(t *testing.T, what string, a, b *tensor.Tensor) {
	t.Helper()
	if d := reftest.MaxAbsDiff(t, what, a, b); d != 0 {
		t.Errorf("%s: max difference %g, want identical", what, d)
	}
}

// TestSaveLoad saves models in the Hugging Face layout and loads them back in
// every combination the two layouts allow: classifier → classifier (identical
// logits and labels), backbone with pooler → classifier (same features, a
// zero head) and → ViTModel (same pooled output), classifier → ViTModel, and
// a sharded checkpoint.
func TestSaveLoad(t *testing.T) {
	r := tensor.NewRNG(4)
	cls, _ := vit.NewForImageClassification(smallConfig(), r)
	pooledCfg := smallConfig()
	pooledCfg.AddPoolingLayer = true
	pooled, _ := vit.New(pooledCfg, r)
	for _, m := range []nn.Module{cls, pooled} {
		reftest.Perturb(m, r, 0.2)
		nn.Eval(m)
	}
	x := tensor.Randn(r, 2, 3, 16, 16)
	root := t.TempDir()
	clsDir, poolDir, shardDir := filepath.Join(root, "cls"), filepath.Join(root, "pooled"), filepath.Join(root, "sharded")
	if err := cls.Save(clsDir); err != nil {
		t.Fatal(err)
	}
	if err := pooled.Save(poolDir); err != nil {
		t.Fatal(err)
	}

	back, err := vit.Load(clsDir)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "classifier → classifier logits", back.Forward(x), cls.Forward(x))
	if got := back.ViT.Config.LabelNames(); !slices.Equal(got, []string{"cat", "dog", "fox"}) {
		t.Errorf("labels %v after the round trip", got)
	}

	fromBackbone, err := vit.Load(poolDir)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "backbone → classifier features", fromBackbone.Features(x), pooled.Features(x))
	same(t, "backbone → classifier logits (zero head)", fromBackbone.Forward(x), tensor.Zeros(2, 3))

	backbone, err := vit.LoadModel(poolDir)
	if err != nil {
		t.Fatal(err)
	}
	if backbone.Pooler == nil {
		t.Fatal("LoadModel dropped the checkpoint's pooler")
	}
	same(t, "backbone → backbone pooled", backbone.Pooled(x), pooled.Pooled(x))

	stripped, err := vit.LoadModel(clsDir)
	if err != nil {
		t.Fatal(err)
	}
	if stripped.Pooler != nil {
		t.Error("LoadModel of a classifier made a pooler")
	}
	same(t, "classifier → backbone features", stripped.Features(x), cls.Features(x))

	if err := hf.WriteConfig(shardDir, cls.ViT.Config); err != nil {
		t.Fatal(err)
	}
	if err := hf.SaveWeightsSharded(cls, shardDir, 20000, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(shardDir, hf.IndexFile)); err != nil {
		t.Fatalf("no sharded checkpoint: %v", err)
	}
	sharded, err := vit.Load(shardDir)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "sharded classifier logits", sharded.Forward(x), cls.Forward(x))

	if err := back.ResetHead([]string{"a", "b", "c", "d"}, r); err != nil {
		t.Fatal(err)
	}
	if out := back.Forward(x); out.Dim(1) != 4 || back.ViT.Config.Labels() != 4 {
		t.Errorf("after ResetHead: logits %v, %d labels", out.Shape(), back.ViT.Config.Labels())
	}
}

// TestLoadErrors checks that a checkpoint that does not fit its config, and a
// config without a required key, give errors naming the problem.
func TestLoadErrors(t *testing.T) {
	cls, _ := vit.NewForImageClassification(smallConfig(), tensor.NewRNG(5))
	dir := t.TempDir()
	if err := cls.Save(dir); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, hf.ConfigFile)
	orig, _ := os.ReadFile(cfgPath)
	rewrite := func(old, new string) {
		if !strings.Contains(string(orig), old) {
			t.Fatalf("config.json has no %q:\n%s", old, orig)
		}
		os.WriteFile(cfgPath, []byte(strings.Replace(string(orig), old, new, 1)), 0o644)
	}

	rewrite(`"num_hidden_layers": 2`, `"num_hidden_layers": 3`)
	_, err := vit.Load(dir)
	var mm *hf.MismatchError
	if !errors.As(err, &mm) || !slices.Contains(mm.Missing, "vit.encoder.layer.2.attention.attention.query.weight") {
		t.Errorf("3 layers configured, 2 stored: error %v", err)
	}

	rewrite(`"intermediate_size": 48`, `"intermediate_size": 40`)
	_, err = vit.LoadModel(dir)
	if !errors.As(err, &mm) || len(mm.Shapes) != 6 || !strings.Contains(err.Error(), "encoder.layer.0.intermediate.dense.weight") {
		t.Errorf("intermediate size 40 configured, 48 stored: error %v", err)
	}

	rewrite(`"patch_size": 4,`, ``)
	if _, err := vit.Load(dir); err == nil || !strings.Contains(err.Error(), "patch_size") {
		t.Errorf("no patch_size: error %v", err)
	}

	rewrite(`"hidden_act": "gelu"`, `"hidden_act": "mish"`)
	if _, err := vit.Load(dir); err == nil || !strings.Contains(err.Error(), "mish") {
		t.Errorf("hidden_act mish: error %v", err)
	}

	bad := smallConfig()
	bad.ImageSize = 18
	if _, err := vit.New(bad, nil); err == nil || !strings.Contains(err.Error(), "image_size = 18 is not a multiple of patch_size = 4") {
		t.Errorf("image 18, patch 4: error %v", err)
	}
}

// TestTrains checks that one gradient step on a fixed batch lowers the loss
// and that every parameter gets a gradient.
func TestTrains(t *testing.T) {
	r := tensor.NewRNG(6)
	m, _ := vit.NewForImageClassification(smallConfig(), r)
	x := tensor.Randn(r, 4, 3, 16, 16)
	labels := []int{0, 1, 2, 1}
	loss := nn.CrossEntropy(m.Forward(x), labels)
	loss.Backward()
	for _, p := range nn.NamedParameters(m) {
		if p.Tensor.Grad() == nil {
			t.Fatalf("%s has no gradient", p.Name)
		}
		d, g := p.Tensor.Data(), p.Tensor.Grad().Data()
		for i := range d {
			d[i] -= 0.5 * g[i]
		}
	}
	if after := nn.CrossEntropy(m.Forward(x), labels).Item(); !(after < loss.Item()) {
		t.Errorf("loss %g after a step, %g before", after, loss.Item())
	}
}
