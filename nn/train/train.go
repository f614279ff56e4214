// Package train is graft's one training loop: batches from a dataset, a
// user-supplied loss, gradient accumulation and clipping, learning-rate
// schedules, periodic evaluation, progress callbacks, and checkpoints that a
// later run (in another process) resumes bit-identically.
//
//	hist, err := train.Run(ctx, train.Config{
//		Model:     model,
//		Optimizer: opt,
//		Schedule:  optim.WarmupCosine{Warmup: 100, Total: 2000},
//		Loss: func(b train.Batch) (*tensor.Tensor, error) {
//			return model.Forward(b.X).Sub(b.Y).Square().Mean(), nil
//		},
//		Train: trainSet, Eval: testSet,
//		BatchSize: 64, Epochs: 10, Shuffle: true, Seed: 1,
//		CheckpointDir: "runs/mlp",
//	})
//
// Steps are optimiser updates, numbered from 1; epochs and batches in
// messages are numbered from 1 too. The loop stops between steps when its
// context is cancelled, and never lets a panic in user code escape.
package train

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime/debug"
	"strings"
	"time"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz"
)

// DefaultBatchSize is the batch size used when Config.BatchSize is 0.
const DefaultBatchSize = 32

// Config describes a training run. Optimizer, Train and one of Loss or Step
// are required; everything else has a default.
type Config struct {
	// Model is the module being trained. It is put in training mode, in
	// evaluation mode while evaluating, and is what checkpoints save
	// (required for checkpoints and Resume).
	Model nn.Module
	// Optimizer updates the parameters; its groups' learning rates follow Schedule.
	Optimizer optim.Optimizer
	// Schedule, if set, sets every group's LR to BaseLR·Factor(s) before the
	// update with 0-based index s.
	Schedule optim.Schedule

	// Loss returns the loss of a batch. Set Loss or Step, not both. Once the
	// loss is back-propagated, Run frees the tensors computed on the way to it
	// (tensor.Release) for the next batch to reuse: to keep one beyond its
	// step, keep its Detach or Clone.
	Loss func(b Batch) (*tensor.Tensor, error)
	// Step returns the loss of a batch and metrics to record with it
	// (averaged over accumulated batches and over each epoch).
	Step func(b Batch) (loss *tensor.Tensor, metrics map[string]float64, err error)

	// Train is the training set.
	Train Dataset
	// Eval, if set, is evaluated every EvalEvery steps (or at each epoch's end).
	Eval Dataset
	// Evaluate returns metrics for one evaluation batch; they are averaged
	// over the evaluation set weighted by batch size. It runs without
	// gradients and with the model in evaluation mode. Unset, evaluation
	// reports the Loss (or Step) function's "loss" and metrics.
	Evaluate func(b Batch) map[string]float64
	// EvalBatchSize is the evaluation batch size (default: BatchSize).
	EvalBatchSize int

	// BatchSize is the number of examples per batch (default 32).
	BatchSize int
	// Epochs is the number of passes over Train; MaxSteps caps the number of
	// steps. Training stops at whichever comes first; with neither set it
	// runs one epoch, with only MaxSteps it runs as many epochs as needed.
	Epochs, MaxSteps int
	// Shuffle draws a new order of Train each epoch, a function of (Seed, epoch) only.
	Shuffle bool
	// DropLast leaves out each epoch's last batch if it is smaller than BatchSize.
	DropLast bool
	// Seed seeds the shuffling.
	Seed uint64
	// GradAccumulation is the number of batches whose gradients are averaged
	// into one step (default 1). An epoch's last step may have fewer.
	GradAccumulation int
	// ClipGradNorm, if > 0, rescales the gradients so that their total L2
	// norm is at most this before each update; the norm before clipping is
	// recorded as the metric "grad_norm".
	ClipGradNorm float64
	// EvalEvery evaluates every this many steps; 0 evaluates at the end of each epoch.
	EvalEvery int

	// CheckpointDir, if set, is where checkpoints are written, one directory
	// per checkpoint (step-000120/), at the end of training and whenever it
	// stops early.
	CheckpointDir string
	// CheckpointEvery writes a checkpoint every this many steps; 0 writes
	// one at the end of each epoch.
	CheckpointEvery int
	// KeepCheckpoints, if > 0, keeps only the newest this many checkpoints.
	KeepCheckpoints int

	// ContinueOnNonFinite skips a step whose loss is NaN or infinite (no
	// update; counted in History.Skipped) instead of stopping.
	ContinueOnNonFinite bool
	// OnProgress, if set, is called after every step.
	OnProgress func(p Progress)
	// Live shows the run while it trains: in a notebook a progress bar
	// (steps, rate, ETA, latest metrics) and a figure of the loss and
	// evaluation metrics, each updated in place a few times a second at
	// most and ending on the final state; in a terminal a progress line
	// every few seconds.
	Live bool
}

