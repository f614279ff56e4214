package clip_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/graftml/graft/models/clip"
	"github.com/graftml/graft/models/hf"
	"github.com/graftml/graft/models/internal/reftest"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// encoderCount is the parameter count of L pre-norm layers of width d and
// feed-forward width f: four d×d projections with biases, two feed-forward
// layers with biases, two layer norms.
func encoderCount(d, layers, f int) int {
	return layers * (4*(d*d+d) + d*f + f + f*d + d + 4*d)
}

// count is CLIPModel's parameter count by formula.
func count(c clip.Config) int {
	t, v := c.TextConfig, c.VisionConfig
	text := t.VocabSize*t.HiddenSize + t.MaxPositionEmbeddings*t.HiddenSize +
		encoderCount(t.HiddenSize, t.NumHiddenLayers, t.IntermediateSize) + 2*t.HiddenSize
	patches := (v.ImageSize / v.PatchSize) * (v.ImageSize / v.PatchSize)
	vision := v.HiddenSize + v.NumChannels*v.PatchSize*v.PatchSize*v.HiddenSize + (patches+1)*v.HiddenSize +
		2*v.HiddenSize + encoderCount(v.HiddenSize, v.NumHiddenLayers, v.IntermediateSize) + 2*v.HiddenSize
	return text + vision + c.ProjectionDim*(t.HiddenSize+v.HiddenSize) + 1
}

// small is the configuration of the tests: a 2-layer text encoder over 50
// tokens and 12 positions (end-of-text 49) and a 2-layer image encoder on
// 16×16 images in 4×4 patches.
func small() clip.Config {
	c := clip.ViTB32()
	c.TextConfig = clip.TextConfig{VocabSize: 50, HiddenSize: 32, IntermediateSize: 64, ProjectionDim: 16, NumHiddenLayers: 2,
		NumAttentionHeads: 4, MaxPositionEmbeddings: 12, HiddenAct: "quick_gelu", LayerNormEps: 1e-5, InitializerRange: 0.02,
		InitializerFactor: 1, PadTokenID: 1, BosTokenID: 48, EosTokenID: 49}
	c.VisionConfig = clip.VisionConfig{HiddenSize: 24, IntermediateSize: 40, ProjectionDim: 16, NumHiddenLayers: 2,
		NumAttentionHeads: 3, NumChannels: 3, ImageSize: 16, PatchSize: 4, HiddenAct: "quick_gelu", LayerNormEps: 1e-5,
		InitializerRange: 0.02, InitializerFactor: 1}
	c.ProjectionDim = 16
	return c
}

