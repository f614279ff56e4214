package prompt

import (
	"fmt"
	"slices"

	"github.com/graftml/graft/models/clip"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// Learner is a Classifier with learned parameters, which Fit trains.
type Learner interface {
	Classifier
	// Parameters are the learned tensors (the encoders are frozen).
	Parameters() []*tensor.Tensor
}

// CoOpConfig configures CoOp. M must be positive; the other zero fields
// take the defaults shown.
type CoOpConfig struct {
	M        int    // context vectors (CoOp's n_ctx); required, > 0
	Position string // class token position: PositionEnd (""), PositionMiddle or PositionFront
	// ClassSpecific learns one set of M vectors per class (CoOp's CSC);
	// such a prompt classifies only the classes it was built for.
	ClassSpecific bool
	// InitPhrase starts the context as the token embeddings of a phrase of
	// M words ("a photo of a"); "" draws it from N(0, Std²).
	InitPhrase string
	Std        float64 // random initialisation (default 0.02)
	Seed       uint64
}

// CoOp is context optimisation: the class weights are the text features of
// [BOS] v_1 … v_M [CLASS] [EOS] (or the class in the middle or at the
// front), with learned v_m and a frozen text encoder.
type CoOp struct {
	Model   *clip.Model
	Config  CoOpConfig
	Context *tensor.Tensor // (M, width), or (classes, M, width) class-specific
	Classes []string       // the classes of a class-specific context
	layouts layouts
}

// NewCoOp freezes model and returns CoOp over it for classes (their names
// only matter for class-specific context, and to check that prompts fit the
// text encoder). Bad settings are errors and leave model untouched.
func NewCoOp(model *clip.Model, tok Tokenizer, classes []string, cfg CoOpConfig) (*CoOp, error) {
	if cfg.Position == "" {
		cfg.Position = PositionEnd
	}
	if cfg.Std == 0 {
		cfg.Std = 0.02
	}
	if model == nil {
		return nil, fmt.Errorf("prompt: no model")
	}
	c := &CoOp{Model: model, Config: cfg, layouts: layouts{model: model, tok: tok, m: cfg.M, position: cfg.Position}}
	if _, err := c.layouts.get(classes); err != nil {
		return nil, err
	}
	ctx, err := initContext(model, tok, cfg.InitPhrase, cfg.M, cfg.Std, tensor.NewRNG(cfg.Seed))
	if err != nil {
		return nil, err
	}
	if cfg.ClassSpecific {
		ctx = ctx.Unsqueeze(0).BroadcastTo(len(classes), cfg.M, ctx.Dim(1)).Clone()
		if cfg.InitPhrase == "" { // an independent draw per class
			ctx = tensor.Normal(tensor.NewRNG(cfg.Seed), 0, float32(cfg.Std), len(classes), cfg.M, ctx.Dim(2))
		}
		c.Classes = slices.Clone(classes)
	}
	c.Context = ctx.SetRequiresGrad(true)
	nn.Freeze(model)
	return c, nil
}

// Name describes the method: "CoOp (M=4, end)", "CoOp CSC (M=4, end)".
func (c *CoOp) Name() string {
	csc := ""
	if c.Config.ClassSpecific {
		csc = " CSC"
	}
	return fmt.Sprintf("CoOp%s (M=%d, %s)", csc, c.Config.M, c.Config.Position)
}

// Parameters returns the context vectors.
func (c *CoOp) Parameters() []*tensor.Tensor { return []*tensor.Tensor{c.Context} }

// TextFeatures returns the unnormalised text features (len(classes),
// projection_dim) of the prompts of classes.
func (c *CoOp) TextFeatures(classes []string) (*tensor.Tensor, error) {
	l, err := c.layouts.get(classes)
	if err != nil {
		return nil, err
	}
	if c.Config.ClassSpecific {
		if !slices.Equal(classes, c.Classes) {
			return nil, fmt.Errorf("prompt: class-specific context was learned for %d classes %q; it cannot classify %q", len(c.Classes), c.Classes, classes)
		}
		seqs, eot := l.paired(c.Context)
		return c.Model.EncodeTextEmbeddings(seqs, eot), nil
	}
	seqs, eot := l.sequences(c.Context.Unsqueeze(0))
	return c.Model.EncodeTextEmbeddings(seqs, eot), nil
}

// Logits returns cos(f(x), g(t_k))·exp(logit_scale) (N, len(classes)).
func (c *CoOp) Logits(images *tensor.Tensor, classes []string) (*tensor.Tensor, error) {
	if err := checkImages(c.Model, images); err != nil {
		return nil, err
	}
	g, err := c.TextFeatures(classes)
	if err != nil {
		return nil, err
	}
	return c.Model.Logits(frozenImageFeatures(c.Model, images), g), nil
}

// frozenImageFeatures encodes images without recording gradients.
func frozenImageFeatures(model *clip.Model, images *tensor.Tensor) *tensor.Tensor {
	var f *tensor.Tensor
	tensor.WithNoGrad(func() { f = model.EncodeImage(images) })
	return f
}

// CoCoOpConfig configures CoCoOp. M must be positive; the other zero
// fields take the defaults shown.
type CoCoOpConfig struct {
	M          int     // context vectors; required, > 0
	InitPhrase string  // as CoOpConfig.InitPhrase
	Std        float64 // as CoOpConfig.Std (default 0.02)
	// Hidden is the meta-net's hidden width (default projection_dim/16 as
	// the paper, but at least 8).
	Hidden int
	Seed   uint64
}

// CoCoOp is conditional context optimisation: a meta-net π
// (Linear–ReLU–Linear) maps the normalised image feature f(x) to a shift
// added to every context vector, v_m(x) = v_m + π(f(x)), so each image
// is scored against its own prompts [BOS] v_1(x) … v_M(x) [CLASS] [EOS].
type CoCoOp struct {
	Model   *clip.Model
	Config  CoCoOpConfig
	Context *tensor.Tensor // (M, width)
	Linear1 *nn.Linear     // projection_dim → Hidden
	Linear2 *nn.Linear     // Hidden → text width
	layouts layouts
}

// NewCoCoOp freezes model and returns CoCoOp over it, checking that the
// prompts of classes fit the text encoder. Bad settings are errors and
// leave model untouched.
func NewCoCoOp(model *clip.Model, tok Tokenizer, classes []string, cfg CoCoOpConfig) (*CoCoOp, error) {
	if model == nil {
		return nil, fmt.Errorf("prompt: no model")
	}
	if cfg.Std == 0 {
		cfg.Std = 0.02
	}
	if cfg.Hidden == 0 {
		cfg.Hidden = max(model.Config.ProjectionDim/16, 8)
	}
	if cfg.Hidden < 0 {
		return nil, fmt.Errorf("prompt: meta-net hidden width %d, must be positive", cfg.Hidden)
	}
	c := &CoCoOp{Model: model, Config: cfg, layouts: layouts{model: model, tok: tok, m: cfg.M, position: PositionEnd}}
	if _, err := c.layouts.get(classes); err != nil {
		return nil, err
	}
	r := tensor.NewRNG(cfg.Seed)
	ctx, err := initContext(model, tok, cfg.InitPhrase, cfg.M, cfg.Std, r)
	if err != nil {
		return nil, err
	}
	c.Context = ctx.SetRequiresGrad(true)
	c.Linear1 = nn.NewLinear(model.Config.ProjectionDim, cfg.Hidden, true, r)
	c.Linear2 = nn.NewLinear(cfg.Hidden, model.Config.TextConfig.HiddenSize, true, r)
	nn.Freeze(model)
	return c, nil
}

// Name describes the method: "CoCoOp (M=4)".
func (c *CoCoOp) Name() string { return fmt.Sprintf("CoCoOp (M=%d)", c.Config.M) }

// Parameters returns the context vectors and the meta-net's weights.
func (c *CoCoOp) Parameters() []*tensor.Tensor {
	return []*tensor.Tensor{c.Context, c.Linear1.Weight, c.Linear1.Bias, c.Linear2.Weight, c.Linear2.Bias}
}

// Shift returns the meta-net's output π(f) (N, width) for normalised image
// features f (N, projection_dim).
func (c *CoCoOp) Shift(f *tensor.Tensor) *tensor.Tensor {
	return c.Linear2.Forward(c.Linear1.Forward(f).ReLU())
}

// Logits returns the logits (N, len(classes)): image n against the text
// features of its own prompts. The N·K prompts go through the text encoder
// in one batch.
func (c *CoCoOp) Logits(images *tensor.Tensor, classes []string) (*tensor.Tensor, error) {
	if err := checkImages(c.Model, images); err != nil {
		return nil, err
	}
	l, err := c.layouts.get(classes)
	if err != nil {
		return nil, err
	}
	f := normalize(frozenImageFeatures(c.Model, images))
	n, k := f.Dim(0), len(classes)
	ctx := c.Context.Unsqueeze(0).Add(c.Shift(f).Unsqueeze(1)) // (N, M, width)
	seqs, eot := l.sequences(ctx)
	g := normalize(c.Model.EncodeTextEmbeddings(seqs, eot))
	g = g.Reshape(n, k, g.Dim(1))
	return f.Unsqueeze(1).Mul(g).Sum(2).Mul(c.Model.LogitScale.Exp()), nil
}
