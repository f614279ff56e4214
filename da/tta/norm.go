package tta

import (
	"fmt"
	"math"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// normMode says which statistics an adaptable batch norm normalises with.
type normMode int

const (
	// normSource uses the running (source) statistics: evaluation mode.
	normSource normMode = iota
	// normBatch uses the statistics of the batch itself, mixed with the
	// source statistics by alpha (α-BN); the running statistics stay.
	normBatch
	// normCollect folds the batch's statistics into the running ones as a
	// cumulative average over the batches seen since the last reset (AdaBN).
	normCollect
)

// adaptNorm stands in for an nn.BatchNorm in a method's copy of the model.
// It embeds the batch norm, so parameter and buffer names do not change.
type adaptNorm struct {
	*nn.BatchNorm
	mode    normMode
	alpha   float64 // weight of the source statistics in normBatch mode
	batches int     // batches folded into the running statistics (normCollect)
}

// Forward normalises x with the statistics its mode selects.
func (b *adaptNorm) Forward(x *tensor.Tensor) *tensor.Tensor {
	bn := b.BatchNorm
	switch b.mode {
	case normBatch:
		if b.alpha == 0 {
			return tensor.BatchNorm(x, nil, nil, bn.Weight, bn.Bias, true, 0, bn.Eps)
		}
		mean, vari := channelStats(x)
		rm, rv := bn.RunningMean.Data(), bn.RunningVar.Data()
		a := b.alpha
		m, v := make([]float64, len(mean)), make([]float64, len(mean))
		for c := range mean {
			m[c] = a*float64(rm[c]) + (1-a)*mean[c]
			v[c] = a*float64(rv[c]) + (1-a)*vari[c]
		}
		return tensor.BatchNorm(x, tensor.FromFloat64(m, len(m)), tensor.FromFloat64(v, len(v)), bn.Weight, bn.Bias, false, 0, bn.Eps)
	case normCollect:
		b.batches++
		return tensor.BatchNorm(x, bn.RunningMean, bn.RunningVar, bn.Weight, bn.Bias, true, float32(1/float64(b.batches)), bn.Eps)
	}
	return tensor.BatchNorm(x, bn.RunningMean, bn.RunningVar, bn.Weight, bn.Bias, false, 0, bn.Eps)
}

// channelStats returns the per-channel mean and biased variance of x (N, C, …).
func channelStats(x *tensor.Tensor) (mean, vari []float64) {
	n, c := x.Dim(0), x.Dim(1)
	s := x.Len() / (n * c)
	d := x.Data()
	mean, vari = make([]float64, c), make([]float64, c)
	for ch := 0; ch < c; ch++ {
		var sum float64
		for i := 0; i < n; i++ {
			for _, v := range d[(i*c+ch)*s : (i*c+ch+1)*s] {
				sum += float64(v)
			}
		}
		m := sum / float64(n*s)
		var ss float64
		for i := 0; i < n; i++ {
			for _, v := range d[(i*c+ch)*s : (i*c+ch+1)*s] {
				ss += (float64(v) - m) * (float64(v) - m)
			}
		}
		mean[ch], vari[ch] = m, ss/float64(n*s)
	}
	return mean, vari
}

// adaptable is a method's own copy of the source model, with each batch norm
// replaced by an adaptNorm, and the source state to reset it to.
type adaptable struct {
	name   string
	source models.Classifier
	model  models.Classifier
	norms  []*adaptNorm
	saved  state
}

// newAdaptable copies source for the method called name. With needNorm it
// returns an error when the model has no batch norm.
func newAdaptable(name string, source models.Classifier, needNorm bool) (*adaptable, error) {
	if source == nil {
		return nil, fmt.Errorf("tta.%s: source model is nil", name)
	}
	m, err := CopyModel(source)
	if err != nil {
		return nil, fmt.Errorf("tta.%s: %w", name, err)
	}
	a := &adaptable{name: name, source: source, model: m}
	nn.Eval(m)
	for _, nm := range nn.Modules(m) {
		bn, ok := nm.Module.(*nn.BatchNorm)
		if !ok {
			continue
		}
		if bn.RunningMean == nil || bn.RunningVar == nil {
			return nil, fmt.Errorf("tta.%s: batch norm %q keeps no running statistics", name, nm.Name)
		}
		an := &adaptNorm{BatchNorm: bn}
		if err := nn.Replace(m, nm.Name, an); err != nil {
			return nil, fmt.Errorf("tta.%s: cannot wrap batch norm %q: %w", name, nm.Name, err)
		}
		a.norms = append(a.norms, an)
	}
	if needNorm && len(a.norms) == 0 {
		return nil, fmt.Errorf("tta.%s: model %T has no BatchNorm layer; this method adapts batch-norm statistics or parameters", name, source)
	}
	a.saved = snapshot(m)
	return a, nil
}

// setNorms puts every batch norm in mode, with source weight alpha.
func (a *adaptable) setNorms(mode normMode, alpha float64) {
	for _, b := range a.norms {
		b.mode, b.alpha = mode, alpha
	}
}

// reset writes the source state back and forgets collected statistics.
func (a *adaptable) reset() error {
	for _, b := range a.norms {
		b.batches = 0
	}
	return a.saved.restore(a.model)
}

// normParameters returns the affine parameters (weight, bias) of every batch norm.
func (a *adaptable) normParameters() []*tensor.Tensor {
	var ps []*tensor.Tensor
	for _, b := range a.norms {
		for _, p := range []*tensor.Tensor{b.Weight, b.Bias} {
			if p != nil {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// Model returns the method's adapted copy of the source model, e.g. to
// inspect its parameters; the source model itself is never changed.
func (a *adaptable) Model() models.Classifier { return a.model }

// Name names the method in tables and legends.
func (a *adaptable) Name() string { return a.name }

// checkBatch returns an error for an empty batch, or one too small for
// batch statistics when batchStats is set.
func checkBatch(name string, x *tensor.Tensor, batchStats bool) error {
	switch {
	case x == nil:
		return fmt.Errorf("tta.%s: batch is nil", name)
	case x.Dims() < 1 || x.Dim(0) == 0 || x.Len() == 0:
		return fmt.Errorf("tta.%s: batch %s is empty (0 rows)", name, tensor.FormatShape(x.Shape()))
	case batchStats && x.Dim(0) < 2:
		return fmt.Errorf("tta.%s: batch %s has 1 row; batch statistics need at least 2", name, tensor.FormatShape(x.Shape()))
	}
	return nil
}

// checkUnit returns an error unless v (named what) is a number in [0, 1].
func checkUnit(method, what string, v float64) error {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return fmt.Errorf("tta.%s: %s %g is outside [0, 1]", method, what, v)
	}
	return nil
}

// Source is the unadapted source model as a Method: the baseline every
// adaptation is compared with. Batch norms use the source statistics.
type Source struct{ *adaptable }

// NewSource returns the source model, unadapted, as a Method.
func NewSource(m models.Classifier) (*Source, error) {
	a, err := newAdaptable("Source", m, false)
	if err != nil {
		return nil, err
	}
	return &Source{a}, nil
}

// Adapt returns the source model's logits of x; nothing is adapted.
func (s *Source) Adapt(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkBatch("Source", x, false); err != nil {
		return nil, err
	}
	return forward(s.model, x), nil
}

// Reset does nothing: the source model is never changed.
func (s *Source) Reset() error { return nil }

// forward returns m's logits of x without recording gradients.
func forward(m models.Classifier, x *tensor.Tensor) *tensor.Tensor {
	defer tensor.NoGrad()()
	return m.Forward(x)
}

// BNOptions are the settings of NewBN.
type BNOptions struct {
	// Alpha is the weight of the source statistics in α-BN:
	// μ = αμ_source + (1−α)μ_batch and σ² = ασ²_source + (1−α)σ²_batch
	// (σ²_batch the biased variance). 0, the default, normalises each
	// batch with its own statistics alone, as PyTorch's batch norm in
	// training mode does; 1 is the source model. It must lie in [0, 1].
	Alpha float64
}

// BN is test-batch normalisation: every batch norm normalises each test
// batch with that batch's statistics (α-BN mixes in the source statistics).
// Parameters and running statistics never change, so it has no state
// across batches.
type BN struct {
	*adaptable
	alpha float64
}

// NewBN returns test-batch normalisation of m. It returns an error when m has
// no batch norm or the α of opt is outside [0, 1].
func NewBN(m models.Classifier, opt BNOptions) (*BN, error) {
	if err := checkUnit("NewBN", "alpha", opt.Alpha); err != nil {
		return nil, err
	}
	name := "BN"
	if opt.Alpha > 0 {
		name = fmt.Sprintf("α-BN (α=%g)", opt.Alpha)
	}
	a, err := newAdaptable(name, m, true)
	if err != nil {
		return nil, err
	}
	a.setNorms(normBatch, opt.Alpha)
	return &BN{a, opt.Alpha}, nil
}

// Adapt returns the logits of x normalised with its own statistics.
func (b *BN) Adapt(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkBatch("BN", x, b.alpha < 1); err != nil {
		return nil, err
	}
	return forward(b.model, x), nil
}

// Reset does nothing: test-batch normalisation keeps no state.
func (b *BN) Reset() error { return nil }

// AdaBN re-estimates the batch-norm running statistics on the target data
// (Li et al. 2017): each batch is folded into a cumulative average of the
// statistics of every batch seen since the last Reset, as PyTorch's batch
// norm does with momentum None, and then classified with them in evaluation
// mode. Episodically it estimates from the one batch; continually from the
// whole stream so far.
type AdaBN struct{ *adaptable }

// NewAdaBN returns AdaBN of m, or an error when m has no batch norm.
func NewAdaBN(m models.Classifier) (*AdaBN, error) {
	a, err := newAdaptable("AdaBN", m, true)
	if err != nil {
		return nil, err
	}
	return &AdaBN{a}, nil
}

// Adapt folds the statistics of x into the running statistics, then returns
// the logits of x under them.
func (b *AdaBN) Adapt(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkBatch("AdaBN", x, true); err != nil {
		return nil, err
	}
	b.collect(x)
	return forward(b.model, x), nil
}

// collect folds the statistics of x into the running statistics: the first
// batch after a reset replaces the source statistics.
func (b *AdaBN) collect(x *tensor.Tensor) {
	b.setNorms(normCollect, 0)
	forward(b.model, x)
	b.setNorms(normSource, 0)
}

// Reset restores the source statistics.
func (b *AdaBN) Reset() error { return b.reset() }

// AdaptBN returns a copy of m whose batch-norm running statistics are
// re-estimated on the target batches, averaged over them (AdaBN over a
// whole target set); m is unchanged. It returns an error when m has no
// batch norm or a batch is empty or has one row.
func AdaptBN(m models.Classifier, batches ...*tensor.Tensor) (models.Classifier, error) {
	b, err := NewAdaBN(m)
	if err != nil {
		return nil, err
	}
	if len(batches) == 0 {
		return nil, fmt.Errorf("tta.AdaptBN: no target batches")
	}
	for i, x := range batches {
		if err := checkBatch("AdaptBN", x, true); err != nil {
			return nil, fmt.Errorf("%w (target batch %d)", err, i)
		}
		b.collect(x)
	}
	for _, nm := range nn.Modules(b.model) {
		if an, ok := nm.Module.(*adaptNorm); ok {
			if err := nn.Replace(b.model, nm.Name, an.BatchNorm); err != nil {
				return nil, fmt.Errorf("tta.AdaptBN: %w", err)
			}
		}
	}
	return b.model, nil
}