func TestParameterCounts(t *testing.T) {
	base := clip.ViTB32()
	if got := count(base); got != 151277313 {
		t.Fatalf("the formula gives %d for CLIP ViT-B/32", got)
	}
	for _, c := range []struct {
		name string
		cfg  clip.Config
		want int
	}{
		{"ViT-B/32 (openai/clip-vit-base-patch32)", base, 151277313},
		{"small", small(), count(small())},
	} {
		m, err := clip.New(c.cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if total, trainable := nn.CountParameters(m); total != c.want || trainable != c.want {
			t.Errorf("%s: %d parameters (%d trainable), want %d", c.name, total, trainable, c.want)
		}
	}
}

// TestNames checks the state dict of a one-layer model against Hugging
// Face's CLIPModel names.
func TestNames(t *testing.T) {
	cfg := small()
	cfg.TextConfig.NumHiddenLayers, cfg.VisionConfig.NumHiddenLayers = 1, 1
	m, err := clip.New(cfg, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"logit_scale", "visual_projection.weight", "text_projection.weight",
		"text_model.embeddings.token_embedding.weight", "text_model.embeddings.position_embedding.weight",
		"text_model.final_layer_norm.weight", "text_model.final_layer_norm.bias",
		"vision_model.embeddings.class_embedding", "vision_model.embeddings.patch_embedding.weight",
		"vision_model.embeddings.position_embedding.weight",
		"vision_model.pre_layrnorm.weight", "vision_model.pre_layrnorm.bias",
		"vision_model.post_layernorm.weight", "vision_model.post_layernorm.bias"}
	for _, tower := range []string{"text_model", "vision_model"} {
		for _, p := range []string{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
			"layer_norm1", "mlp.fc1", "mlp.fc2", "layer_norm2"} {
			want = append(want, tower+".encoder.layers.0."+p+".weight", tower+".encoder.layers.0."+p+".bias")
		}
	}
	var got []string
	shapes := map[string][]int{}
	for _, p := range nn.StateDict(m) {
		got = append(got, p.Name)
		shapes[p.Name] = p.Tensor.Shape()
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("names\n%v\nwant\n%v", got, want)
	}
	for name, s := range map[string][]int{
		"logit_scale":                                       {},
		"visual_projection.weight":                          {16, 24},
		"text_projection.weight":                            {16, 32},
		"vision_model.embeddings.class_embedding":           {24},
		"vision_model.embeddings.patch_embedding.weight":    {24, 3, 4, 4},
		"vision_model.embeddings.position_embedding.weight": {17, 24},
		"text_model.embeddings.position_embedding.weight":   {12, 32},
	} {
		if !slices.Equal(shapes[name], s) {
			t.Errorf("%s has shape %v, want %v", name, shapes[name], s)
		}
	}
	if v := m.LogitScale.Item(); math.Abs(float64(v)-2.6592) > 1e-6 {
		t.Errorf("logit_scale starts at %g, want log(1/0.07) ≈ 2.6592", v)
	}
}

// texts are ragged token sequences of the small vocabulary, each ending in
// end-of-text (49), padded by the tests with pad_token_id 1 where needed.
var texts = [][]int{{48, 5, 17, 49}, {48, 30, 31, 32, 33, 2, 49}, {48, 49}}

// padded returns texts padded on the right with pad to the longest length.
func padded(texts [][]int, pad int) [][]int {
	longest := 0
	for _, s := range texts {
		longest = max(longest, len(s))
	}
	out := make([][]int, len(texts))
	for i, s := range texts {
		out[i] = append([]int(nil), s...)
		for len(out[i]) < longest {
			out[i] = append(out[i], pad)
		}
	}
	return out
}

func idsTensor(rows [][]int) *tensor.Tensor {
	var data []float32
	for _, r := range rows {
		for _, id := range r {
			data = append(data, float32(id))
		}
	}
	return tensor.New(data, len(rows), len(rows[0]))
}

// parityTol is the largest absolute difference from PyTorch accepted.
const parityTol = 1e-4

// TestTorchParity saves random CLIP models with Save and compares graft's
// hidden states, pooled outputs, embeddings and logits with those of
// ../testdata/torch_models.py, which builds CLIPModel in plain PyTorch under
// Hugging Face's names, loads the saved weights strictly and finds the
// end-of-text positions itself. The second case uses the legacy eos_token_id
// 2 (end-of-text is the largest id) and GELU. Weights are drawn with
// initializer_factor 3 so that attention is far from uniform.
func TestTorchParity(t *testing.T) {
	r := tensor.NewRNG(2)
	base := small()
	base.InitializerFactor = 3
	legacy := base
	legacy.TextConfig.EosTokenID, legacy.TextConfig.HiddenAct, legacy.VisionConfig.HiddenAct = 2, "gelu", "gelu"
	cases := []struct {
		name  string
		cfg   clip.Config
		texts [][]int
	}{
		{"quick_gelu", base, texts},
		{"legacy_eos_gelu", legacy, [][]int{{0, 7, 49, 3}, {0, 45, 12, 30, 49, 1}}},
	}
	root := t.TempDir()
	var dirs []string
	var built []*clip.Model
	var images []*tensor.Tensor
	for _, c := range cases {
		m, err := clip.New(c.cfg, r)
		if err != nil {
			t.Fatal(err)
		}
		reftest.Perturb(m, r, 0.2)
		m.LogitScale.Data()[0] = 2.3
		nn.Eval(m)
		dir := filepath.Join(root, c.name)
		if err := m.Save(dir); err != nil {
			t.Fatal(err)
		}
		x := tensor.Randn(r, 2, 3, 16, 16)
		reftest.Write(t, filepath.Join(dir, "inputs.safetensors"), map[string]*tensor.Tensor{
			"images": x, "ids": idsTensor(padded(c.texts, c.cfg.TextConfig.PadTokenID))})
		dirs, built, images = append(dirs, dir), append(built, m), append(images, x)
	}
	reftest.RunPython(t, filepath.Join("..", "testdata", "torch_models.py"), dirs...)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := reftest.Read(t, filepath.Join(dirs[i], "outputs.safetensors"))
			m, x := built[i], images[i]
			embeds, err := m.TokenEmbeddings(padded(c.texts, c.cfg.TextConfig.PadTokenID))
			if err != nil {
				t.Fatal(err)
			}
			eot, _ := m.TextModel.EOTPositions(c.texts)
			text, err := m.EncodeText(c.texts)
			if err != nil {
				t.Fatal(err)
			}
			logits, err := m.Forward(x, c.texts)
			if err != nil {
				t.Fatal(err)
			}
			for name, got := range map[string]*tensor.Tensor{
				"text_last_hidden_state":   m.TextModel.ForwardEmbeddings(embeds),
				"vision_last_hidden_state": m.VisionModel.Forward(x),
				"vision_pooled":            m.VisionModel.Pooled(x),
				"image_embeds":             m.EncodeImage(x),
				"text_embeds":              text,
				"logits_per_image":         logits,
			} {
				if ref[name] == nil {
					t.Fatalf("torch gives no %s", name)
				}
				reftest.Check(t, name, got, ref[name], parityTol)
			}
			reftest.Check(t, "text_embeds via EncodeTextEmbeddings", m.EncodeTextEmbeddings(embeds, eot), ref["text_embeds"], parityTol)
		})
	}
}

