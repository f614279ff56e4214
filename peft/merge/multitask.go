package merge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/display"
	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/nn/train"
	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz"
	"github.com/graftml/graft/viz/table"
)

// MultiTaskOptions are the settings of NewMultiTask. Every zero value
// selects the default given.
type MultiTaskOptions struct {
	// Train and Test are the numbers of training and test examples per task
	// (0: 1000 each).
	Train, Test int
	// Pretrain is the number of examples of the pre-training mixture, half
	// from each task (0: 1000).
	Pretrain int
	// PretrainEpochs and FinetuneEpochs are the epochs of pre-training and
	// of each fine-tune (0: 10 and 5).
	PretrainEpochs, FinetuneEpochs int
	// Hidden are the widths of the MLP's hidden layers (nil: 256, 256; wide
	// layers keep fine-tuning nearly linear in the weights, the regime task
	// arithmetic relies on).
	Hidden []int
	// PretrainLR and FinetuneLR are Adam's learning rates (0: 0.003 and
	// 0.001).
	PretrainLR, FinetuneLR float64
	// Seed draws the data, the initial weights and the batches.
	Seed uint64
}

// MultiTask is a synthetic multi-task set-up for merging: one MLP base
// model pre-trained on a mixture of two tasks, and two copies of it
// fine-tuned each on one task. Inputs have 8 coordinates. Task A uses the
// first four: coordinate 0 is a constant 3 that marks the task, 1 to 3 are
// standard normal, 4 to 7 are zero; task B the same on coordinates 4 to 7.
// The 4 classes are the quadrant of coordinates (1, 2) in task A and of
// (5, 6) in task B, through one shared 4-way head. The pre-training mixture
// labels only the first sign (the second bit of the class is random), so the
// base is right about half the time on each task and each fine-tune learns
// the rest of its own task: a good merge keeps both.
type MultiTask struct {
	// Tasks names the tasks ("task A", "task B").
	Tasks []string
	// Train and Test hold each task's training and test set.
	Train, Test []*data.Dataset
	// Config is the architecture of every model of the set-up.
	Config models.MLPConfig
	// Base is the pre-trained model; Finetuned holds one fine-tune of it
	// per task. All are in evaluation mode.
	Base      *models.MLP
	Finetuned []*models.MLP
}

// NewMultiTask builds the data, pre-trains the base and fine-tunes it on
// each task (a few seconds on one core).
func NewMultiTask(opt MultiTaskOptions) (*MultiTask, error) {
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"train", opt.Train}, {"test", opt.Test}, {"pretrain", opt.Pretrain}, {"pretrain epochs", opt.PretrainEpochs}, {"finetune epochs", opt.FinetuneEpochs}} {
		if f.v < 0 {
			return nil, fmt.Errorf("merge: multi-task %s %d is negative", f.name, f.v)
		}
	}
	rate := func(name string, v, d float64) (float64, error) {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("merge: multi-task %s %v is not a positive number", name, v)
		}
		if v == 0 {
			return d, nil
		}
		return v, nil
	}
	preLR, err := rate("pretrain learning rate", opt.PretrainLR, 0.003)
	if err != nil {
		return nil, err
	}
	ftLR, err := rate("finetune learning rate", opt.FinetuneLR, 0.001)
	if err != nil {
		return nil, err
	}
	nTrain, nTest, nPre := def(opt.Train, 1000), def(opt.Test, 1000), def(opt.Pretrain, 1000)
	hidden := opt.Hidden
	if hidden == nil {
		hidden = []int{256, 256}
	}
	s := &MultiTask{Tasks: []string{"task A", "task B"},
		Config: models.MLPConfig{Inputs: 8, Hidden: hidden, Classes: 4}}
	rng := tensor.NewRNG(opt.Seed)
	var pre []*data.Dataset
	for k, name := range s.Tasks {
		tr, err := quadrantTask(name+" (train)", k, nTrain, false, rng)
		if err != nil {
			return nil, err
		}
		te, err := quadrantTask(name+" (test)", k, nTest, false, rng)
		if err != nil {
			return nil, err
		}
		p, err := quadrantTask(name, k, (nPre+1-k)/2, true, rng)
		if err != nil {
			return nil, err
		}
		s.Train, s.Test, pre = append(s.Train, tr), append(s.Test, te), append(pre, p)
	}
	mixture, err := data.New("mixture", tensor.Concat(0, pre[0].X, pre[1].X), append(append([]int(nil), pre[0].Labels...), pre[1].Labels...), pre[0].Classes)
	if err != nil {
		return nil, err
	}
	s.Base, err = models.NewMLP(s.Config, rng)
	if err != nil {
		return nil, err
	}
	if err := fitClassifier(s.Base, mixture, def(opt.PretrainEpochs, 10), preLR, opt.Seed+1); err != nil {
		return nil, err
	}
	for k := range s.Tasks {
		ft, err := s.NewModel()
		if err != nil {
			return nil, err
		}
		if err := nn.LoadStateDict(ft, nn.StateDict(s.Base), true); err != nil {
			return nil, err
		}
		if err := fitClassifier(ft, s.Train[k], def(opt.FinetuneEpochs, 5), ftLR, opt.Seed+2+uint64(k)); err != nil {
			return nil, err
		}
		s.Finetuned = append(s.Finetuned, ft)
	}
	return s, nil
}