// Progress describes the run after a step, for live displays.
type Progress struct {
	// Step is the number of steps done (1-based number of this step);
	// TotalSteps is how many the run will do.
	Step, TotalSteps int
	// Epoch is the 1-based epoch of this step; Epochs the number of epochs
	// the run will do.
	Epoch, Epochs int
	// Batch is the 1-based number, within the epoch, of this step's last
	// batch; Batches is the number of batches per epoch.
	Batch, Batches int
	// Loss is the step's mean loss (NaN or infinite if Skipped).
	Loss float64
	// Metrics are the step's metrics.
	Metrics map[string]float64
	// LR is the first group's learning rate for this step.
	LR float64
	// Eval holds the evaluation metrics when an evaluation ran after this step.
	Eval map[string]float64
	// Skipped is set when the step's loss was not finite and its update was skipped.
	Skipped bool
	// Elapsed is the time since Run (or Resume) started.
	Elapsed time.Duration
	// StepsPerSecond is the rate of steps in this Run (or Resume) call.
	StepsPerSecond float64
}

// String renders the progress as one line.
func (p Progress) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %d/%d  epoch %d/%d  loss %s  lr %s", p.Step, p.TotalSteps, p.Epoch, p.Epochs, formatFloat(p.Loss), formatFloat(p.LR))
	for _, k := range sortedKeys(keysOf(p.Metrics)) {
		fmt.Fprintf(&b, "  %s %s", k, formatFloat(p.Metrics[k]))
	}
	for _, k := range sortedKeys(keysOf(p.Eval)) {
		fmt.Fprintf(&b, "  eval_%s %s", k, formatFloat(p.Eval[k]))
	}
	if p.Skipped {
		b.WriteString("  (skipped)")
	}
	fmt.Fprintf(&b, "  %.1f steps/s", p.StepsPerSecond)
	return b.String()
}

func keysOf(m map[string]float64) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// ErrNonFinite is wrapped by the error Run returns when a loss (or, with
// clipping, a gradient norm) is NaN or infinite.
var ErrNonFinite = errors.New("non-finite loss")

type nonFiniteError struct{ msg string }

// Error returns the message naming the step.
func (e *nonFiniteError) Error() string { return e.msg }

// Unwrap returns ErrNonFinite.
func (e *nonFiniteError) Unwrap() error { return ErrNonFinite }

// PanicError is the error Run returns when user code it calls (Loss, Step,
// the backward pass, Evaluate, OnProgress, a Dataset) panics.
type PanicError struct {
	// Where names the code that panicked and the step, e.g.
	// "Step at step 12 (epoch 1, batch 3)".
	Where string
	// Value is the value passed to panic.
	Value any
	// Stack is the goroutine's stack when it panicked.
	Stack []byte
}

// Error returns "train: panic in <Where>: <Value>".
func (e *PanicError) Error() string { return fmt.Sprintf("train: panic in %s: %v", e.Where, e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// catch runs f, turning a panic into a *PanicError located by where().
func catch(where func() string, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Where: where(), Value: v, Stack: debug.Stack()}
		}
	}()
	return f()
}

// Run trains cfg.Model and returns the history. On an error (an invalid
// config, a failing or panicking Loss, a non-finite loss, ctx cancelled) it
// returns the history so far with the error, and with CheckpointDir set first
// writes a checkpoint of the last completed step.
func Run(ctx context.Context, cfg Config) (hist *History, err error) {
	var r *runner
	defer guard(&r, &hist, &err, "train.Run")
	r, err = newRunner(ctx, cfg, false)
	if err != nil {
		return &History{}, err
	}
	return r.run()
}

// guard turns a panic that escaped the finer-grained recovery into an error,
// so that Run and Resume never panic.
func guard(r **runner, hist **History, err *error, where string) {
	v := recover()
	if v == nil {
		return
	}
	*err = &PanicError{Where: where, Value: v, Stack: debug.Stack()}
	*hist = &History{}
	if *r != nil {
		*hist = (*r).hist
	}
}