// TestSaveLoad saves a model in the Hugging Face layout and loads it back —
// identical logits — and loads a checkpoint that also stores the
// position_ids constants older Hugging Face versions wrote.
func TestSaveLoad(t *testing.T) {
	r := tensor.NewRNG(3)
	m, _ := clip.New(small(), r)
	reftest.Perturb(m, r, 0.2)
	nn.Eval(m)
	x := tensor.Randn(r, 2, 3, 16, 16)
	want, err := m.Forward(x, texts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := clip.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := back.Forward(x, texts)
	if d := reftest.MaxAbsDiff(t, "logits", got, want); d != 0 {
		t.Errorf("logits after the round trip differ by %g", d)
	}
	if back.Config.TextConfig.EosTokenID != 49 || back.Config.VisionConfig.PatchSize != 4 {
		t.Errorf("config after the round trip: %+v", back.Config)
	}

	entries, meta, err := safetensors.Load(filepath.Join(dir, hf.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	entries = append(entries,
		safetensors.Entry{Name: "text_model.embeddings.position_ids", Shape: []int{1, 12}, Data: make([]float32, 12)},
		safetensors.Entry{Name: "vision_model.embeddings.position_ids", Shape: []int{1, 17}, Data: make([]float32, 17)})
	if err := safetensors.Save(filepath.Join(dir, hf.WeightsFile), entries, meta); err != nil {
		t.Fatal(err)
	}
	withIDs, err := clip.Load(dir)
	if err != nil {
		t.Fatalf("a checkpoint with position_ids: %v", err)
	}
	got, _ = withIDs.Forward(x, texts)
	if d := reftest.MaxAbsDiff(t, "logits", got, want); d != 0 {
		t.Errorf("logits differ by %g after loading a checkpoint with position_ids", d)
	}
}

// TestLoadErrors checks that a checkpoint that does not fit its config, and
// a config without a required key, give errors naming the problem.
func TestLoadErrors(t *testing.T) {
	m, _ := clip.New(small(), tensor.NewRNG(4))
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, hf.ConfigFile)
	orig, _ := os.ReadFile(path)
	rewrite := func(old, new string) {
		if !strings.Contains(string(orig), old) {
			t.Fatalf("config.json has no %q:\n%s", old, orig)
		}
		os.WriteFile(path, []byte(strings.Replace(string(orig), old, new, 1)), 0o644)
	}
	rewrite(`"max_position_embeddings": 12`, `"max_position_embeddings": 16`)
	_, err := clip.Load(dir)
	var mm *hf.MismatchError
	if !errors.As(err, &mm) || len(mm.Shapes) != 1 || mm.Shapes[0].Name != "text_model.embeddings.position_embedding.weight" {
		t.Errorf("16 positions configured, 12 stored: error %v", err)
	}
	rewrite(`"projection_dim": 16,
  "logit_scale_init_value"`, `"logit_scale_init_value"`)
	if _, err := clip.Load(dir); err == nil || !strings.Contains(err.Error(), `"projection_dim"`) {
		t.Errorf("no projection_dim: error %v", err)
	}
	bad := small()
	bad.VisionConfig.NumAttentionHeads = 5
	if _, err := clip.New(bad, nil); err == nil || !strings.Contains(err.Error(), "vision_config.hidden_size = 24 is not divisible by num_attention_heads = 5") {
		t.Errorf("24 wide, 5 heads: error %v", err)
	}
}

func TestTextInputErrors(t *testing.T) {
	m, _ := clip.New(small(), tensor.NewRNG(5))
	for _, c := range []struct {
		ids  [][]int
		want string
	}{
		{[][]int{{48, 5, 6}}, "sequence 0 has no end-of-text token 49"},
		{[][]int{{48, 49}, {48, 50, 49}}, "token id 50 at position 1 of sequence 1 is outside the vocabulary of 50"},
		{[][]int{{48, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 49}}, "sequences of 13 tokens; the text encoder takes 1 to 12"},
	} {
		if _, err := m.EncodeText(c.ids); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.ids, err, c.want)
		}
	}
	if _, err := m.TokenEmbeddings([][]int{{1, 2}, {1}}); err == nil || !strings.Contains(err.Error(), "sequence 1 has 1 tokens, sequence 0 has 2") {
		t.Errorf("ragged TokenEmbeddings: error %v", err)
	}
}

