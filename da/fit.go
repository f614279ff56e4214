package da

import (
	"context"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// FitOptions are the settings of Fit. Zero values take the defaults given.
type FitOptions struct {
	// Alignment is the domain-alignment objective added to the source
	// cross-entropy (nil: source-only training, the baseline).
	Alignment Alignment
	// Method names the run in tables (default: Alignment.Name(), or
	// "source-only").
	Method string
	// Steps is the number of training steps (0: 1000).
	Steps int
	// BatchSize is the number of examples per domain per step (0: 32).
	BatchSize int
	// Optimizer is "adam" ("", the default) or "sgd" (with Momentum).
	Optimizer string
	// LR is the base learning rate (0: 1e-3 for Adam, 0.01 for SGD).
	LR float64
	// FeatureLRScale, HeadLRScale and AlignmentLRScale multiply LR for the
	// feature extractor (the model minus its head), the head and the
	// alignment's own parameters (0: 1 each). Fine-tuning a pre-trained
	// backbone commonly uses 0.1 for the features, or 10 for new layers.
	FeatureLRScale, HeadLRScale, AlignmentLRScale float64
	// Momentum is SGD's momentum (0: 0.9; negative: none).
	Momentum float64
	// WeightDecay is the L2 penalty of every group.
	WeightDecay float64
	// Anneal applies DANN's learning-rate annealing μ_p = μ0/(1+10p)^0.75
	// (optim.DANNDecay) to every group.
	Anneal bool
	// EvalEvery evaluates source and target accuracy every so many steps
	// (0: Steps/20, at least 1; negative: only at the end).
	EvalEvery int
	// EvalLimit caps the examples of each domain used by the periodic
	// evaluations (0: 2000; negative: all). The final evaluation uses all.
	EvalLimit int
	// Seed drives the order of the batches.
	Seed uint64
	// Log, when set, receives one line per evaluation.
	Log io.Writer
}

// Result is the outcome of adapting a model: final accuracies, the curves
// of training, and the model. It shows itself in a notebook as an accuracy
// table and the curves.
type Result struct {
	// Method and Pair name the run.
	Method, Pair string
	// SourceAccuracy and TargetAccuracy are the final accuracies of the
	// model on all of the source and of the target domain. The target's
	// labels are used for nothing else.
	SourceAccuracy, TargetAccuracy float64
	// Steps is the number of steps trained (fewer than asked when
	// interrupted).
	Steps int
	// Loss, ClassLoss and AlignLoss hold one value per step: the total,
	// the source cross-entropy and the alignment's loss (0 without one).
	Loss, ClassLoss, AlignLoss []float64
	// Lambda holds the alignment's schedule coefficient per step (nil when
	// the alignment is not Scheduled).
	Lambda []float64
	// EvalSteps are the steps after which accuracies were measured, and
	// SourceCurve and TargetCurve the accuracies measured then.
	EvalSteps                []int
	SourceCurve, TargetCurve []float64
	// Model is the trained model.
	Model models.Classifier `json:"-"`
}

// Fit trains model on the labelled source of pair and the unlabelled target
// with opt.Alignment: each step draws a source and a target batch, runs
// them through the model separately (so normalisation layers see one
// domain at a time), and minimises CrossEntropy(source) + Alignment.Loss
// over the model and the alignment's parameters. Without an alignment the
// target batches are not run through the model: a source-only baseline
// never sees the target, not even through batch-norm statistics. Fit stops
// between steps when ctx is done, returning the result so far with ctx's
// error.
func Fit(ctx context.Context, model models.Classifier, pair data.DomainPair, opt FitOptions) (*Result, error) {
	if model == nil {
		return nil, fmt.Errorf("da.Fit: model is nil")
	}
	if err := advCheckPair(pair); err != nil {
		return nil, fmt.Errorf("da.Fit: %w", err)
	}
	o, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	// Full batches only, unless a domain is smaller than one batch.
	dropLast := pair.Source.Len() >= o.BatchSize && pair.Target.Len() >= o.BatchSize
	pl, err := data.NewPairLoader(pair.Source, pair.Target, data.LoaderOptions{BatchSize: o.BatchSize, Shuffle: true, DropLast: dropLast, Seed: o.Seed})
	if err != nil {
		return nil, fmt.Errorf("da.Fit: %w", err)
	}
	opz, err := newGroups(model, o.Alignment, o)
	if err != nil {
		return nil, err
	}
	var sched optim.Schedule
	if o.Anneal {
		sched = optim.DANNDecay{Total: o.Steps}
	}
	res := &Result{Method: o.Method, Pair: pair.Name, Model: model}
	sched2, scheduled := o.Alignment.(Scheduled)
	classes := pair.Source.NumClasses()
	nn.Train(model)
	if v := reflect.ValueOf(o.Alignment); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
		nn.Train(o.Alignment) // its dropout, if it has modules; a value alignment (MMD, CORAL) has none
	}
	for step := 0; step < o.Steps; step++ {
		if err := ctx.Err(); err != nil {
			res.finish(model, pair, o)
			return res, err
		}
		if sched != nil {
			optim.Apply(opz, sched, step)
		}
		src, tgt := pl.Next()
		p := float64(step) / float64(o.Steps)
		fs := model.Features(src.X)
		ls := model.Classify(fs)
		if ls.Dim(1) < classes {
			return nil, fmt.Errorf("da.Fit: the model has %d outputs but the source has %d classes", ls.Dim(1), classes)
		}
		ce := nn.CrossEntropy(ls, src.Labels)
		loss := ce
		align := 0.0
		if o.Alignment != nil {
			// Only an alignment sees the target: a source-only model must
			// not even gather batch-norm statistics on it.
			ft := model.Features(tgt.X)
			lt := model.Classify(ft)
			l, err := o.Alignment.Loss(Step{SourceFeatures: fs, TargetFeatures: ft, SourceLogits: ls, TargetLogits: lt, SourceLabels: src.Labels, Progress: p})
			if err != nil {
				return nil, fmt.Errorf("da.Fit: step %d: %s: %w", step, o.Method, err)
			}
			loss = loss.Add(l)
			align = float64(l.Item())
		}
		total := float64(loss.Item())
		if math.IsNaN(total) || math.IsInf(total, 0) {
			return nil, fmt.Errorf("da.Fit: step %d: the loss is %v (class %v, alignment %v); lower the learning rate", step, total, ce.Item(), align)
		}
		opz.ZeroGrad()
		loss.Backward()
		opz.Step()
		res.Steps = step + 1
		res.Loss = append(res.Loss, total)
		res.ClassLoss = append(res.ClassLoss, float64(ce.Item()))
		res.AlignLoss = append(res.AlignLoss, align)
		if scheduled {
			res.Lambda = append(res.Lambda, sched2.Coefficient(p))
		}
		if o.EvalEvery > 0 && (step+1)%o.EvalEvery == 0 && step+1 < o.Steps {
			res.evaluate(model, pair, o.EvalLimit, step+1, o.Log)
		}
	}
	res.finish(model, pair, o)
	return res, nil
}

