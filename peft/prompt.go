package peft

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/models/bert"
	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// PEFT's prompt_tuning_init values.
const (
	PromptInitRandom = "RANDOM"
	PromptInitText   = "TEXT"
)

// PromptKey is the one key of a saved prompt adapter's
// adapter_model.safetensors, as PEFT writes it.
const PromptKey = "prompt_embeddings"

// PromptMethod is the configuration of a prompt-learning method (soft prompt
// or prefix tuning): such a method adds no wrapper around a layer but
// learned virtual tokens, so it is applied with InjectPrompt, not Inject.
type PromptMethod interface {
	json.Marshaler
	// PeftType is PEFT's name for the method ("PROMPT_TUNING").
	PeftType() string
	// Validate checks the configuration on its own.
	Validate() error
	// VirtualTokens is the number of virtual tokens (num_virtual_tokens).
	VirtualTokens() int
}

// PromptTuningConfig is PEFT's PromptTuningConfig (Lester et al. 2021): the
// base model frozen, NumVirtualTokens learned embeddings prepended to every
// sequence's token embeddings. With InitTokenIDs they start as copies of
// those tokens' embeddings, repeated or cut to NumVirtualTokens (PEFT's
// prompt_tuning_init "TEXT", the ids standing for the tokenised
// InitText); otherwise from N(0, 1) ("RANDOM", as torch.nn.Embedding).
type PromptTuningConfig struct {
	NumVirtualTokens    int
	InitTokenIDs        []int  // TEXT initialisation: the ids of InitText's tokens
	InitText            string // prompt_tuning_init_text, recorded in the configuration
	TokenizerNameOrPath string
	TaskType            string // PEFT's task_type; "" is filled from the model
	BaseModelNameOrPath string
	Seed                uint64 // random initialisation
	// Filled by InjectPrompt from the model (PEFT's token_dim, num_layers,
	// num_attention_heads); a loaded configuration's values are checked.
	TokenDim, NumLayers, NumAttentionHeads int
}

// PrefixTuningConfig is PEFT's PrefixTuningConfig (Li & Liang 2021): the
// base model frozen, each attention layer attends to NumVirtualTokens learned
// keys and values before the sequence's own. The prefixes of all layers are
// rows of one (NumVirtualTokens, layers·2·width) table; with PrefixProjection
// the table is computed, during training, by a two-layer MLP
// (Linear(width, EncoderHiddenSize), tanh, Linear(EncoderHiddenSize,
// layers·2·width)) from a (NumVirtualTokens, width) embedding, and saved
// (and loaded) as its output, as PEFT does.
type PrefixTuningConfig struct {
	NumVirtualTokens    int
	PrefixProjection    bool
	EncoderHiddenSize   int // the MLP's hidden width (PEFT's default 768 when 0)
	TaskType            string
	BaseModelNameOrPath string
	Seed                uint64
	// Filled by InjectPrompt from the model; a loaded configuration's values
	// are checked.
	TokenDim, NumLayers, NumAttentionHeads int
}

// PeftType returns "PROMPT_TUNING".
func (PromptTuningConfig) PeftType() string { return "PROMPT_TUNING" }

// PeftType returns "PREFIX_TUNING".
func (PrefixTuningConfig) PeftType() string { return "PREFIX_TUNING" }

// VirtualTokens returns NumVirtualTokens.
func (c PromptTuningConfig) VirtualTokens() int { return c.NumVirtualTokens }

// VirtualTokens returns NumVirtualTokens.
func (c PrefixTuningConfig) VirtualTokens() int { return c.NumVirtualTokens }

// Validate checks the configuration on its own.
func (c PromptTuningConfig) Validate() error {
	if c.NumVirtualTokens <= 0 {
		return fmt.Errorf("peft: prompt tuning needs num_virtual_tokens > 0, not %d", c.NumVirtualTokens)
	}
	return nil
}

// Validate checks the configuration on its own.
func (c PrefixTuningConfig) Validate() error {
	if c.NumVirtualTokens <= 0 {
		return fmt.Errorf("peft: prefix tuning needs num_virtual_tokens > 0, not %d", c.NumVirtualTokens)
	}
	if c.EncoderHiddenSize < 0 {
		return fmt.Errorf("peft: prefix tuning needs encoder_hidden_size ≥ 0, not %d", c.EncoderHiddenSize)
	}
	return nil
}