// runner holds one Run's state.
type runner struct {
	ctx  context.Context
	cfg  Config
	hist *History

	params  []*tensor.Tensor // the optimiser's, flattened
	names   []string         // their model names (checkpointing only)
	ckpt    bool             // checkpoints are written or read
	n       int              // training examples
	batches int              // batches per epoch
	steps   int              // steps per epoch
	total   int              // steps the run will do
	epochs  int              // epochs the run will do (for display)
	accum   int

	step  int // steps done
	epoch int // 0-based epoch of the next batch
	batch int // batches of that epoch already used
	perm  []int

	lastCkpt int // step of the last checkpoint written or resumed from (-1: none)

	live *viz.Tracker // the live display (Config.Live), or nil

	// Snapshots taken at the start of each step, so a checkpoint written
	// after a failed step saves the state before it.
	randomStates map[string][]byte
	bufferSnap   [][]float32

	start        time.Time
	stepsThisRun int
}

func newRunner(ctx context.Context, cfg Config, resuming bool) (*runner, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	r := &runner{ctx: ctx, cfg: cfg, hist: &History{}, lastCkpt: -1}
	c := &r.cfg
	switch {
	case c.Optimizer == nil:
		return nil, fmt.Errorf("train: Config.Optimizer is nil")
	case c.Loss == nil && c.Step == nil:
		return nil, fmt.Errorf("train: set Config.Loss or Config.Step")
	case c.Loss != nil && c.Step != nil:
		return nil, fmt.Errorf("train: set Config.Loss or Config.Step, not both")
	case c.Train == nil:
		return nil, fmt.Errorf("train: Config.Train is nil")
	case c.Evaluate != nil && c.Eval == nil:
		return nil, fmt.Errorf("train: Config.Evaluate is set but Config.Eval (the dataset) is nil")
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"BatchSize", c.BatchSize}, {"EvalBatchSize", c.EvalBatchSize}, {"Epochs", c.Epochs}, {"MaxSteps", c.MaxSteps},
		{"GradAccumulation", c.GradAccumulation}, {"EvalEvery", c.EvalEvery}, {"CheckpointEvery", c.CheckpointEvery}, {"KeepCheckpoints", c.KeepCheckpoints}} {
		if f.v < 0 {
			return nil, fmt.Errorf("train: Config.%s is negative (%d)", f.name, f.v)
		}
	}
	if !(c.ClipGradNorm >= 0) || math.IsInf(c.ClipGradNorm, 0) {
		return nil, fmt.Errorf("train: Config.ClipGradNorm must be a finite number ≥ 0, got %v", c.ClipGradNorm)
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.EvalBatchSize == 0 {
		c.EvalBatchSize = c.BatchSize
	}
	if c.GradAccumulation == 0 {
		c.GradAccumulation = 1
	}
	if c.Epochs == 0 && c.MaxSteps == 0 {
		c.Epochs = 1
	}
	if c.Schedule != nil {
		if err := optim.ValidateSchedule(c.Schedule); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	if c.Model != nil {
		if err := checkModule(c.Model); err != nil {
			return nil, err
		}
	}
	r.accum = c.GradAccumulation
	r.n = c.Train.Len()
	if c.DropLast {
		r.batches = r.n / c.BatchSize
	} else {
		r.batches = (r.n + c.BatchSize - 1) / c.BatchSize
	}
	if r.batches == 0 {
		return nil, fmt.Errorf("train: the training set has %d examples, not enough for one batch of %d (DropLast %v)", r.n, c.BatchSize, c.DropLast)
	}
	r.steps = (r.batches + r.accum - 1) / r.accum
	switch {
	case c.Epochs > 0 && c.MaxSteps > 0:
		r.total = min(c.MaxSteps, c.Epochs*r.steps)
		r.epochs = (r.total + r.steps - 1) / r.steps
	case c.Epochs > 0:
		r.total, r.epochs = c.Epochs*r.steps, c.Epochs
	default:
		r.total, r.epochs = c.MaxSteps, (c.MaxSteps+r.steps-1)/r.steps
	}
	r.params = optim.Parameters(c.Optimizer)
	if len(c.Optimizer.Groups()) == 0 {
		return nil, fmt.Errorf("train: the optimiser has no parameter groups")
	}
	r.ckpt = c.CheckpointDir != "" || resuming
	if r.ckpt {
		if c.Model == nil {
			return nil, fmt.Errorf("train: checkpoints need Config.Model")
		}
		names := map[*tensor.Tensor]string{}
		for _, nt := range nn.NamedParameters(c.Model) {
			names[nt.Tensor] = nt.Name
		}
		for i, p := range r.params {
			name, ok := names[p]
			if !ok {
				return nil, fmt.Errorf("train: optimiser parameter %d (shape %s) is not a parameter of the model, so checkpoints could not name its state", i, tensor.FormatShape(p.Shape()))
			}
			r.names = append(r.names, name)
		}
		if _, err := nn.RandomStates(c.Model); err != nil {
			return nil, fmt.Errorf("train: checkpoints: %w", err)
		}
	}
	return r, nil
}

// checkModule reports a Model that nn cannot walk.
func checkModule(m nn.Module) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("train: Config.Model: %v", v)
		}
	}()
	nn.Modules(m)
	return nil
}