// finish measures the final accuracies on all examples and records them.
func (r *Result) finish(model models.Classifier, pair data.DomainPair, o FitOptions) {
	r.finish2(model, model, pair, o.Log)
}

// finish2 is finish with separate source and target models (ADDA).
func (r *Result) finish2(sm, tm models.Classifier, pair data.DomainPair, log io.Writer) {
	r.evaluate2(sm, tm, pair, -1, r.Steps, log)
	r.SourceAccuracy = r.SourceCurve[len(r.SourceCurve)-1]
	r.TargetAccuracy = r.TargetCurve[len(r.TargetCurve)-1]
}

// evaluate appends the accuracies of model on pair to the curves.
func (r *Result) evaluate(model models.Classifier, pair data.DomainPair, limit, step int, log io.Writer) {
	r.evaluate2(model, model, pair, limit, step, log)
}

// evaluate2 appends the accuracy of sm on the source and of tm on the target.
func (r *Result) evaluate2(sm, tm models.Classifier, pair data.DomainPair, limit, step int, log io.Writer) {
	s := fitAccuracy(sm, pair.Source, limit)
	t := fitAccuracy(tm, pair.Target, limit)
	r.EvalSteps = append(r.EvalSteps, step)
	r.SourceCurve = append(r.SourceCurve, s)
	r.TargetCurve = append(r.TargetCurve, t)
	if log != nil {
		fmt.Fprintf(log, "%s step %d: source accuracy %.4f, target accuracy %.4f\n", r.Method, step, s, t)
	}
}

// fitAccuracy returns the accuracy of model on the first limit examples of
// ds (limit < 0: all), in evaluation mode without gradients; the model is
// left in training mode.
func fitAccuracy(model models.Classifier, ds *data.Dataset, limit int) float64 {
	n := ds.Len()
	if limit >= 0 && limit < n {
		n = limit
	}
	if n == 0 || ds.Labels == nil {
		return math.NaN()
	}
	nn.Eval(model)
	defer nn.Train(model)
	defer tensor.NoGrad()()
	correct := 0.0
	const chunk = 512
	idx := make([]int, 0, chunk)
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		idx = idx[:0]
		for i := lo; i < hi; i++ {
			idx = append(idx, i)
		}
		b := ds.Batch(idx)
		correct += nn.Accuracy(model.Forward(b.X), b.Labels) * float64(hi-lo)
	}
	return correct / float64(n)
}

