package tta

import (
	"fmt"
	"math"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// SHOTOptions are the settings of NewSHOT.
type SHOTOptions struct {
	// Beta weighs the cross-entropy to the centroid pseudo-labels
	// (0: 0.3, the paper's value; negative: 0, information maximisation alone).
	Beta float64
	// Rounds is the number of refinements of the centroids with hard
	// labels after the first, probability-weighted ones (0: 1; negative: none).
	Rounds int
	// Optim updates the feature extractor (default Adam, learning rate 1e-3,
	// one step per batch).
	Optim Optim
}

// SHOT is source hypothesis transfer (Liang et al. 2020) run on each test
// batch: the head (the source hypothesis) is frozen and the feature
// extractor is trained to make predictions confident and diverse, the
// information-maximisation loss InfoMaxLoss, plus β times the cross-entropy
// to pseudo-labels from class centroids in feature space (PseudoLabels).
// Batch norms normalise with the batch's statistics.
type SHOT struct {
	*adaptable
	opt       Optim
	beta      float64
	rounds    int
	optimizer optim.Optimizer
	params    []*tensor.Tensor
}

// NewSHOT returns SHOT on a copy of m, or an error for invalid options.
func NewSHOT(m models.Classifier, opt SHOTOptions) (*SHOT, error) {
	o, err := opt.Optim.withDefaults("NewSHOT", 1e-3)
	if err != nil {
		return nil, err
	}
	if math.IsNaN(opt.Beta) {
		return nil, fmt.Errorf("tta.NewSHOT: beta is NaN")
	}
	s := &SHOT{opt: o, beta: orDefault(opt.Beta, 0.3), rounds: orDefault(opt.Rounds, 1)}
	if s.adaptable, err = newAdaptable("SHOT", m, false); err != nil {
		return nil, err
	}
	s.setNorms(normBatch, 0)
	nn.Freeze(s.model.Head())
	s.params = nn.TrainableParameters(s.model)
	if len(s.params) == 0 {
		return nil, fmt.Errorf("tta.NewSHOT: model %T has no trainable parameters outside its head", m)
	}
	return s, s.Reset()
}

// Adapt takes the SHOT steps on x and returns the logits of x after them.
func (s *SHOT) Adapt(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkBatch("SHOT", x, len(s.norms) > 0); err != nil {
		return nil, err
	}
	for k := 0; k < s.opt.Steps; k++ {
		f := s.model.Features(x)
		logits := s.model.Classify(f)
		loss := InfoMaxLoss(logits)
		if s.beta > 0 {
			labels, err := PseudoLabels(f.Detach(), logits.Detach().Softmax(1), s.rounds)
			if err != nil {
				return nil, err
			}
			loss = loss.Add(nn.CrossEntropy(logits, labels).Scale(float32(s.beta)))
		}
		step(s.optimizer, loss)
	}
	return forward(s.model, x), nil
}

// Reset restores the source parameters and starts a fresh optimiser.
func (s *SHOT) Reset() error {
	if err := s.reset(); err != nil {
		return err
	}
	var err error
	s.optimizer, err = s.opt.build(s.params)
	return err
}

// infoMaxEps is added to the marginal before its logarithm, as in SHOT.
const infoMaxEps = 1e-5

// InfoMaxLoss returns SHOT's information-maximisation loss of logits (N, K):
// the mean entropy of the rows' softmax minus the entropy of their mean
// p̄ (diversity), (1/N)Σᵢ H(pᵢ) + Σₖ p̄ₖ log(p̄ₖ + 1e-5). Minimising it makes
// each prediction confident and the predictions spread over the classes.
func InfoMaxLoss(logits *tensor.Tensor) *tensor.Tensor {
	p := logits.Softmax(1)
	ent := p.Mul(logits.LogSoftmax(1)).Sum(1).Mean().Neg()
	pbar := p.Mean(0)
	return ent.Add(pbar.Mul(pbar.AddScalar(infoMaxEps).Log()).Sum())
}

// PseudoLabels returns SHOT's self-supervised labels of a batch from its
// features (N, D) and predicted probabilities (N, K): features are extended
// by a constant 1 and scaled to unit length; class centroids are the means of
// the features weighted by the probabilities; each row takes the class of
// the nearest centroid by cosine distance, among the classes some row
// predicts; then rounds times the centroids are recomputed from these hard
// labels and the rows relabelled.
func PseudoLabels(features, probs *tensor.Tensor, rounds int) ([]int, error) {
	if features.Dims() != 2 || probs.Dims() != 2 || features.Dim(0) != probs.Dim(0) || features.Dim(0) == 0 {
		return nil, fmt.Errorf("tta.PseudoLabels: features %s and probabilities %s must be (N, D) and (N, K) with the same N > 0",
			tensor.FormatShape(features.Shape()), tensor.FormatShape(probs.Shape()))
	}
	n, d, k := features.Dim(0), features.Dim(1), probs.Dim(1)
	fd, pd := features.Data(), probs.Data()
	f := make([][]float64, n)
	for i := range f {
		row := make([]float64, d+1)
		var ss float64
		for j := 0; j < d; j++ {
			row[j] = float64(fd[i*d+j])
			ss += row[j] * row[j]
		}
		row[d] = 1
		norm := math.Sqrt(ss + 1)
		for j := range row {
			row[j] /= norm
		}
		f[i] = row
	}
	allowed := make([]bool, k)
	weights := make([][]float64, n)
	for i := range weights {
		weights[i] = make([]float64, k)
		best := 0
		for c := 0; c < k; c++ {
			weights[i][c] = float64(pd[i*k+c])
			if pd[i*k+c] > pd[i*k+best] {
				best = c
			}
		}
		allowed[best] = true
	}
	labels := nearestCentroid(f, weights, allowed)
	for r := 0; r < rounds; r++ {
		for i := range weights {
			for c := range weights[i] {
				weights[i][c] = 0
			}
			weights[i][labels[i]] = 1
		}
		labels = nearestCentroid(f, weights, allowed)
	}
	return labels, nil
}

// nearestCentroid labels each row of f with the allowed class whose
// weighted centroid is nearest in cosine distance.
func nearestCentroid(f, weights [][]float64, allowed []bool) []int {
	k, d := len(allowed), len(f[0])
	cent := make([][]float64, k)
	for c := range cent {
		cent[c] = make([]float64, d)
		var w float64
		for i, row := range f {
			w += weights[i][c]
			for j, v := range row {
				cent[c][j] += weights[i][c] * v
			}
		}
		for j := range cent[c] {
			cent[c][j] /= w + 1e-8
		}
	}
	labels := make([]int, len(f))
	for i, row := range f {
		best, bestD := -1, math.Inf(1)
		for c := range cent {
			if !allowed[c] {
				continue
			}
			var dot, nc float64
			for j, v := range row {
				dot += v * cent[c][j]
				nc += cent[c][j] * cent[c][j]
			}
			dist := 1 - dot/math.Sqrt(nc+1e-16)
			if dist < bestD {
				best, bestD = c, dist
			}
		}
		labels[i] = best
	}
	return labels
}