func (c PrefixTuningConfig) encoderHidden() int {
	if c.EncoderHiddenSize == 0 {
		return 768
	}
	return c.EncoderHiddenSize
}

// promptJSON is adapter_config.json for the prompt-learning methods.
type promptJSON struct {
	PeftType                 string  `json:"peft_type"`
	TaskType                 *string `json:"task_type"`
	BaseModelNameOrPath      *string `json:"base_model_name_or_path"`
	Revision                 *string `json:"revision"`
	InferenceMode            bool    `json:"inference_mode"`
	NumVirtualTokens         int     `json:"num_virtual_tokens"`
	TokenDim                 *int    `json:"token_dim"`
	NumTransformerSubmodules *int    `json:"num_transformer_submodules"`
	NumAttentionHeads        *int    `json:"num_attention_heads"`
	NumLayers                *int    `json:"num_layers"`
	PromptTuningInit         string  `json:"prompt_tuning_init,omitempty"`
	PromptTuningInitText     *string `json:"prompt_tuning_init_text,omitempty"`
	TokenizerNameOrPath      *string `json:"tokenizer_name_or_path,omitempty"`
	EncoderHiddenSize        *int    `json:"encoder_hidden_size,omitempty"`
	PrefixProjection         *bool   `json:"prefix_projection,omitempty"`
}

func optInt(v int) *int {
	if v == 0 {
		return nil
	}
	return &v
}

func intOr0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func promptHead(peftType, task, base string, n, dim, layers, heads int) promptJSON {
	one := 1
	return promptJSON{PeftType: peftType, TaskType: optString(task), BaseModelNameOrPath: optString(base),
		NumVirtualTokens: n, TokenDim: optInt(dim), NumTransformerSubmodules: &one,
		NumAttentionHeads: optInt(heads), NumLayers: optInt(layers)}
}

// MarshalJSON writes the configuration as PEFT's adapter_config.json.
func (c PromptTuningConfig) MarshalJSON() ([]byte, error) {
	j := promptHead(c.PeftType(), c.TaskType, c.BaseModelNameOrPath, c.NumVirtualTokens, c.TokenDim, c.NumLayers, c.NumAttentionHeads)
	j.PromptTuningInit = PromptInitRandom
	if len(c.InitTokenIDs) > 0 || c.InitText != "" {
		j.PromptTuningInit = PromptInitText
	}
	j.PromptTuningInitText = optString(c.InitText)
	j.TokenizerNameOrPath = optString(c.TokenizerNameOrPath)
	return json.Marshal(j)
}

// MarshalJSON writes the configuration as PEFT's adapter_config.json.
func (c PrefixTuningConfig) MarshalJSON() ([]byte, error) {
	j := promptHead(c.PeftType(), c.TaskType, c.BaseModelNameOrPath, c.NumVirtualTokens, c.TokenDim, c.NumLayers, c.NumAttentionHeads)
	h := c.encoderHidden()
	j.EncoderHiddenSize = &h
	j.PrefixProjection = &c.PrefixProjection
	return json.Marshal(j)
}