// TestCausalText checks what the causal mask implies: a text's embedding
// depends only on the tokens up to its end-of-text token, so padding a batch
// (or changing anything after end-of-text) leaves each text's embedding as it
// is when encoded alone.
func TestCausalText(t *testing.T) {
	r := tensor.NewRNG(6)
	m, _ := clip.New(small(), r)
	reftest.Perturb(m, r, 0.2)
	batch, err := m.EncodeText(texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range texts {
		alone, _ := m.EncodeText([][]int{s})
		junk := append(append([]int(nil), s...), 7, 8, 9)
		trailing, _ := m.EncodeText([][]int{junk})
		row := batch.Slice(0, i, i+1)
		for what, x := range map[string]*tensor.Tensor{"alone": alone, "with tokens after end-of-text": trailing} {
			if d := reftest.MaxAbsDiff(t, what, x, row); d > 1e-6 {
				t.Errorf("text %d %s differs from its row in the batch by %g", i, what, d)
			}
		}
	}
	// A token before end-of-text does matter.
	changed := [][]int{{48, 6, 17, 49}}
	a, _ := m.EncodeText(changed)
	if d := reftest.MaxAbsDiff(t, "changed token", a, batch.Slice(0, 0, 1)); d < 1e-3 {
		t.Errorf("changing token 1 moved the embedding by only %g", d)
	}
}

// TestLogits checks logits_per_image against exp(logit_scale)·cos computed
// in float64 from the embeddings.
func TestLogits(t *testing.T) {
	r := tensor.NewRNG(7)
	m, _ := clip.New(small(), r)
	m.LogitScale.Data()[0] = 1.5
	img, txt := tensor.Randn(r, 3, 16), tensor.Randn(r, 2, 16)
	got := m.Logits(img, txt)
	if got.Dim(0) != 3 || got.Dim(1) != 2 {
		t.Fatalf("logits shape %v, want (3, 2)", got.Shape())
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 2; j++ {
			var dot, ni, nj float64
			for k := 0; k < 16; k++ {
				a, b := float64(img.At(i, k)), float64(txt.At(j, k))
				dot, ni, nj = dot+a*b, ni+a*a, nj+b*b
			}
			want := math.Exp(1.5) * dot / math.Sqrt(ni*nj)
			if math.Abs(float64(got.At(i, j))-want) > 1e-5 {
				t.Errorf("logit (%d,%d) = %g, want %g", i, j, got.At(i, j), want)
			}
		}
	}
}

// TestLearnedContext is how CoOp uses the model: context vectors replace the
// embeddings of placeholder tokens, the frozen encoders run, and the
// gradient reaches the context (and no frozen weight).
func TestLearnedContext(t *testing.T) {
	r := tensor.NewRNG(8)
	m, _ := clip.New(small(), r)
	reftest.Perturb(m, r, 0.2)
	nn.Freeze(m)
	// "[SOS] X X X class [EOT]" for two classes; X are placeholders.
	prompts := [][]int{{48, 3, 3, 3, 10, 49}, {48, 3, 3, 3, 11, 49}}
	embeds, err := m.TokenEmbeddings(prompts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := tensor.Randn(r, 1, 3, 32).Scale(0.02).SetRequiresGrad(true)
	full := tensor.Concat(1, embeds.Slice(1, 0, 1), ctx.BroadcastTo(2, 3, 32), embeds.Slice(1, 4, 6))
	eot, _ := m.TextModel.EOTPositions(prompts)
	logits := m.Logits(m.EncodeImage(tensor.Randn(r, 4, 3, 16, 16)), m.EncodeTextEmbeddings(full, eot))
	loss := nn.CrossEntropy(logits, []int{0, 1, 1, 0})
	loss.Backward()
	var norm float64
	for _, g := range ctx.Grad().Data() {
		norm += float64(g) * float64(g)
	}
	if norm == 0 || math.IsNaN(norm) {
		t.Errorf("the context's gradient norm² is %g", norm)
	}
	for _, p := range nn.NamedParameters(m) {
		if p.Tensor.Grad() != nil {
			t.Errorf("frozen %s got a gradient", p.Name)
		}
	}
}

// TestReadConfig reads configs in the shapes transformers has written them:
// nested keys missing (Hugging Face's defaults fill them), *_config_dict
// null, and *_config_dict overriding text_config and vision_config.
func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, json string
		check      func(c clip.Config) bool
	}{
		{"defaults", `{"projection_dim": 512, "text_config": {}, "vision_config": {"patch_size": 16},
			"text_config_dict": null, "vision_config_dict": null, "unknown_key": [1, 2]}`,
			func(c clip.Config) bool {
				return c.TextConfig.VocabSize == 49408 && c.TextConfig.EosTokenID == 49407 && c.VisionConfig.PatchSize == 16 &&
					c.VisionConfig.HiddenSize == 768 && c.LogitScaleInitValue == 2.6592
			}},
		{"legacy dicts", `{"projection_dim": 768, "text_config": {"hidden_size": 512, "eos_token_id": 2},
			"text_config_dict": {"hidden_size": 768, "num_attention_heads": 12},
			"vision_config": {}, "vision_config_dict": {"hidden_size": 1024, "num_attention_heads": 16, "patch_size": 14}}`,
			func(c clip.Config) bool {
				return c.TextConfig.HiddenSize == 768 && c.TextConfig.NumAttentionHeads == 12 && c.TextConfig.EosTokenID == 2 &&
					c.VisionConfig.HiddenSize == 1024 && c.VisionConfig.PatchSize == 14 && c.ProjectionDim == 768
			}},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".json")
		os.WriteFile(path, []byte(c.json), 0o644)
		cfg, err := clip.ReadConfig(path)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !c.check(cfg) {
			t.Errorf("%s: read %+v", c.name, cfg)
		}
	}
	path := filepath.Join(dir, "bad.json")
	os.WriteFile(path, []byte(`{"projection_dim": 512, "text_config": {}, "vision_config": {}, "text_config_dict": {"hidden_size": "wide"}}`), 0o644)
	if _, err := clip.ReadConfig(path); err == nil || !strings.Contains(err.Error(), "text_config_dict") {
		t.Errorf("a string hidden_size in text_config_dict: error %v", err)
	}
}