// quadrantTask draws n examples of task k (see MultiTask); coarse draws
// the second bit of each label at random.
func quadrantTask(name string, k, n int, coarse bool, rng *tensor.RNG) (*data.Dataset, error) {
	x := tensor.Zeros(n, 8)
	v := x.Data()
	noise := tensor.Randn(rng, n, 3).Data()
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		row := v[i*8+4*k : i*8+4*k+4]
		row[0] = 3
		copy(row[1:], noise[i*3:i*3+3])
		if row[1] > 0 {
			labels[i] += 2
		}
		if coarse {
			labels[i] += rng.IntN(2)
		} else if row[2] > 0 {
			labels[i]++
		}
	}
	return data.New(name, x, labels, []string{"−−", "−+", "+−", "++"})
}

// fitClassifier trains model on ds with Adam and cross-entropy, then puts
// it in evaluation mode.
func fitClassifier(model *models.MLP, ds *data.Dataset, epochs int, lr float64, seed uint64) error {
	opt, err := optim.NewAdam(nn.TrainableParameters(model), optim.AdamConfig{LR: lr})
	if err != nil {
		return err
	}
	_, err = train.Run(context.Background(), train.Config{
		Model: model, Optimizer: opt, Train: ds, BatchSize: 32, Epochs: epochs, Shuffle: true, Seed: seed,
		Loss: func(b train.Batch) (*tensor.Tensor, error) { return nn.CrossEntropy(model.Forward(b.X), b.Labels), nil },
	})
	nn.Eval(model)
	return err
}

// NewModel returns a fresh model of the set-up's architecture (random
// weights), to merge into.
func (s *MultiTask) NewModel() (*models.MLP, error) {
	m, err := models.NewMLP(s.Config, tensor.NewRNG(0))
	if err != nil {
		return nil, err
	}
	nn.Eval(m)
	return m, nil
}

// Accuracies returns model's accuracy on each task's test set.
func (s *MultiTask) Accuracies(model nn.Layer) []float64 {
	out := make([]float64, len(s.Test))
	tensor.WithNoGrad(func() {
		for k, ds := range s.Test {
			out[k] = nn.Accuracy(model.Forward(ds.X), ds.Labels)
		}
	})
	return out
}

// TaskVectors returns the task vector of each fine-tune.
func (s *MultiTask) TaskVectors() ([]*TaskVector, error) {
	out := make([]*TaskVector, len(s.Finetuned))
	for k, ft := range s.Finetuned {
		v, err := NewTaskVector(s.Base, ft)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// Fisher returns Fisher merging for the set-up: each fine-tune's diagonal
// Fisher estimated on its own task's training set with opt.
func (s *MultiTask) Fisher(opt FisherOptions) (Fisher, error) {
	var f Fisher
	for k, ft := range s.Finetuned {
		fk, err := EstimateFisher(ft, s.Train[k], opt)
		if err != nil {
			return Fisher{}, err
		}
		f.Fishers = append(f.Fishers, fk)
	}
	return f, nil
}

// Merged returns the fine-tunes merged with m, as a model of the set-up's
// architecture in evaluation mode.
func (s *MultiTask) Merged(m Method) (*models.MLP, error) {
	dst, err := s.NewModel()
	if err != nil {
		return nil, err
	}
	finetuned := make([]nn.Module, len(s.Finetuned))
	for k, ft := range s.Finetuned {
		finetuned[k] = ft
	}
	if err := MergeInto(dst, s.Base, finetuned, m); err != nil {
		return nil, err
	}
	return dst, nil
}

// Candidate is a merge method under the name a comparison shows it by.
type Candidate struct {
	Name   string
	Method Method
}

// Compare merges the fine-tunes with every candidate and measures each
// merged model on every task, next to the base and the fine-tunes.
func (s *MultiTask) Compare(candidates []Candidate) (*Comparison, error) {
	c := &Comparison{Tasks: s.Tasks}
	add := func(name string, m nn.Layer) {
		c.Rows = append(c.Rows, ComparisonRow{Name: name, Accuracy: s.Accuracies(m)})
	}
	add("base", s.Base)
	for k, ft := range s.Finetuned {
		add("fine-tuned on "+s.Tasks[k], ft)
	}
	for _, cand := range candidates {
		if cand.Method == nil {
			return nil, fmt.Errorf("merge: candidate %q has no method", cand.Name)
		}
		m, err := s.Merged(cand.Method)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cand.Name, err)
		}
		add(cand.Name, m)
	}
	return c, c.fill()
}

