package da

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// ADDAOptions are the settings of ADDA. Zero values take the defaults given.
type ADDAOptions struct {
	// Pretrain configures the supervised pre-training of the source model
	// (a source-only Fit; its Alignment is ignored). Steps 0: 1000.
	Pretrain FitOptions
	// Steps is the number of adversarial adaptation steps (0: 1000).
	Steps int
	// BatchSize is the number of examples per domain per step (0: 32).
	BatchSize int
	// LR is Adam's learning rate for the target encoder and the
	// discriminator during adaptation (0: 2e-4, with β1 = 0.5 as in ADDA).
	LR float64
	// Discriminator configures the domain classifier (nil Hidden: ADDA's
	// {500, 500}).
	Discriminator DiscriminatorConfig
	// EvalEvery evaluates every so many adaptation steps (0: Steps/20;
	// negative: only at the end); EvalLimit caps the examples per domain
	// then (0: 2000; negative: all).
	EvalEvery, EvalLimit int
	// Seed drives the order of the batches.
	Seed uint64
	// Log, when set, receives one line per evaluation.
	Log io.Writer
}

// ADDA is adversarial discriminative domain adaptation (Tzeng et al., 2017)
// with separate encoders. It pre-trains source (encoder and head) on the
// labelled source domain, copies it into target (a model of the same
// architecture), then trains target's encoder against a discriminator with
// the inverted-label GAN loss while the source encoder stays fixed: the
// discriminator learns to tell source features of source from target
// features of target, the target encoder to make them look like source
// features. target keeps source's head. The result's Model is target;
// SourceAccuracy is source's on the source domain, TargetAccuracy target's on
// the target domain. ctx stops it between steps.
func ADDA(ctx context.Context, source, target models.Classifier, pair data.DomainPair, opt ADDAOptions) (*Result, error) {
	if source == nil || target == nil {
		return nil, fmt.Errorf("da.ADDA: the source and target models must both be given")
	}
	if err := advCheckPair(pair); err != nil {
		return nil, fmt.Errorf("da.ADDA: %w", err)
	}
	if source.FeatureDim() != target.FeatureDim() {
		return nil, fmt.Errorf("da.ADDA: source features are %d wide, target features %d: the encoders must share an architecture", source.FeatureDim(), target.FeatureDim())
	}
	if opt.Steps < 0 || opt.BatchSize < 0 || opt.LR < 0 {
		return nil, fmt.Errorf("da.ADDA: Steps %d, BatchSize %d and LR %g must not be negative", opt.Steps, opt.BatchSize, opt.LR)
	}
	if opt.Steps == 0 {
		opt.Steps = 1000
	}
	if opt.BatchSize == 0 {
		opt.BatchSize = 32
	}
	if opt.LR == 0 {
		opt.LR = 2e-4
	}
	if opt.EvalEvery == 0 {
		opt.EvalEvery = max(opt.Steps/20, 1)
	}
	if opt.EvalLimit == 0 {
		opt.EvalLimit = 2000
	}
	pre := opt.Pretrain
	pre.Alignment = nil
	pre.Method = "ADDA pre-training"
	if pre.Log == nil {
		pre.Log = opt.Log
	}
	pr, err := Fit(ctx, source, pair, pre)
	if err != nil {
		return pr, err
	}
	state := nn.StateDict(source)
	copied := make([]nn.NamedTensor, len(state))
	for i, nt := range state {
		copied[i] = nn.NamedTensor{Name: nt.Name, Tensor: nt.Tensor.Clone()}
	}
	if err := nn.LoadStateDict(target, copied, true); err != nil {
		return nil, fmt.Errorf("da.ADDA: copying the source model into the target model: %w", err)
	}
	dcfg := opt.Discriminator
	if dcfg.Hidden == nil {
		dcfg.Hidden = []int{500, 500}
	}
	disc, err := NewDiscriminator(source.FeatureDim(), dcfg)
	if err != nil {
		return nil, fmt.Errorf("da.ADDA: %w", err)
	}
	encoder := encoderParameters(target)
	if len(encoder) == 0 {
		return nil, fmt.Errorf("da.ADDA: the target model has no trainable encoder parameters")
	}
	adam := optim.AdamConfig{LR: opt.LR, Betas: [2]float64{0.5, 0.999}}
	encOpt, err := optim.NewAdam(encoder, adam)
	if err != nil {
		return nil, fmt.Errorf("da.ADDA: %w", err)
	}
	discOpt, err := optim.NewAdam(disc.Parameters(), adam)
	if err != nil {
		return nil, fmt.Errorf("da.ADDA: %w", err)
	}
	pl, err := data.NewPairLoader(pair.Source, pair.Target, data.LoaderOptions{BatchSize: opt.BatchSize, Shuffle: true, Seed: opt.Seed})
	if err != nil {
		return nil, fmt.Errorf("da.ADDA: %w", err)
	}
	res := &Result{Method: "ADDA", Pair: pair.Name, Model: target,
		Steps: pr.Steps, Loss: pr.Loss, ClassLoss: pr.ClassLoss, AlignLoss: pr.AlignLoss,
		EvalSteps: pr.EvalSteps, SourceCurve: pr.SourceCurve, TargetCurve: pr.TargetCurve}
	nn.Train(target)
	nn.Train(disc)
	for step := 0; step < opt.Steps; step++ {
		if err := ctx.Err(); err != nil {
			res.finish2(source, target, pair, opt.Log)
			return res, err
		}
		src, tgt := pl.Next()
		var fs *tensor.Tensor
		nn.Eval(source)
		tensor.WithNoGrad(func() { fs = source.Features(src.X) })
		ft := target.Features(tgt.X)
		// The discriminator's step, on fixed features.
		dl, err := disc.DomainLoss(fs, ft.Detach())
		if err != nil {
			return nil, fmt.Errorf("da.ADDA: step %d: %w", step, err)
		}
		discOpt.ZeroGrad()
		dl.Backward()
		discOpt.Step()
		// The target encoder's step: inverted labels.
		cl, err := disc.ConfusionLoss(ft)
		if err != nil {
			return nil, fmt.Errorf("da.ADDA: step %d: %w", step, err)
		}
		encOpt.ZeroGrad()
		cl.Backward()
		encOpt.Step()
		d, c := float64(dl.Item()), float64(cl.Item())
		if math.IsNaN(d+c) || math.IsInf(d+c, 0) {
			return nil, fmt.Errorf("da.ADDA: step %d: discriminator loss %v, encoder loss %v; lower LR", step, d, c)
		}
		res.Steps++
		res.Loss = append(res.Loss, c)
		res.ClassLoss = append(res.ClassLoss, 0)
		res.AlignLoss = append(res.AlignLoss, d)
		if opt.EvalEvery > 0 && (step+1)%opt.EvalEvery == 0 && step+1 < opt.Steps {
			res.evaluate2(source, target, pair, opt.EvalLimit, res.Steps, opt.Log)
		}
	}
	res.finish2(source, target, pair, opt.Log)
	return res, nil
}

// encoderParameters returns the trainable parameters of m outside its head.
func encoderParameters(m models.Classifier) []*tensor.Tensor {
	head := map[*tensor.Tensor]bool{}
	for _, p := range nn.Parameters(m.Head()) {
		head[p] = true
	}
	var out []*tensor.Tensor
	for _, p := range nn.TrainableParameters(m) {
		if !head[p] {
			out = append(out, p)
		}
	}
	return out
}