// done reports whether the run has reached its step or epoch limit.
func (r *runner) done() bool {
	return (r.cfg.MaxSteps > 0 && r.step >= r.cfg.MaxSteps) || (r.cfg.Epochs > 0 && r.epoch >= r.cfg.Epochs)
}

// where describes the step being computed, for messages.
func (r *runner) where(batch int) string {
	return fmt.Sprintf("step %d (epoch %d, batch %d)", r.step+1, r.epoch+1, batch+1)
}

// indices returns the dataset indices of batch i of the current epoch.
func (r *runner) indices(i int) []int {
	if r.perm == nil {
		r.perm, _ = epochOrder(r.n, r.cfg.Shuffle, r.cfg.Seed, r.epoch)
	}
	lo := i * r.cfg.BatchSize
	return r.perm[lo:min(lo+r.cfg.BatchSize, r.n)]
}

func (r *runner) run() (*History, error) {
	if r.cfg.Live {
		r.live = viz.NewTracker(viz.TrackerOptions{Total: r.total, Description: "training"})
	}
	hist, err := r.runSteps()
	if r.live != nil {
		if err != nil {
			r.live.Fail(err)
		} else {
			r.live.Done()
		}
	}
	return hist, err
}

// runSteps runs steps until the run is done, stopped or failed.
func (r *runner) runSteps() (*History, error) {
	r.start = time.Now()
	if m := r.cfg.Model; m != nil {
		nn.Train(m)
	}
	for !r.done() {
		if err := r.ctx.Err(); err != nil {
			stop := fmt.Errorf("train: stopped after step %d of %d (epoch %d): %w", r.step, r.total, r.epoch+1, err)
			return r.hist, r.fail(stop, false)
		}
		if err := r.doStep(); err != nil {
			return r.hist, err
		}
	}
	if r.cfg.CheckpointDir != "" && r.lastCkpt != r.step {
		if err := r.checkpoint(false); err != nil {
			return r.hist, err
		}
	}
	return r.hist, nil
}

// fail writes a checkpoint of the last completed step if one is configured
// and not yet written, and returns err (joined with any checkpoint error).
// restore says the failure happened inside a step, after the snapshots.
func (r *runner) fail(err error, restore bool) error {
	if r.cfg.CheckpointDir == "" || r.lastCkpt == r.step {
		return err
	}
	if cerr := r.checkpoint(restore); cerr != nil {
		return errors.Join(err, cerr)
	}
	return err
}

