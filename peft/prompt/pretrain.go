package prompt

import (
	"fmt"

	"github.com/graftml/graft/data/shapes"
	"github.com/graftml/graft/models/clip"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// TinyConfig returns a tiny CLIP for 3×16×16 images in 4×4 patches and
// texts of at most 16 tokens: two layers of width 32 (4 heads) in each
// encoder, a 32-wide joint space, the given vocabulary size and special
// token ids.
func TinyConfig(vocabSize, pad, bos, eos int) clip.Config {
	c := clip.ViTB32()
	c.TextConfig = clip.TextConfig{VocabSize: vocabSize, HiddenSize: 32, IntermediateSize: 64, ProjectionDim: 32,
		NumHiddenLayers: 2, NumAttentionHeads: 4, MaxPositionEmbeddings: 16, HiddenAct: "quick_gelu", LayerNormEps: 1e-5,
		InitializerRange: 0.02, InitializerFactor: 1, PadTokenID: pad, BosTokenID: bos, EosTokenID: eos}
	c.VisionConfig = clip.VisionConfig{HiddenSize: 32, IntermediateSize: 64, ProjectionDim: 32, NumHiddenLayers: 2,
		NumAttentionHeads: 4, NumChannels: 3, ImageSize: 16, PatchSize: 4, HiddenAct: "quick_gelu", LayerNormEps: 1e-5,
		InitializerRange: 0.02, InitializerFactor: 1}
	c.ProjectionDim = 32
	return c
}

// PretrainOptions sets contrastive pre-training; zero fields take the
// defaults shown.
type PretrainOptions struct {
	Steps     int     // Adam steps (default 400)
	BatchSize int     // pairs per step (default 32)
	LR        float64 // Adam's learning rate (default 5e-3)
	Seed      uint64  // batch sampling; model initialisation in PretrainShapes (0 is a seed like any other)
	Pairs     int     // PretrainShapes: image–caption pairs drawn (default 4096)
}

func (o PretrainOptions) withDefaults() PretrainOptions {
	if o.Steps == 0 {
		o.Steps = 400
	}
	if o.BatchSize == 0 {
		o.BatchSize = 32
	}
	if o.LR == 0 {
		o.LR = 5e-3
	}
	if o.Pairs == 0 {
		o.Pairs = 4096
	}
	return o
}

// ContrastiveLoss is CLIP's symmetric InfoNCE loss of logits_per_image (N, N)
// whose diagonal holds the matching pairs: the mean of the cross-entropies
// over rows and over columns.
func ContrastiveLoss(logits *tensor.Tensor) *tensor.Tensor {
	n := logits.Dim(0)
	target := make([]int, n)
	for i := range target {
		target[i] = i
	}
	return nn.CrossEntropy(logits, target).Add(nn.CrossEntropy(logits.T(), target)).Scale(0.5)
}

// Pretrain trains every parameter of model on image–caption pairs (images
// (N, C, H, W), captions as token ids with begin- and end-of-text tokens) by
// the contrastive loss over random batches, returning the loss of each step.
func Pretrain(model *clip.Model, images *tensor.Tensor, captions [][]int, opt PretrainOptions) ([]float64, error) {
	opt = opt.withDefaults()
	if opt.Steps < 0 || opt.BatchSize < 2 || opt.LR < 0 {
		return nil, fmt.Errorf("prompt: pretrain steps %d, batch size %d, learning rate %g: need steps ≥ 0, batch ≥ 2, rate ≥ 0", opt.Steps, opt.BatchSize, opt.LR)
	}
	if err := checkImages(model, images); err != nil {
		return nil, err
	}
	n := images.Dim(0)
	if len(captions) != n {
		return nil, fmt.Errorf("prompt: %d captions for %d images", len(captions), n)
	}
	if n < 2 {
		return nil, fmt.Errorf("prompt: %d pairs; contrastive pre-training needs at least 2", n)
	}
	if _, err := model.TextModel.EOTPositions(captions); err != nil {
		return nil, err
	}
	adam, err := optim.NewAdam(nn.TrainableParameters(model), optim.AdamConfig{LR: opt.LR})
	if err != nil {
		return nil, err
	}
	r := tensor.NewRNG(opt.Seed)
	b := min(opt.BatchSize, n)
	losses := make([]float64, 0, opt.Steps)
	for range opt.Steps {
		idx := r.Perm(n)[:b]
		caps := make([][]int, b)
		for i, j := range idx {
			caps[i] = captions[j]
		}
		logits, err := model.Forward(images.IndexSelect(0, idx), caps)
		if err != nil {
			return nil, err
		}
		loss := ContrastiveLoss(logits)
		loss.Backward()
		adam.Step()
		adam.ZeroGrad()
		losses = append(losses, float64(loss.Item()))
	}
	return losses, nil
}

// PretrainShapes builds a TinyConfig CLIP for task's vocabulary,
// initialised from opt.Seed, and pre-trains it on opt.Pairs image–caption
// pairs of all the task's classes (drawn from opt.Seed+1), returning the
// model and the loss of each step.
func PretrainShapes(task *shapes.Task, opt PretrainOptions) (*clip.Model, []float64, error) {
	opt = opt.withDefaults()
	model, err := clip.New(TinyConfig(task.Vocab.Size(), shapes.PadID, shapes.BosID, shapes.EosID), tensor.NewRNG(opt.Seed))
	if err != nil {
		return nil, nil, err
	}
	images, captions, _, err := task.Pairs(opt.Pairs, opt.Seed+1)
	if err != nil {
		return nil, nil, err
	}
	losses, err := Pretrain(model, images, captions, opt)
	if err != nil {
		return nil, nil, err
	}
	nn.Eval(model)
	return model, losses, nil
}

// checkImages reports images that are not (N, channels, size, size) for
// model's image encoder, or an empty batch.
func checkImages(model *clip.Model, images *tensor.Tensor) error {
	v := model.Config.VisionConfig
	if images == nil {
		return fmt.Errorf("prompt: no images")
	}
	s := images.Shape()
	if len(s) != 4 || s[0] < 1 || s[1] != v.NumChannels || s[2] != v.ImageSize || s[3] != v.ImageSize {
		return fmt.Errorf("prompt: images %s, the image encoder takes (N, %d, %d, %d)", tensor.FormatShape(s), v.NumChannels, v.ImageSize, v.ImageSize)
	}
	return nil
}
