package peft

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/models/bert"
	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

func promptGPT2(t *testing.T, seed uint64) *gpt2.Model {
	t.Helper()
	c := gpt2.Small()
	c.VocabSize, c.NPositions, c.NEmbd, c.NLayer, c.NHead = 30, 16, 8, 2, 2
	c.EmbdPdrop, c.AttnPdrop, c.ResidPdrop = 0, 0, 0
	m, err := gpt2.New(c, tensor.NewRNG(seed))
	if err != nil {
		t.Fatal(err)
	}
	// Larger weights than GPT-2's 0.02 so that every term matters.
	for _, p := range nn.Parameters(m) {
		if p.Dims() == 2 {
			p.CopyFrom(tensor.Randn(tensor.NewRNG(seed+uint64(p.Len())), p.Shape()...).Scale(0.5))
		}
	}
	return m
}

func promptBERT(t *testing.T, seed uint64) *bert.Classifier {
	t.Helper()
	c := bert.Base()
	c.VocabSize, c.MaxPositionEmbeddings, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 30, 16, 8, 2, 2, 12
	c.TypeVocabSize = 2
	c.HiddenDropoutProb, c.AttentionProbsDropoutProb = 0, 0
	m, err := bert.NewClassifier(c, 3, tensor.NewRNG(seed))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range nn.Parameters(m) {
		if p.Dims() == 2 {
			p.CopyFrom(tensor.Randn(tensor.NewRNG(seed+uint64(p.Len())), p.Shape()...).Scale(0.5))
		}
	}
	return m
}

func idsTensor(rows ...[]int) *tensor.Tensor {
	var d []float32
	for _, r := range rows {
		for _, v := range r {
			d = append(d, float32(v))
		}
	}
	return tensor.New(d, len(rows), len(rows[0]))
}

func concatIDs(prefix []int, rows ...[]int) *tensor.Tensor {
	var out [][]int
	for _, r := range rows {
		out = append(out, append(slices.Clone(prefix), r...))
	}
	return idsTensor(out...)
}