// doStep performs one optimiser update over up to GradAccumulation batches.
func (r *runner) doStep() error {
	c := &r.cfg
	if c.Schedule != nil {
		if f := c.Schedule.Factor(r.step); !(f >= 0) || math.IsInf(f, 0) {
			return r.fail(fmt.Errorf("train: the schedule's factor at step %d is %v", r.step+1, f), false)
		}
		optim.Apply(c.Optimizer, c.Schedule, r.step)
	}
	lr := c.Optimizer.Groups()[0].LR
	if c.CheckpointDir != "" {
		if err := r.snapshot(); err != nil {
			return r.fail(err, false)
		}
	}
	c.Optimizer.ZeroGrad()

	startBatch := r.batch
	end := min(startBatch+r.accum, r.batches)
	var lossSum float64
	var metricSums map[string]float64
	count := 0
	skipped := false
	lastBatch := startBatch
	failed := func(err error) error {
		r.batch = startBatch
		return r.fail(err, true)
	}
	for r.batch < end {
		bi := r.batch
		lastBatch = bi
		var loss float64
		var metrics map[string]float64
		err := catch(func() string { return stepName(c) + " at " + r.where(bi) }, func() error {
			b := c.Train.Batch(r.indices(bi))
			var err error
			loss, metrics, err = r.forwardBackward(b, bi)
			return err
		})
		if err != nil {
			return failed(err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			if !c.ContinueOnNonFinite {
				return failed(&nonFiniteError{fmt.Sprintf("train: loss is %v at %s", loss, r.where(bi))})
			}
			lossSum, skipped = loss, true
			r.batch = end
			break
		}
		lossSum += loss
		for k, v := range metrics {
			if metricSums == nil {
				metricSums = map[string]float64{}
			}
			metricSums[k] += v
		}
		count++
		r.batch++
	}

	rec := StepRecord{Step: r.step + 1, Epoch: r.epoch + 1, LR: lr, Skipped: skipped}
	if skipped {
		rec.Loss = lossSum
	} else {
		rec.Loss = lossSum / float64(count)
		if metricSums != nil {
			rec.Metrics = make(map[string]float64, len(metricSums)+1)
			for k, v := range metricSums {
				rec.Metrics[k] = v / float64(count)
			}
		}
		if count > 1 {
			scale := float32(1 / float64(count))
			for _, p := range r.params {
				d := p.GradData()
				for i := range d {
					d[i] *= scale
				}
			}
		}
		if c.ClipGradNorm > 0 {
			norm := optim.ClipGradNorm(r.params, c.ClipGradNorm)
			if rec.Metrics == nil {
				rec.Metrics = map[string]float64{}
			}
			rec.Metrics["grad_norm"] = norm
			if math.IsNaN(norm) || math.IsInf(norm, 0) {
				if !c.ContinueOnNonFinite {
					return failed(&nonFiniteError{fmt.Sprintf("train: gradient norm is %v at %s", norm, r.where(lastBatch))})
				}
				rec.Skipped = true
			}
		}
		if !rec.Skipped {
			c.Optimizer.Step()
		}
	}
	if rec.Skipped {
		r.hist.Skipped++
	}
	r.step++
	r.stepsThisRun++
	r.hist.Records = append(r.hist.Records, rec)

	epochEnded := r.batch >= r.batches
	evalDue := c.Eval != nil && ((c.EvalEvery == 0 && epochEnded) || (c.EvalEvery > 0 && r.step%c.EvalEvery == 0))
	var evalMetrics map[string]float64
	var evalErr error
	if evalDue {
		evalMetrics, evalErr = r.evaluate()
		if evalErr == nil {
			r.hist.Evals = append(r.hist.Evals, EvalRecord{Step: r.step, Epoch: r.epoch + 1, Metrics: evalMetrics})
		}
	}
	if epochEnded {
		r.hist.Epochs = append(r.hist.Epochs, EpochRecord{Epoch: r.epoch + 1, Step: r.step, Train: r.epochMeans(r.epoch + 1), Eval: evalMetrics})
		r.epoch++
		r.batch = 0
		r.perm = nil
	}
	if evalErr != nil {
		return r.fail(evalErr, false)
	}
	if r.live != nil {
		r.showLive(rec, evalMetrics)
	}
	if c.OnProgress != nil {
		elapsed := time.Since(r.start)
		p := Progress{
			Step: r.step, TotalSteps: r.total, Epoch: rec.Epoch, Epochs: r.epochs,
			Batch: lastBatch + 1, Batches: r.batches,
			Loss: rec.Loss, Metrics: maps.Clone(rec.Metrics), LR: rec.LR, Eval: maps.Clone(evalMetrics), Skipped: rec.Skipped,
			Elapsed: elapsed, StepsPerSecond: float64(r.stepsThisRun) / max(elapsed.Seconds(), 1e-9),
		}
		err := catch(func() string { return fmt.Sprintf("OnProgress after step %d", r.step) }, func() error {
			c.OnProgress(p)
			return nil
		})
		if err != nil {
			return r.fail(err, false)
		}
	}
	if c.CheckpointDir != "" && ((c.CheckpointEvery > 0 && r.step%c.CheckpointEvery == 0) || (c.CheckpointEvery == 0 && epochEnded)) {
		if err := r.checkpoint(false); err != nil {
			return err
		}
	}
	return nil
}

// showLive hands a step and its evaluation to the live display.
func (r *runner) showLive(rec StepRecord, eval map[string]float64) {
	metrics := make(map[string]float64, len(rec.Metrics)+2)
	maps.Copy(metrics, rec.Metrics)
	metrics["loss"], metrics["lr"] = rec.Loss, rec.LR
	_ = r.live.Log(rec.Step, metrics) // steps only increase here
	if eval != nil {
		r.live.LogEval(rec.Step, eval)
	}
}

func stepName(c *Config) string {
	if c.Step != nil {
		return "Step"
	}
	return "Loss"
}

// releaseSteps frees each step's graph (tensor.Release) after its backward;
// tests turn it off to measure what that saves.
var releaseSteps = true

// forwardBackward computes one batch's loss and back-propagates it.
func (r *runner) forwardBackward(b Batch, bi int) (float64, map[string]float64, error) {
	c := &r.cfg
	var loss *tensor.Tensor
	var metrics map[string]float64
	var err error
	if c.Step != nil {
		loss, metrics, err = c.Step(b)
	} else {
		loss, err = c.Loss(b)
	}
	if cerr := r.ctx.Err(); cerr != nil {
		// Interrupted while the step ran: whatever the step returned (a
		// cancelled interpreter returns zero values) is not a result.
		return 0, nil, fmt.Errorf("train: interrupted during %s: %w", r.where(bi), cerr)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("train: %s: %w", r.where(bi), err)
	}
	if loss == nil {
		return 0, nil, fmt.Errorf("train: %s: %s returned a nil loss", r.where(bi), stepName(c))
	}
	if loss.Len() != 1 {
		return 0, nil, fmt.Errorf("train: %s: the loss has shape %s; it must be one value (take its Mean or Sum)", r.where(bi), tensor.FormatShape(loss.Shape()))
	}
	// The step's graph is freed once done with, so the next step reuses its memory.
	if releaseSteps {
		defer loss.Release()
	}
	v := float64(loss.Item())
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v, metrics, nil
	}
	if !loss.RequiresGrad() {
		return 0, nil, fmt.Errorf("train: %s: the loss does not depend on any parameter that requires gradients", r.where(bi))
	}
	loss.Backward()
	return v, metrics, nil
}