// advCheckPair reports a domain pair Fit cannot train on.
func advCheckPair(pair data.DomainPair) error {
	if pair.Source == nil || pair.Source.Len() == 0 {
		return fmt.Errorf("source domain of %q is empty (0 rows)", pair.Name)
	}
	if pair.Target == nil || pair.Target.Len() == 0 {
		return fmt.Errorf("target domain of %q is empty (0 rows)", pair.Name)
	}
	if pair.Source.Labels == nil {
		return fmt.Errorf("source domain %q has no labels", pair.Source.Name)
	}
	if s, t := pair.Source.NumClasses(), pair.Target.NumClasses(); pair.Target.Labels != nil && t > s {
		return fmt.Errorf("the domains' classes differ: source %q has %d classes, target %q has %d", pair.Source.Name, s, pair.Target.Name, t)
	}
	if cs, ct := pair.Source.Classes, pair.Target.Classes; cs != nil && ct != nil && strings.Join(cs, "\x00") != strings.Join(ct, "\x00") {
		return fmt.Errorf("the domains' classes differ: source %q has %v, target %q has %v", pair.Source.Name, cs, pair.Target.Name, ct)
	}
	if sx, tx := pair.Source.X.Shape()[1:], pair.Target.X.Shape()[1:]; tensor.FormatShape(sx) != tensor.FormatShape(tx) {
		return fmt.Errorf("the domains' examples differ in shape: source %s, target %s", tensor.FormatShape(sx), tensor.FormatShape(tx))
	}
	return nil
}

// withDefaults fills in FitOptions' defaults and checks the values.
func (o FitOptions) withDefaults() (FitOptions, error) {
	if o.Steps < 0 {
		return o, fmt.Errorf("da.Fit: Steps %d must not be negative", o.Steps)
	}
	if o.Steps == 0 {
		o.Steps = 1000
	}
	if o.BatchSize < 0 {
		return o, fmt.Errorf("da.Fit: BatchSize %d must not be negative", o.BatchSize)
	}
	if o.BatchSize == 0 {
		o.BatchSize = 32
	}
	switch o.Optimizer {
	case "", "adam":
		o.Optimizer = "adam"
		if o.LR == 0 {
			o.LR = 1e-3
		}
	case "sgd":
		if o.LR == 0 {
			o.LR = 0.01
		}
		if o.Momentum == 0 {
			o.Momentum = 0.9
		}
		if o.Momentum < 0 {
			o.Momentum = 0
		}
	default:
		return o, fmt.Errorf("da.Fit: Optimizer %q is not \"adam\" or \"sgd\"", o.Optimizer)
	}
	if o.LR < 0 || math.IsNaN(o.LR) {
		return o, fmt.Errorf("da.Fit: LR %g must be positive", o.LR)
	}
	for _, s := range []*float64{&o.FeatureLRScale, &o.HeadLRScale, &o.AlignmentLRScale} {
		if *s < 0 {
			return o, fmt.Errorf("da.Fit: learning-rate scale %g must not be negative", *s)
		}
		if *s == 0 {
			*s = 1
		}
	}
	if o.EvalEvery == 0 {
		o.EvalEvery = max(o.Steps/20, 1)
	}
	if o.EvalLimit == 0 {
		o.EvalLimit = 2000
	}
	if o.Method == "" {
		o.Method = "source-only"
		if o.Alignment != nil {
			o.Method = o.Alignment.Name()
		}
	}
	return o, nil
}

// newGroups builds the optimiser over three parameter groups: the feature
// extractor, the head, and the alignment's parameters.
func newGroups(model models.Classifier, align Alignment, o FitOptions) (optim.Optimizer, error) {
	head := nn.TrainableParameters(model.Head())
	features := encoderParameters(model)
	groups := []optim.ParamGroup{
		{Name: "features", Params: features, LR: o.LR * o.FeatureLRScale, WeightDecay: o.WeightDecay},
		{Name: "head", Params: head, LR: o.LR * o.HeadLRScale, WeightDecay: o.WeightDecay},
	}
	if align != nil {
		if ps := align.Parameters(); len(ps) > 0 {
			groups = append(groups, optim.ParamGroup{Name: "alignment", Params: ps, LR: o.LR * o.AlignmentLRScale, WeightDecay: o.WeightDecay})
		}
	}
	var kept []optim.ParamGroup
	for _, g := range groups {
		if len(g.Params) > 0 {
			kept = append(kept, g)
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("da.Fit: the model has no trainable parameters")
	}
	var opz optim.Optimizer
	var err error
	if o.Optimizer == "sgd" {
		opz, err = optim.NewSGDGroups(kept, optim.SGDConfig{Momentum: o.Momentum})
	} else {
		opz, err = optim.NewAdamGroups(kept, optim.AdamConfig{})
	}
	if err != nil {
		return nil, fmt.Errorf("da.Fit: %w", err)
	}
	return opz, nil
}