// Comparison is the per-task accuracy of models merged by several methods,
// next to the base and the fine-tunes. It shows itself as a table.
type Comparison struct {
	// Tasks names the tasks.
	Tasks []string
	// Rows holds the base, one fine-tune per task, then each method.
	Rows []ComparisonRow
}

// ComparisonRow is one model's result in a Comparison.
type ComparisonRow struct {
	// Name names the model or method.
	Name string
	// Accuracy holds the test accuracy on each task.
	Accuracy []float64
	// Mean is the mean accuracy over the tasks.
	Mean float64
	// Kept holds, per task k, the fraction of fine-tune k's gain over the
	// base the model keeps: (acc − acc_base) / (acc_ft,k − acc_base).
	Kept []float64
}

// fill computes the means and kept gains; the first row is the base and
// the next len(Tasks) rows are the fine-tunes.
func (c *Comparison) fill() error {
	if len(c.Rows) < 1+len(c.Tasks) {
		return errors.New("merge: a comparison needs the base and one fine-tune per task")
	}
	base := c.Rows[0].Accuracy
	for i := range c.Rows {
		r := &c.Rows[i]
		r.Mean, r.Kept = 0, make([]float64, len(c.Tasks))
		for k, a := range r.Accuracy {
			r.Mean += a / float64(len(r.Accuracy))
			r.Kept[k] = (a - base[k]) / (c.Rows[1+k].Accuracy[k] - base[k])
		}
	}
	return nil
}

// Row returns the row called name, or nil.
func (c *Comparison) Row(name string) *ComparisonRow {
	for i := range c.Rows {
		if c.Rows[i].Name == name {
			return &c.Rows[i]
		}
	}
	return nil
}

// Table returns the comparison as a table: per model, the accuracy on each
// task, the mean, and the share of each fine-tune's gain it keeps.
func (c *Comparison) Table() *table.Table {
	cols := []string{"model"}
	for _, t := range c.Tasks {
		cols = append(cols, t)
	}
	cols = append(cols, "mean")
	for _, t := range c.Tasks {
		cols = append(cols, "gain kept, "+t)
	}
	tab := table.New(cols...)
	tab.Digits = 3
	for _, r := range c.Rows {
		row := []any{r.Name}
		for _, a := range r.Accuracy {
			row = append(row, a)
		}
		row = append(row, r.Mean)
		for _, k := range r.Kept {
			row = append(row, fmt.Sprintf("%.0f%%", 100*k))
		}
		tab.AddRow(row...)
	}
	return tab
}

// String returns the table as text.
func (c *Comparison) String() string { return c.Table().String() }

// Display shows the comparison's table.
func (c *Comparison) Display() display.Bundle { return c.Table().Display() }

// Plot draws the comparison as grouped bars: per model, its accuracy on
// each task and the mean.
func (c *Comparison) Plot() (*viz.Figure, error) {
	labels := make([]string, len(c.Rows))
	groups := make([]viz.BarGroup, len(c.Tasks)+1)
	for k, t := range c.Tasks {
		groups[k].Name = t
	}
	groups[len(c.Tasks)].Name = "mean"
	for i, r := range c.Rows {
		labels[i] = strings.TrimPrefix(r.Name, "fine-tuned on ")
		if labels[i] != r.Name {
			labels[i] = "FT " + labels[i]
		}
		for k, a := range r.Accuracy {
			groups[k].Values = append(groups[k].Values, a)
		}
		groups[len(c.Tasks)].Values = append(groups[len(c.Tasks)].Values, r.Mean)
	}
	opt := viz.BarOptions{Options: viz.Options{Title: "test accuracy per task", YLabel: "accuracy", YMax: 1}, Orientation: "vertical"}
	if len(c.Rows) > 6 {
		// Many models: one row of bars each, the accuracy along x.
		opt.Orientation = "horizontal"
		opt.XLabel, opt.YLabel, opt.XMax, opt.YMax = "accuracy", "", 1, 0
		opt.Height = 1 + 0.4*float64(len(c.Rows))
		opt.Legend = "bottom-right"
	}
	return viz.Bars(labels, groups, opt)
}