// epochMeans averages the loss and metrics of the given epoch's unskipped steps.
func (r *runner) epochMeans(epoch int) map[string]float64 {
	sums := map[string]float64{}
	counts := map[string]int{}
	for i := len(r.hist.Records) - 1; i >= 0 && r.hist.Records[i].Epoch == epoch; i-- {
		rec := r.hist.Records[i]
		if rec.Skipped {
			continue
		}
		sums["loss"] += rec.Loss
		counts["loss"]++
		for k, v := range rec.Metrics {
			sums[k] += v
			counts[k]++
		}
	}
	for k := range sums {
		sums[k] /= float64(counts[k])
	}
	return sums
}

// evaluate runs the evaluation set through Evaluate (or the loss) without
// gradients and with the model in evaluation mode.
func (r *runner) evaluate() (map[string]float64, error) {
	c := &r.cfg
	defer tensor.NoGrad()()
	if c.Model != nil {
		nn.Eval(c.Model)
		defer nn.Train(c.Model)
	}
	n := c.Eval.Len()
	sums := map[string]float64{}
	weights := map[string]float64{}
	for lo := 0; lo < n; lo += c.EvalBatchSize {
		idx := make([]int, min(c.EvalBatchSize, n-lo))
		for i := range idx {
			idx[i] = lo + i
		}
		var m map[string]float64
		err := catch(func() string {
			return fmt.Sprintf("evaluation after step %d (examples %d–%d)", r.step, lo, lo+len(idx)-1)
		}, func() error {
			b := c.Eval.Batch(idx)
			if c.Evaluate != nil {
				m = c.Evaluate(b)
				return nil
			}
			var loss *tensor.Tensor
			var err error
			if c.Step != nil {
				loss, m, err = c.Step(b)
			} else {
				loss, err = c.Loss(b)
			}
			if err != nil {
				return fmt.Errorf("train: evaluation after step %d: %w", r.step, err)
			}
			if loss == nil || loss.Len() != 1 {
				return fmt.Errorf("train: evaluation after step %d: the loss is not one value", r.step)
			}
			mm := map[string]float64{"loss": float64(loss.Item())}
			for k, v := range m {
				mm[k] = v
			}
			m = mm
			return nil
		})
		if err != nil {
			return nil, err
		}
		w := float64(len(idx))
		for k, v := range m {
			sums[k] += v * w
			weights[k] += w
		}
	}
	for k := range sums {
		sums[k] /= weights[k]
	}
	return sums, nil
}
