package prompt

import (
	"fmt"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// FewShot returns shots examples of every class of ds, drawn without
// replacement from seed, ordered class by class; a class with fewer
// examples is an error naming it.
func FewShot(ds *data.Dataset, shots int, seed uint64) (*data.Dataset, error) {
	if ds == nil || ds.Labels == nil {
		return nil, fmt.Errorf("prompt: few-shot sampling needs a labelled dataset")
	}
	if shots <= 0 {
		return nil, fmt.Errorf("prompt: %d shots, must be positive", shots)
	}
	byClass := make([][]int, ds.NumClasses())
	for i, l := range ds.Labels {
		byClass[l] = append(byClass[l], i)
	}
	r := tensor.NewRNG(seed)
	var idx []int
	for k, rows := range byClass {
		if len(rows) < shots {
			return nil, fmt.Errorf("prompt: class %d %q has %d examples, fewer than %d shots", k, ds.ClassName(k), len(rows), shots)
		}
		for _, j := range r.Perm(len(rows))[:shots] {
			idx = append(idx, rows[j])
		}
	}
	out := ds.Subset(idx)
	out.Name = fmt.Sprintf("%s, %d-shot", ds.Name, shots)
	return out, nil
}

// FitOptions sets few-shot training; zero fields take the defaults shown.
type FitOptions struct {
	Steps     int     // Adam steps (default 100)
	BatchSize int     // images per step, drawn at random (default 32; at most all)
	LR        float64 // Adam's learning rate (default 2e-3)
	Seed      uint64  // batch sampling
}

// Fit trains l's parameters by cross-entropy on the logits of images whose
// labels index classes, returning the loss of each step; the model stays
// frozen.
func Fit(l Learner, images *tensor.Tensor, labels []int, classes []string, opt FitOptions) ([]float64, error) {
	if opt.Steps == 0 {
		opt.Steps = 100
	}
	if opt.BatchSize == 0 {
		opt.BatchSize = 32
	}
	if opt.LR == 0 {
		opt.LR = 2e-3
	}
	if opt.Steps < 0 || opt.BatchSize < 0 || opt.LR < 0 {
		return nil, fmt.Errorf("prompt: fit steps %d, batch size %d, learning rate %g: none may be negative", opt.Steps, opt.BatchSize, opt.LR)
	}
	if images == nil || images.Dims() == 0 || images.Dim(0) != len(labels) || len(labels) == 0 {
		return nil, fmt.Errorf("prompt: %d labels for the images (need one per image, at least one)", len(labels))
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("prompt: empty class list")
	}
	for i, c := range labels {
		if c < 0 || c >= len(classes) {
			return nil, fmt.Errorf("prompt: label %d of image %d is outside the %d classes", c, i, len(classes))
		}
	}
	adam, err := optim.NewAdam(l.Parameters(), optim.AdamConfig{LR: opt.LR})
	if err != nil {
		return nil, err
	}
	r := tensor.NewRNG(opt.Seed)
	n := len(labels)
	b := min(opt.BatchSize, n)
	losses := make([]float64, 0, opt.Steps)
	for range opt.Steps {
		idx := r.Perm(n)[:b]
		y := make([]int, b)
		for i, j := range idx {
			y[i] = labels[j]
		}
		logits, err := l.Logits(images.IndexSelect(0, idx), classes)
		if err != nil {
			return losses, err
		}
		loss := nn.CrossEntropy(logits, y)
		loss.Backward()
		adam.Step()
		adam.ZeroGrad()
		losses = append(losses, float64(loss.Item()))
	}
	return losses, nil
}