// ParsePromptConfig reads an adapter_config.json of peft_type
// "PROMPT_TUNING" or "PREFIX_TUNING".
func ParsePromptConfig(data []byte) (PromptMethod, error) {
	var j promptJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("peft: adapter config: %v", err)
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if j.NumTransformerSubmodules != nil && *j.NumTransformerSubmodules != 1 {
		return nil, fmt.Errorf("peft: adapter config: num_transformer_submodules = %d; graft's models have 1", *j.NumTransformerSubmodules)
	}
	var m PromptMethod
	switch j.PeftType {
	case "PROMPT_TUNING":
		m = PromptTuningConfig{NumVirtualTokens: j.NumVirtualTokens, InitText: deref(j.PromptTuningInitText),
			TokenizerNameOrPath: deref(j.TokenizerNameOrPath), TaskType: deref(j.TaskType), BaseModelNameOrPath: deref(j.BaseModelNameOrPath),
			TokenDim: intOr0(j.TokenDim), NumLayers: intOr0(j.NumLayers), NumAttentionHeads: intOr0(j.NumAttentionHeads)}
	case "PREFIX_TUNING":
		c := PrefixTuningConfig{NumVirtualTokens: j.NumVirtualTokens, EncoderHiddenSize: intOr0(j.EncoderHiddenSize),
			TaskType: deref(j.TaskType), BaseModelNameOrPath: deref(j.BaseModelNameOrPath),
			TokenDim: intOr0(j.TokenDim), NumLayers: intOr0(j.NumLayers), NumAttentionHeads: intOr0(j.NumAttentionHeads)}
		if j.PrefixProjection != nil {
			c.PrefixProjection = *j.PrefixProjection
		}
		m = c
	default:
		return nil, fmt.Errorf("peft: adapter config: peft_type %q is not a prompt-learning method (PROMPT_TUNING, PREFIX_TUNING)", j.PeftType)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// PromptEncoder holds a prompt adapter's parameters (PEFT's
// prompt_encoder.<adapter>): the embedding table of the virtual tokens and,
// for prefix tuning with prefix_projection while training, the MLP
// (transform.0, tanh, transform.2) it passes through.
type PromptEncoder struct {
	Embedding *nn.Embedding `nn:"embedding"`
	Transform *PrefixMLP    `nn:"transform"`
	adapter   string
}

// PrefixMLP is prefix tuning's reparameterisation: Out(tanh(In(x))).
type PrefixMLP struct {
	In  *nn.Linear `nn:"0"`
	Out *nn.Linear `nn:"2"`
}

// AdapterName attributes every parameter to the encoder's adapter.
func (e *PromptEncoder) AdapterName(string) string { return e.adapter }

// Output returns the virtual tokens' vectors: (P, width) for prompt tuning,
// (P, layers·2·width) for prefix tuning (PEFT's prompt_embeddings).
func (e *PromptEncoder) Output() *tensor.Tensor {
	x := e.Embedding.Weight
	if e.Transform != nil {
		x = e.Transform.Out.Forward(e.Transform.In.Forward(x).Tanh())
	}
	return x
}

// PromptModel is a GPT-2 (*gpt2.Model) or BERT (*bert.Model,
// *bert.Classifier) model adapted by a prompt-learning method: the base
// model frozen, the adapter's PromptEncoder the only trainable part.
// Parameter names follow PEFT's ("base_model.h.0.attn.c_attn.weight",
// "prompt_encoder.default.embedding.weight"). One adapter per model.
type PromptModel struct {
	Base     nn.Module                 `nn:"base_model"`
	Encoder  map[string]*PromptEncoder `nn:"prompt_encoder"`
	method   PromptMethod
	adapter  string
	dims     promptDims
	disabled bool
}

// promptDims describes the base model for prompt learning.
type promptDims struct {
	width, layers, heads, positions int
	task                            string
}

func promptBackbone(model nn.Module) (promptDims, error) {
	switch b := model.(type) {
	case *gpt2.Model:
		return promptDims{b.Config.NEmbd, b.Config.NLayer, b.Config.NHead, b.Config.NPositions, "CAUSAL_LM"}, nil
	case *bert.Model:
		c := b.Config
		return promptDims{c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.MaxPositionEmbeddings, "FEATURE_EXTRACTION"}, nil
	case *bert.Classifier:
		c := b.Bert.Config
		return promptDims{c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.MaxPositionEmbeddings, "SEQ_CLS"}, nil
	}
	return promptDims{}, fmt.Errorf("peft: prompt learning adapts *gpt2.Model, *bert.Model or *bert.Classifier, not %T", model)
}

// wordEmbeddings returns the base model's token embedding table.
func wordEmbeddings(model nn.Module) *nn.Embedding {
	switch b := model.(type) {
	case *gpt2.Model:
		return b.Wte
	case *bert.Model:
		return b.Embeddings.WordEmbeddings
	case *bert.Classifier:
		return b.Bert.Embeddings.WordEmbeddings
	}
	return nil
}

// InjectPrompt adapts model with a prompt-learning adapter (PEFT's
// get_peft_model with a PromptTuningConfig or PrefixTuningConfig): every
// parameter of model is frozen and the adapter's virtual tokens are the
// only trainable parameters. adapter "" means "default". The configuration's
// TokenDim, NumLayers, NumAttentionHeads and an empty TaskType are filled
// from the model (see Method). On error model is unchanged.
func InjectPrompt(model nn.Module, adapter string, method PromptMethod) (*PromptModel, error) {
	return newPromptModel(model, adapter, method, false)
}

func newPromptModel(model nn.Module, adapter string, method PromptMethod, loaded bool) (*PromptModel, error) {
	if adapter == "" {
		adapter = DefaultAdapter
	}
	if method == nil {
		return nil, fmt.Errorf("peft: InjectPrompt needs a PromptTuningConfig or PrefixTuningConfig")
	}
	if err := method.Validate(); err != nil {
		return nil, err
	}
	d, err := promptBackbone(model)
	if err != nil {
		return nil, err
	}
	fill := func(task *string, dim, layers, heads *int) error {
		for _, f := range []struct {
			name string
			got  *int
			want int
		}{{"token_dim", dim, d.width}, {"num_layers", layers, d.layers}, {"num_attention_heads", heads, d.heads}} {
			if *f.got != 0 && *f.got != f.want {
				return fmt.Errorf("peft: %s adapter has %s = %d, the %T has %d", method.PeftType(), f.name, *f.got, model, f.want)
			}
			*f.got = f.want
		}
		if *task == "" {
			*task = d.task
		}
		return nil
	}
	n := method.VirtualTokens()
	if n >= d.positions {
		return nil, fmt.Errorf("peft: %d virtual tokens leave no room in the %T's %d positions", n, model, d.positions)
	}
	enc := &PromptEncoder{adapter: adapter}
	switch c := method.(type) {
	case PromptTuningConfig:
		if err := fill(&c.TaskType, &c.TokenDim, &c.NumLayers, &c.NumAttentionHeads); err != nil {
			return nil, err
		}
		enc.Embedding = &nn.Embedding{Weight: tensor.Zeros(n, d.width)}
		if !loaded {
			if err := initPrompt(enc.Embedding.Weight, wordEmbeddings(model).Weight, c); err != nil {
				return nil, err
			}
		}
		method = c
	case PrefixTuningConfig:
		if err := fill(&c.TaskType, &c.TokenDim, &c.NumLayers, &c.NumAttentionHeads); err != nil {
			return nil, err
		}
		out := d.layers * 2 * d.width
		if c.PrefixProjection && !loaded {
			r := tensor.NewRNG(c.Seed)
			enc.Embedding = &nn.Embedding{Weight: tensor.Randn(r, n, d.width)}
			enc.Transform = &PrefixMLP{In: nn.NewLinear(d.width, c.encoderHidden(), true, r), Out: nn.NewLinear(c.encoderHidden(), out, true, r)}
		} else {
			// A loaded adapter holds the MLP's output, as PEFT's
			// inference_mode does.
			enc.Embedding = &nn.Embedding{Weight: tensor.Zeros(n, out)}
			if !loaded {
				nn.NormalInit(enc.Embedding.Weight, tensor.NewRNG(c.Seed), 0, 1)
			}
		}
		method = c
	default:
		return nil, fmt.Errorf("peft: InjectPrompt takes a PromptTuningConfig or PrefixTuningConfig, not %T", method)
	}
	nn.Freeze(model)
	for _, p := range nn.Parameters(enc) {
		p.SetRequiresGrad(true)
	}
	return &PromptModel{Base: model, Encoder: map[string]*PromptEncoder{adapter: enc}, method: method, adapter: adapter, dims: d}, nil
}

// initPrompt fills the (P, width) prompt: copies of the embeddings of
// c.InitTokenIDs repeated or cut to P, or N(0, 1).
func initPrompt(w, words *tensor.Tensor, c PromptTuningConfig) error {
	n, width := w.Dim(0), w.Dim(1)
	if len(c.InitTokenIDs) == 0 {
		if c.InitText != "" {
			return fmt.Errorf("peft: prompt tuning from the text %q needs its token ids (InitTokenIDs)", c.InitText)
		}
		nn.NormalInit(w, tensor.NewRNG(c.Seed), 0, 1)
		return nil
	}
	vocab := words.Dim(0)
	for i, id := range c.InitTokenIDs {
		if id < 0 || id >= vocab {
			return fmt.Errorf("peft: prompt tuning init token %d (id %d) is outside the vocabulary of %d", i, id, vocab)
		}
	}
	src, dst := words.Data(), w.Data()
	for i := range n {
		id := c.InitTokenIDs[i%len(c.InitTokenIDs)]
		copy(dst[i*width:(i+1)*width], src[id*width:(id+1)*width])
	}
	return nil
}

// Method returns the adapter's configuration, with the model's dimensions
// filled in.
func (p *PromptModel) Method() PromptMethod { return p.method }

// Adapter returns the adapter's name.
func (p *PromptModel) Adapter() string { return p.adapter }

// PromptEncoder returns the adapter's parameters.
func (p *PromptModel) PromptEncoder() *PromptEncoder { return p.Encoder[p.adapter] }

// Prompt returns the virtual tokens' vectors, what Save writes as
// prompt_embeddings: (P, width) for prompt tuning, (P, layers·2·width) for
// prefix tuning.
func (p *PromptModel) Prompt() *tensor.Tensor { return p.PromptEncoder().Output() }

// Forward runs the adapted model on token ids (N, L): GPT-2 gives
// next-token logits (N, L, vocab), BERT its final hidden states
// (N, L, hidden), a BERT classifier its logits (N, classes).
func (p *PromptModel) Forward(ids *tensor.Tensor) *tensor.Tensor { return p.ForwardMask(ids, nil) }

// ForwardMask is Forward on right-padded ids, lengths[n] real tokens in row
// n (nil: all).
func (p *PromptModel) ForwardMask(ids *tensor.Tensor, lengths []int) *tensor.Tensor {
	return p.run(ids, nil, lengths)
}

// ForwardBERT is Forward on a BERT batch with segments and padding.
func (p *PromptModel) ForwardBERT(in bert.Input) *tensor.Tensor {
	return p.run(in.IDs, in.TokenTypes, in.Lengths)
}

// prefixSlot is one attention layer's prefix hook.
type prefixSlot struct{ key, value **tensor.Tensor }

// prefixSlots returns the base model's attention layers' prefix hooks.
func (p *PromptModel) prefixSlots() []prefixSlot {
	var out []prefixSlot
	switch b := p.Base.(type) {
	case *gpt2.Model:
		for _, blk := range b.H {
			out = append(out, prefixSlot{&blk.Attn.PrefixKey, &blk.Attn.PrefixValue})
		}
	case *bert.Model:
		for _, l := range b.Encoder.Layer {
			out = append(out, prefixSlot{&l.Attention.Self.PrefixKey, &l.Attention.Self.PrefixValue})
		}
	case *bert.Classifier:
		return (&PromptModel{Base: b.Bert}).prefixSlots()
	}
	return out
}

func (p *PromptModel) run(ids, tokenTypes *tensor.Tensor, lengths []int) *tensor.Tensor {
	if p.Base == nil {
		panic("peft: the prompt model has been unloaded")
	}
	if ids == nil || ids.Dims() != 2 {
		panic("peft: prompt model: token ids must be (batch, length)")
	}
	n := ids.Dim(0)
	virtual := 0
	words := wordEmbeddings(p.Base).Forward(ids)
	_, promptTuning := p.method.(PromptTuningConfig)
	switch {
	case p.disabled: // the base model alone
	case promptTuning:
		out := p.Prompt()
		virtual = out.Dim(0)
		words = tensor.Concat(1, out.Reshape(1, virtual, out.Dim(1)).BroadcastTo(n, virtual, out.Dim(1)), words)
		if lengths != nil {
			lengths = slices.Clone(lengths)
			for i := range lengths {
				lengths[i] += virtual
			}
		}
		if tokenTypes != nil {
			tokenTypes = tokenTypes.Pad(1, virtual, 0, 0)
		}
	default:
		out := p.Prompt()
		slots := p.prefixSlots()
		w, h := p.dims.width, p.dims.heads
		pn := out.Dim(0)
		for l, s := range slots {
			kv := out.Slice(1, 2*l*w, 2*(l+1)*w).Reshape(pn, 2, h, w/h).Permute(1, 2, 0, 3)
			*s.key, *s.value = kv.Index(0, 0), kv.Index(0, 1)
		}
		defer func() {
			for _, s := range slots {
				*s.key, *s.value = nil, nil
			}
		}()
	}
	drop := func(x *tensor.Tensor) *tensor.Tensor {
		if virtual == 0 {
			return x
		}
		return x.Slice(1, virtual, x.Dim(1))
	}
	switch b := p.Base.(type) {
	case *gpt2.Model:
		return b.Logits(drop(b.ForwardEmbeds(words, lengths)))
	case *bert.Model:
		seq, _ := b.ForwardEmbeds(words, tokenTypes, lengths)
		return drop(seq)
	case *bert.Classifier:
		// The pooler reads position 0, the first virtual token under
		// prompt tuning, as in PEFT.
		_, pooled := b.Bert.ForwardEmbeds(words, tokenTypes, lengths)
		if pooled == nil {
			panic("bert: the classifier's model has no pooler")
		}
		return b.Head(pooled)
	}
	panic(fmt.Sprintf("peft: prompt model over a %T", p.Base))
}

// Disable switches the adapter off until Enable: the model computes as the
// base model (PEFT's disable_adapter).
func (p *PromptModel) Disable() { p.disabled = true }

// Enable switches the adapter back on after Disable.
func (p *PromptModel) Enable() { p.disabled = false }

// WithDisabled runs f with the adapter switched off and switches it back on
// afterwards, even if f panics.
func (p *PromptModel) WithDisabled(f func()) {
	p.Disable()
	defer p.Enable()
	f()
}

// Save writes the adapter in PEFT's layout: adapter_config.json and
// adapter_model.safetensors holding PromptKey, the (P, width) prompt or the
// (P, layers·2·width) prefix table (after the MLP, when there is one).
func (p *PromptModel) Save(dir string) error {
	t := p.Prompt()
	e := safetensors.Entry{Name: PromptKey, Shape: t.Shape(), Data: slices.Clone(t.Data())}
	return writeAdapter(dir, p.adapter, p.method, []safetensors.Entry{e}, nil)
}

// LoadPrompt adapts model with the prompt adapter saved in dir (PEFT's
// PeftModel.from_pretrained), named adapter ("" for "default"). A prefix
// adapter trained with prefix_projection comes back as its saved output
// table, without the MLP, as PEFT loads it. A configuration or tensor that
// does not fit the model is an error, and model is left unchanged.
func LoadPrompt(model nn.Module, dir, adapter string) (*PromptModel, error) {
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("peft: load adapter: %v", err)
	}
	method, err := ParsePromptConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%v (in %s)", err, filepath.Join(dir, ConfigFile))
	}
	entries, _, err := safetensors.Load(filepath.Join(dir, WeightsFile))
	if err != nil {
		return nil, fmt.Errorf("peft: load adapter: %v", err)
	}
	if len(entries) != 1 || entries[0].Name != PromptKey {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name)
		}
		return nil, fmt.Errorf("peft: load adapter %s: a prompt adapter holds only %s, the file has %q", dir, PromptKey, names)
	}
	if _, err := promptBackbone(model); err != nil {
		return nil, err
	}
	frozen := snapshotGrad(model)
	p, err := newPromptModel(model, adapter, method, true)
	if err != nil {
		return nil, err
	}
	w := p.PromptEncoder().Embedding.Weight
	if !slices.Equal(entries[0].Shape, w.Shape()) {
		frozen()
		return nil, fmt.Errorf("peft: load adapter %s: %s has shape %s in the file, the model needs %s",
			dir, PromptKey, tensor.FormatShape(entries[0].Shape), tensor.FormatShape(w.Shape()))
	}
	copy(w.Data(), entries[0].Data)
	return p, nil
}