// TestPromptTuningIsTheModelOnPrependedTokens: a prompt initialised from
// token ids T makes the model on X compute what the base model computes on
// T followed by X, at X's positions (GPT-2 logits, BERT hidden states) and,
// for the BERT classifier, from the pooled first (virtual) position as PEFT.
func TestPromptTuningIsTheModelOnPrependedTokens(t *testing.T) {
	init := []int{3, 7, 11}
	x := [][]int{{1, 2, 5, 9}, {4, 4, 0, 8}}
	cfg := PromptTuningConfig{NumVirtualTokens: 3, InitTokenIDs: init, InitText: "three tokens"}

	g := promptGPT2(t, 1)
	want := g.ForwardLogits(concatIDs(init, x...)).Slice(1, 3, 7)
	p, err := InjectPrompt(g, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(p.Forward(idsTensor(x...)), want); d > 1e-5 {
		t.Errorf("GPT-2: prompt-tuned logits differ from the model on the prepended tokens by %g", d)
	}
	// Padding: row 1 has two real tokens; its real positions match the
	// base model on T + those two tokens.
	got := p.ForwardMask(idsTensor(x...), []int{4, 2})
	want2 := promptGPT2(t, 1).ForwardLogits(concatIDs(init, x[1][:2]))
	if d := maxAbsDiff(got.Index(0, 1).Slice(0, 0, 2), want2.Index(0, 0).Slice(0, 3, 5)); d > 1e-5 {
		t.Errorf("GPT-2 padded row differs by %g", d)
	}

	c := promptBERT(t, 2)
	tt := idsTensor([]int{0, 0, 1, 1}, []int{0, 1, 1, 1})
	wantSeq, _ := c.Bert.Encode(bert.Input{IDs: concatIDs(init, x...), TokenTypes: tt.Pad(1, 3, 0, 0)})
	wantLogits := c.Logits(bert.Input{IDs: concatIDs(init, x...), TokenTypes: tt.Pad(1, 3, 0, 0), Lengths: []int{7, 6}})
	pc, err := InjectPrompt(c, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(pc.ForwardBERT(bert.Input{IDs: idsTensor(x...), TokenTypes: tt, Lengths: []int{4, 3}}), wantLogits); d > 1e-5 {
		t.Errorf("BERT classifier: logits differ by %g", d)
	}
	pb := &PromptModel{Base: c.Bert, Encoder: pc.Encoder, method: pc.method, adapter: "default", dims: pc.dims}
	if d := maxAbsDiff(pb.ForwardBERT(bert.Input{IDs: idsTensor(x...), TokenTypes: tt}), wantSeq.Slice(1, 3, 7)); d > 1e-5 {
		t.Errorf("BERT: hidden states differ by %g", d)
	}
}

// gpt2PastKV runs GPT-2 on ids (1, P) block by block and returns, per layer,
// the keys and values of its positions laid out as PEFT's prefix table
// (P, layers·2·width).
func gpt2PastKV(m *gpt2.Model, ids []int) *tensor.Tensor {
	n, d := len(ids), m.Config.NEmbd
	x := m.Wte.Forward(idsTensor(ids)).Add(m.Wpe.Weight.Slice(0, 0, n))
	var cols []*tensor.Tensor
	for _, b := range m.H {
		qkv := b.Attn.CAttn.Forward(b.Ln1.Forward(x)).Split(2, d, d, d)
		cols = append(cols, qkv[1].Index(0, 0), qkv[2].Index(0, 0))
		x = b.Forward(x, nn.CausalMask(n))
	}
	return tensor.Concat(1, cols...)
}

// TestPrefixTuningIsPastKeyValues: prefixes equal to the keys and values
// GPT-2 computes for tokens T make it compute on X what it computes on T
// followed by X (positions counted after the prefix, as Hugging Face does
// after past_key_values).
func TestPrefixTuningIsPastKeyValues(t *testing.T) {
	g := promptGPT2(t, 3)
	T := []int{5, 6, 7}
	x := [][]int{{1, 2, 3, 4}, {9, 8, 7, 6}}
	want := g.ForwardLogits(concatIDs(T, x...)).Slice(1, 3, 7)
	table := gpt2PastKV(g, T)
	p, err := InjectPrompt(g, "", PrefixTuningConfig{NumVirtualTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	p.PromptEncoder().Embedding.Weight.CopyFrom(table)
	if d := maxAbsDiff(p.Forward(idsTensor(x...)), want); d > 1e-4 {
		t.Errorf("prefix-tuned logits differ from the model on the prepended tokens by %g", d)
	}
	if g.H[0].Attn.PrefixKey != nil {
		t.Error("the prefix hook is left set after Forward")
	}
}

// TestPrefixAttentionByHand checks BERT's attention with a prefix against
// softmax(q·[pk; k]ᵀ/√e + mask)·[pv; v] computed element by element.
func TestPrefixAttentionByHand(t *testing.T) {
	c := promptBERT(t, 4)
	a := c.Bert.Encoder.Layer[0].Attention.Self
	r := tensor.NewRNG(9)
	const n, l, p, h, e = 2, 3, 2, 2, 4
	x := tensor.Randn(r, n, l, h*e)
	a.PrefixKey, a.PrefixValue = tensor.Randn(r, h, p, e), tensor.Randn(r, h, p, e)
	defer func() { a.PrefixKey, a.PrefixValue = nil, nil }()
	lengths := []int{3, 2}
	got := a.Forward(x, nn.PaddingMask(lengths, l))
	q, k, v := a.Query.Forward(x), a.Key.Forward(x), a.Value.Forward(x)
	for b := range n {
		for hd := range h {
			for i := range l {
				var keys, vals [][]float64
				for j := range p {
					var kk, vv []float64
					for c := range e {
						kk = append(kk, float64(a.PrefixKey.At(hd, j, c)))
						vv = append(vv, float64(a.PrefixValue.At(hd, j, c)))
					}
					keys, vals = append(keys, kk), append(vals, vv)
				}
				for j := range lengths[b] {
					var kk, vv []float64
					for c := range e {
						kk = append(kk, float64(k.At(b, j, hd*e+c)))
						vv = append(vv, float64(v.At(b, j, hd*e+c)))
					}
					keys, vals = append(keys, kk), append(vals, vv)
				}
				var s []float64
				sum, mx := 0.0, math.Inf(-1)
				for _, kk := range keys {
					dot := 0.0
					for c := range e {
						dot += float64(q.At(b, i, hd*e+c)) * kk[c]
					}
					s = append(s, dot/math.Sqrt(e))
					mx = math.Max(mx, dot/math.Sqrt(e))
				}
				for j := range s {
					s[j] = math.Exp(s[j] - mx)
					sum += s[j]
				}
				for c := range e {
					want := 0.0
					for j := range s {
						want += s[j] / sum * vals[j][c]
					}
					if g := float64(got.At(b, i, hd*e+c)); math.Abs(g-want) > 1e-5 {
						t.Fatalf("row %d head %d position %d dim %d: %g, by hand %g", b, hd, i, c, g, want)
					}
				}
			}
		}
	}
}

// TestUnusedPrefixHookIsBitIdentical: an empty prefix, and a model after
// Unload, compute exactly what the model computed before.
func TestUnusedPrefixHookIsBitIdentical(t *testing.T) {
	g := promptGPT2(t, 5)
	c := promptBERT(t, 6)
	ids := idsTensor([]int{1, 2, 3, 4}, []int{5, 6, 7, 8})
	lengths := []int{4, 3}
	g0 := g.ForwardMask(ids, lengths).Data()
	b0 := c.Logits(bert.Input{IDs: ids, Lengths: lengths}).Data()
	for _, b := range g.H {
		b.Attn.PrefixKey, b.Attn.PrefixValue = tensor.Zeros(2, 0, 4), tensor.Zeros(2, 0, 4)
	}
	for _, l := range c.Bert.Encoder.Layer {
		l.Attention.Self.PrefixKey, l.Attention.Self.PrefixValue = tensor.Zeros(2, 0, 4), tensor.Zeros(2, 0, 4)
	}
	if !slices.Equal(g.ForwardMask(ids, lengths).Data(), g0) {
		t.Error("GPT-2 with an empty prefix differs")
	}
	if !slices.Equal(c.Logits(bert.Input{IDs: ids, Lengths: lengths}).Data(), b0) {
		t.Error("BERT with an empty prefix differs")
	}
	for _, cfg := range []PromptMethod{PromptTuningConfig{NumVirtualTokens: 2}, PrefixTuningConfig{NumVirtualTokens: 2, PrefixProjection: true, EncoderHiddenSize: 5}} {
		g, c := promptGPT2(t, 5), promptBERT(t, 6)
		pg, err := InjectPrompt(g, "", cfg)
		if err != nil {
			t.Fatal(err)
		}
		pc, err := InjectPrompt(c, "", cfg)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(pg.ForwardMask(ids, lengths).Data(), g.Logits(g.ForwardMask(ids, lengths)).Data()) {
			t.Errorf("%s: the adapter does not change GPT-2's logits", cfg.PeftType())
		}
		pg.WithDisabled(func() {
			if !slices.Equal(pg.ForwardMask(ids, lengths).Data(), g.Logits(g.ForwardMask(ids, lengths)).Data()) {
				t.Errorf("%s: disabled, GPT-2's logits differ from the base model's", cfg.PeftType())
			}
		})
		pc.Disable()
		if !slices.Equal(pc.ForwardBERT(bert.Input{IDs: ids, Lengths: lengths}).Data(), b0) {
			t.Errorf("%s: disabled, BERT's logits differ from the base model's", cfg.PeftType())
		}
		pc.Enable()
		if slices.Equal(pc.ForwardBERT(bert.Input{IDs: ids, Lengths: lengths}).Data(), b0) {
			t.Errorf("%s: enabled again, the adapter does not change BERT's logits", cfg.PeftType())
		}
		if !slices.Equal(pg.Unload().(*gpt2.Model).ForwardMask(ids, lengths).Data(), g0) {
			t.Errorf("%s: GPT-2 after Unload differs", cfg.PeftType())
		}
		if !slices.Equal(pc.Unload().(*bert.Classifier).Logits(bert.Input{IDs: ids, Lengths: lengths}).Data(), b0) {
			t.Errorf("%s: BERT after Unload differs", cfg.PeftType())
		}
	}
}

// TestPromptGradients checks the prompt's gradients (and the prefix MLP's)
// by finite differences, and that only the prompt trains.
func TestPromptGradients(t *testing.T) {
	ids := idsTensor([]int{1, 2, 3}, []int{4, 5, 6})
	lengths := []int{3, 2}
	cases := []struct {
		name  string
		model nn.Module
		cfg   PromptMethod
	}{
		{"gpt2 prompt", promptGPT2(t, 7), PromptTuningConfig{NumVirtualTokens: 2, Seed: 1}},
		{"gpt2 prefix", promptGPT2(t, 7), PrefixTuningConfig{NumVirtualTokens: 2, Seed: 2}},
		{"gpt2 prefix mlp", promptGPT2(t, 7), PrefixTuningConfig{NumVirtualTokens: 2, PrefixProjection: true, EncoderHiddenSize: 3, Seed: 3}},
		{"bert prompt", promptBERT(t, 8), PromptTuningConfig{NumVirtualTokens: 2, Seed: 4}},
		{"bert prefix", promptBERT(t, 8), PrefixTuningConfig{NumVirtualTokens: 2, Seed: 5}},
	}
	for _, tc := range cases {
		p, err := InjectPrompt(tc.model, "", tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range nn.Parameters(p.PromptEncoder()) {
			w.CopyFrom(w.Scale(0.3)) // keep tanh and softmax away from saturation
		}
		trainable := nn.TrainableParameters(p)
		if enc := nn.Parameters(p.PromptEncoder()); len(trainable) != len(enc) {
			t.Errorf("%s: %d trainable tensors, the prompt encoder has %d", tc.name, len(trainable), len(enc))
		}
		for i, w := range trainable {
			if w != nn.Parameters(p.PromptEncoder())[i] {
				t.Errorf("%s: trainable tensor %d is not the prompt encoder's", tc.name, i)
			}
		}
		f := func(...*tensor.Tensor) *tensor.Tensor { return p.ForwardMask(ids, lengths) }
		if err := tensor.GradCheck(f, trainable, tensor.GradCheckOptions{Eps: 1e-2, Atol: 2e-3, Rtol: 2e-2}); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		p.ForwardMask(ids, lengths).Sum().Backward()
		for _, w := range nn.Parameters(tc.model) {
			if w.Grad() != nil {
				t.Errorf("%s: a frozen base parameter %v got a gradient", tc.name, w.Shape())
				break
			}
		}
	}
}

// TestPromptSaveLoad: the saved files are PEFT's (prompt_embeddings, the
// projected table for prefix tuning) and a reload computes the same outputs.
func TestPromptSaveLoad(t *testing.T) {
	ids := idsTensor([]int{1, 2, 3}, []int{4, 5, 6})
	for i, cfg := range []PromptMethod{
		PromptTuningConfig{NumVirtualTokens: 3, InitTokenIDs: []int{4, 5}, InitText: "hi"},
		PrefixTuningConfig{NumVirtualTokens: 2},
		PrefixTuningConfig{NumVirtualTokens: 2, PrefixProjection: true, EncoderHiddenSize: 6},
	} {
		for _, mk := range []func() nn.Module{func() nn.Module { return promptGPT2(t, 10) }, func() nn.Module { return promptBERT(t, 11) }} {
			dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
			p, err := InjectPrompt(mk(), "", cfg)
			if err != nil {
				t.Fatal(err)
			}
			want := p.Forward(ids)
			if err := p.Save(dir); err != nil {
				t.Fatal(err)
			}
			entries, _, err := safetensors.Load(filepath.Join(dir, WeightsFile))
			if err != nil {
				t.Fatal(err)
			}
			width := 8
			if cfg.PeftType() == "PREFIX_TUNING" {
				width = 2 * 2 * 8
			}
			if len(entries) != 1 || entries[0].Name != PromptKey || !slices.Equal(entries[0].Shape, []int{cfg.VirtualTokens(), width}) {
				t.Fatalf("%s: saved %v", cfg.PeftType(), entries)
			}
			raw, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
			var js map[string]any
			if err := json.Unmarshal(raw, &js); err != nil {
				t.Fatal(err)
			}
			if js["peft_type"] != cfg.PeftType() || js["token_dim"] != 8.0 || js["num_layers"] != 2.0 || js["num_attention_heads"] != 2.0 ||
				js["num_virtual_tokens"] != float64(cfg.VirtualTokens()) || js["inference_mode"] != true {
				t.Errorf("config %s", raw)
			}
			if pt, ok := cfg.(PromptTuningConfig); ok && (js["prompt_tuning_init"] != PromptInitText || js["prompt_tuning_init_text"] != pt.InitText) {
				t.Errorf("config %s", raw)
			}
			q, err := LoadPrompt(mk(), dir, "")
			if err != nil {
				t.Fatal(err)
			}
			if q.PromptEncoder().Transform != nil {
				t.Error("a loaded prefix adapter keeps its MLP")
			}
			if d := maxAbsDiff(q.Forward(ids), want); d > 1e-6 {
				t.Errorf("%s %T: reloaded outputs differ by %g", cfg.PeftType(), q.Base, d)
			}
		}
	}
}

// TestPromptErrors: unsupported models, bad configurations and mismatched
// files are errors naming the numbers; the model is left as it was.
func TestPromptErrors(t *testing.T) {
	g := promptGPT2(t, 12)
	before := snap(g)
	check := func(err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to mention %q", err, want)
		}
	}
	_, err := InjectPrompt(newToy(1), "", PromptTuningConfig{NumVirtualTokens: 2})
	check(err, "not *peft.toy")
	_, err = InjectPrompt(g, "", PromptTuningConfig{})
	check(err, "num_virtual_tokens > 0, not 0")
	_, err = InjectPrompt(g, "", PromptTuningConfig{NumVirtualTokens: 2, InitTokenIDs: []int{1, 30}})
	check(err, "id 30) is outside the vocabulary of 30")
	_, err = InjectPrompt(g, "", PromptTuningConfig{NumVirtualTokens: 16})
	check(err, "16 virtual tokens leave no room")
	_, err = InjectPrompt(g, "", PrefixTuningConfig{NumVirtualTokens: 2, TokenDim: 768})
	check(err, "token_dim = 768, the *gpt2.Model has 8")
	before.same(t, g)
	dir := t.TempDir()
	p, err := InjectPrompt(promptBERT(t, 13), "", PrefixTuningConfig{NumVirtualTokens: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Save(dir); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load(g, dir, "")
	check(err, "prompt-learning method: use ParsePromptConfig, LoadPrompt")
	for _, bad := range []struct{ from, to, want string }{
		{`"token_dim": 8`, `"token_dim": 16`, "token_dim = 16, the *gpt2.Model has 8"},
		{`"num_virtual_tokens": 2`, `"num_virtual_tokens": 3`, "prompt_embeddings has shape (2,32) in the file, the model needs (3,32)"},
	} {
		if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(strings.Replace(string(raw), bad.from, bad.to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = LoadPrompt(g, dir, "")
		check(err, bad.want)
		before.same(t, g)
	}
}

// TestPromptCounts checks the trainable-parameter counts by formula on
// GPT-2 small (20 virtual tokens): P·768 for prompt tuning, P·12·2·768 for
// prefix tuning, plus the MLP with prefix_projection.
func TestPromptCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds GPT-2 small")
	}
	g, err := gpt2.New(gpt2.Small(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const base = 124_439_808
	const d, l, n, e = 768, 12, 20, 512
	for _, tc := range []struct {
		cfg  PromptMethod
		want int
	}{
		{PromptTuningConfig{NumVirtualTokens: n}, 15_360},
		{PrefixTuningConfig{NumVirtualTokens: n}, n * l * 2 * d},
		{PrefixTuningConfig{NumVirtualTokens: n, PrefixProjection: true, EncoderHiddenSize: e}, n*d + d*e + e + e*l*2*d + l*2*d},
	} {
		p, err := InjectPrompt(g, "", tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		s := p.Summary()
		if s.Trainable != tc.want || s.Total != base+tc.want {
			t.Errorf("%s: trainable %d of %d, want %d of %d", tc.cfg.PeftType(), s.Trainable, s.Total, tc.want, base+tc.want)
		}
		p.Unload()
	}
}

// TestPromptTrains: SGD on a next-token loss lowers it by moving the prompt
// only; the base model's weights stay bit for bit as they were.
func TestPromptTrains(t *testing.T) {
	for _, cfg := range []PromptMethod{PromptTuningConfig{NumVirtualTokens: 2, Seed: 1}, PrefixTuningConfig{NumVirtualTokens: 2, PrefixProjection: true, EncoderHiddenSize: 4, Seed: 2}} {
		g := promptGPT2(t, 14)
		p, err := InjectPrompt(g, "", cfg)
		if err != nil {
			t.Fatal(err)
		}
		base := snap(g)
		var names []string
		for _, pi := range p.Summary().Params {
			if pi.Trainable {
				names = append(names, pi.Name+"@"+pi.Adapter)
			}
		}
		want := []string{"prompt_encoder.default.embedding.weight@default"}
		if cfg.PeftType() == "PREFIX_TUNING" {
			for _, n := range []string{"transform.0.weight", "transform.0.bias", "transform.2.weight", "transform.2.bias"} {
				want = append(want, "prompt_encoder.default."+n+"@default")
			}
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: trainable %q, want %q", cfg.PeftType(), names, want)
		}
		ids := idsTensor([]int{1, 2, 3, 4, 5})
		target := tensor.OneHot([]int{2, 3, 4, 5, 6}, 30)
		loss := func() *tensor.Tensor {
			return p.Forward(ids).Reshape(5, 30).LogSoftmax(1).Mul(target).Sum().Scale(-1.0 / 5)
		}
		opt, err := optim.NewSGD(nn.TrainableParameters(p), optim.SGDConfig{LR: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		first := loss().Item()
		for range 30 {
			opt.ZeroGrad()
			l := loss()
			l.Backward()
			opt.Step()
		}
		if last := loss().Item(); !(last < first-0.1) {
			t.Errorf("%s: loss %g → %g after 30 steps", cfg.PeftType(), first, last)
		}
		base.same(t, g)
	}
}

// TestParsePEFTPromptConfigs reads adapter_config.json files as PEFT writes
// them and writes the same values back.
func TestParsePEFTPromptConfigs(t *testing.T) {
	prompt := `{"auto_mapping": null, "base_model_name_or_path": "gpt2", "inference_mode": true, "num_attention_heads": 12,
"num_layers": 12, "num_transformer_submodules": 1, "num_virtual_tokens": 20, "peft_type": "PROMPT_TUNING",
"prompt_tuning_init": "TEXT", "prompt_tuning_init_text": "Classify if the tweet is a complaint or not:", "revision": null,
"task_type": "CAUSAL_LM", "token_dim": 768, "tokenizer_kwargs": null, "tokenizer_name_or_path": "gpt2"}`
	prefix := `{"auto_mapping": null, "base_model_name_or_path": "bert-base-uncased", "encoder_hidden_size": 512, "inference_mode": true,
"num_attention_heads": 12, "num_layers": 12, "num_transformer_submodules": 1, "num_virtual_tokens": 20,
"peft_type": "PREFIX_TUNING", "prefix_projection": true, "revision": null, "task_type": "SEQ_CLS", "token_dim": 768}`
	for _, tc := range []struct {
		js   string
		want PromptMethod
	}{
		{prompt, PromptTuningConfig{NumVirtualTokens: 20, InitText: "Classify if the tweet is a complaint or not:", TokenizerNameOrPath: "gpt2",
			TaskType: "CAUSAL_LM", BaseModelNameOrPath: "gpt2", TokenDim: 768, NumLayers: 12, NumAttentionHeads: 12}},
		{prefix, PrefixTuningConfig{NumVirtualTokens: 20, PrefixProjection: true, EncoderHiddenSize: 512, TaskType: "SEQ_CLS",
			BaseModelNameOrPath: "bert-base-uncased", TokenDim: 768, NumLayers: 12, NumAttentionHeads: 12}},
	} {
		m, err := ParsePromptConfig([]byte(tc.js))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%#v", m) != fmt.Sprintf("%#v", tc.want) {
			t.Errorf("parsed\n%#v\nwant\n%#v", m, tc.want)
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var got, orig map[string]any
		_ = json.Unmarshal(out, &got)
		_ = json.Unmarshal([]byte(tc.js), &orig)
		for k, v := range got {
			if k != "inference_mode" && fmt.Sprint(orig[k]) != fmt.Sprint(v) {
				t.Errorf("%s: %s = %v written, PEFT's file has %v", m.PeftType(), k, v, orig[k])
			}
		}
	}
	_, err := ParsePromptConfig([]byte(`{"peft_type": "PREFIX_TUNING", "num_virtual_tokens": 4, "num_transformer_submodules": 2}`))
	if err == nil || !strings.Contains(err.Error(), "num_transformer_submodules = 2") {
		t.Errorf("encoder-decoder config: %v", err)
	}
}