// snapshotGrad records which of model's parameters train and returns a
// function that restores it.
func snapshotGrad(model nn.Module) func() {
	ps := nn.Parameters(model)
	on := make([]bool, len(ps))
	for i, t := range ps {
		on[i] = t.RequiresGrad()
	}
	return func() {
		for i, t := range ps {
			t.SetRequiresGrad(on[i])
		}
	}
}

// Unload returns the base model, as it was before adaptation apart from its
// parameters staying frozen; the PromptModel cannot be used afterwards.
func (p *PromptModel) Unload() nn.Module {
	for _, s := range p.prefixSlots() {
		*s.key, *s.value = nil, nil
	}
	b := p.Base
	p.Base, p.Encoder = nil, nil
	return b
}

// Summary describes the parameters (see nn.Summary), the prompt's
// attributed to its adapter.
func (p *PromptModel) Summary() *nn.ModelSummary { return nn.Summary(p) }

// TrainableLine returns PEFT's print_trainable_parameters line.
func (p *PromptModel) TrainableLine() string { return p.Summary().TrainableLine() }

// Display shows the parameter table in a notebook.
func (p *PromptModel) Display() display.Bundle { return p.Summary().Display() }

// String describes the model and its trainable-parameter line.
func (p *PromptModel) String() string {
	if p.Base == nil {
		return "peft.PromptModel (unloaded)"
	}
	return fmt.Sprintf("peft.PromptModel %T %s adapter %q: %s", p.Base, p.method.PeftType(), p.adapter, p.TrainableLine())
}
