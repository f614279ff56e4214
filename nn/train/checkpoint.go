package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/safetensors"
	"github.com/graftml/graft/tensor"
)

// Files of a checkpoint directory.
const (
	ModelFile     = "model.safetensors"
	OptimizerFile = "optimizer.safetensors"
	TrainerFile   = "trainer.json"
)

// trainerFormat identifies the layout of trainer.json.
const trainerFormat = "graft-trainer/1"

// trainerState is the content of trainer.json.
type trainerState struct {
	Format string `json:"format"`
	// Step is the number of steps done; Epoch (0-based) and Batch are the
	// position of the next batch.
	Step         int               `json:"step"`
	Epoch        int               `json:"epoch"`
	Batch        int               `json:"batch"`
	ScheduleStep int               `json:"schedule_step"`
	LoopRNG      []byte            `json:"loop_rng,omitempty"`
	ModelRNG     map[string][]byte `json:"model_rng,omitempty"`
	Optimizer    optimizerState    `json:"optimizer"`
	Config       fingerprint       `json:"config"`
	History      *History          `json:"history"`
	Saved        string            `json:"saved"`
}

type optimizerState struct {
	Kind   string             `json:"kind"`
	Hyper  map[string]float64 `json:"hyper"`
	Groups []groupState       `json:"groups"`
	Steps  []int64            `json:"steps"`
}

// groupState is an optimiser group as saved: its hyper-parameters and the
// names of its parameters.
type groupState struct {
	optim.GroupState
	Params []string `json:"params"`
}

// fingerprint is what must not change between a checkpoint and the run
// resuming it.
type fingerprint struct {
	BatchSize        int          `json:"batch_size"`
	Seed             uint64       `json:"seed"`
	GradAccumulation int          `json:"grad_accumulation"`
	Shuffle          bool         `json:"shuffle"`
	DropLast         bool         `json:"drop_last"`
	TrainLen         int          `json:"train_examples"`
	Params           []paramShape `json:"params"`
}

type paramShape struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// splitmix64 is a bijective mixer used to derive per-epoch seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// epochOrder returns the order of the n examples in the given epoch — a
// function of (shuffle, seed, epoch) only — and, when shuffling, the state of
// the epoch's generator after drawing it.
func epochOrder(n int, shuffle bool, seed uint64, epoch int) ([]int, []byte) {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	if !shuffle {
		return perm, nil
	}
	rng := tensor.NewRNG(splitmix64(seed ^ splitmix64(uint64(epoch)+1)))
	// Fisher–Yates with Lemire's unbiased bounded draws, written out so the
	// order never depends on how a library implements Perm.
	for i := n - 1; i > 0; i-- {
		bound := uint64(i + 1)
		hi, lo := bits.Mul64(rng.Uint64(), bound)
		if lo < bound {
			thresh := -bound % bound
			for lo < thresh {
				hi, lo = bits.Mul64(rng.Uint64(), bound)
			}
		}
		perm[i], perm[hi] = perm[hi], perm[i]
	}
	state, _ := rng.MarshalBinary()
	return perm, state
}

// snapshot records the model's random states and buffers at the start of a
// step, for a checkpoint written if the step fails.
func (r *runner) snapshot() error {
	st, err := nn.RandomStates(r.cfg.Model)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	r.randomStates = st
	bufs := nn.NamedBuffers(r.cfg.Model)
	if len(r.bufferSnap) != len(bufs) {
		r.bufferSnap = make([][]float32, len(bufs))
	}
	for i, b := range bufs {
		d := b.Tensor.Data()
		if len(r.bufferSnap[i]) != len(d) {
			r.bufferSnap[i] = make([]float32, len(d))
		}
		copy(r.bufferSnap[i], d)
	}
	return nil
}

func (r *runner) fingerprint() fingerprint {
	fp := fingerprint{
		BatchSize: r.cfg.BatchSize, Seed: r.cfg.Seed, GradAccumulation: r.accum,
		Shuffle: r.cfg.Shuffle, DropLast: r.cfg.DropLast, TrainLen: r.n,
	}
	for _, nt := range nn.NamedParameters(r.cfg.Model) {
		fp.Params = append(fp.Params, paramShape{nt.Name, nt.Tensor.Shape()})
	}
	return fp
}

// checkpointName is the directory name of the checkpoint after step.
func checkpointName(step int) string { return fmt.Sprintf("step-%06d", step) }

// checkpoint writes the state after the last completed step into
// CheckpointDir/step-NNNNNN, via a temporary directory renamed into place.
// With restore, the model's random states and buffers are taken from the
// snapshot made at the start of the (failed) current step.
func (r *runner) checkpoint(restore bool) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("train: writing the checkpoint of step %d: %w", r.step, err)
		}
	}()
	dir := r.cfg.CheckpointDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := checkpointName(r.step)
	tmp, err := os.MkdirTemp(dir, ".tmp-"+name+"-")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}

	// Model: parameters and buffers.
	snap := map[*tensor.Tensor][]float32{}
	if restore {
		for i, b := range nn.NamedBuffers(r.cfg.Model) {
			if i < len(r.bufferSnap) {
				snap[b.Tensor] = r.bufferSnap[i]
			}
		}
	}
	var model []safetensors.Entry
	for _, nt := range nn.StateDict(r.cfg.Model) {
		data := nt.Tensor.Data()
		if s, ok := snap[nt.Tensor]; ok {
			data = s
		}
		model = append(model, safetensors.Entry{Name: nt.Name, Shape: nt.Tensor.Shape(), Data: data})
	}
	if err := safetensors.Save(filepath.Join(tmp, ModelFile), model, map[string]string{"format": "pt"}); err != nil {
		return err
	}

	// Optimizer: per-parameter tensors by parameter name, scalars in trainer.json.
	st := r.cfg.Optimizer.State()
	var opt []safetensors.Entry
	ostate := optimizerState{Kind: st.Kind, Hyper: st.Hyper}
	for i, ps := range st.Params {
		ostate.Steps = append(ostate.Steps, ps.Step)
		for _, slot := range sortedSlots(ps.Slots) {
			t := ps.Slots[slot]
			opt = append(opt, safetensors.Entry{Name: r.names[i] + "." + slot, Shape: t.Shape(), Data: t.Data()})
		}
	}
	k := 0
	for _, g := range st.Groups {
		ostate.Groups = append(ostate.Groups, groupState{GroupState: g, Params: r.names[k : k+g.NumParams]})
		k += g.NumParams
	}
	if err := safetensors.Save(filepath.Join(tmp, OptimizerFile), opt, map[string]string{"format": "pt", "optimizer": st.Kind}); err != nil {
		return err
	}

	// Trainer state.
	epoch, batch := r.epoch, r.batch
	if batch >= r.batches {
		epoch, batch = epoch+1, 0
	}
	ts := trainerState{
		Format: trainerFormat, Step: r.step, Epoch: epoch, Batch: batch, ScheduleStep: r.step,
		Optimizer: ostate, Config: r.fingerprint(), History: r.hist, Saved: time.Now().UTC().Format(time.RFC3339),
	}
	_, ts.LoopRNG = epochOrder(r.n, r.cfg.Shuffle, r.cfg.Seed, epoch)
	if restore {
		ts.ModelRNG = r.randomStates
	} else if ts.ModelRNG, err = nn.RandomStates(r.cfg.Model); err != nil {
		return err
	}
	js, err := json.MarshalIndent(ts, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(tmp, TrainerFile), js); err != nil {
		return err
	}

	// Into place, replacing an older checkpoint of the same step.
	final := filepath.Join(dir, name)
	old := ""
	if _, err := os.Stat(final); err == nil {
		if old, err = os.MkdirTemp(dir, ".old-"+name+"-"); err != nil {
			return err
		}
		if err := os.Rename(final, filepath.Join(old, name)); err != nil {
			os.RemoveAll(old)
			return err
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		if old != "" {
			os.Rename(filepath.Join(old, name), final)
			os.RemoveAll(old)
		}
		return err
	}
	done = true
	if old != "" {
		os.RemoveAll(old)
	}
	syncDir(dir)
	r.lastCkpt = r.step
	return r.prune()
}

func sortedSlots(m map[string]*tensor.Tensor) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes renames in dir durable where the platform allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// prune removes all but the newest KeepCheckpoints checkpoints.
func (r *runner) prune() error {
	if r.cfg.KeepCheckpoints <= 0 {
		return nil
	}
	cps, err := listCheckpoints(r.cfg.CheckpointDir)
	if err != nil {
		return err
	}
	for len(cps) > r.cfg.KeepCheckpoints {
		if err := os.RemoveAll(cps[0].path); err != nil {
			return err
		}
		cps = cps[1:]
	}
	return nil
}

type checkpointDir struct {
	step int
	path string
}

// listCheckpoints returns the complete checkpoints in dir, oldest first.
func listCheckpoints(dir string) ([]checkpointDir, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("train: listing checkpoints: %w", err)
	}
	var out []checkpointDir
	for _, e := range ents {
		num, ok := strings.CutPrefix(e.Name(), "step-")
		if !ok || !e.IsDir() {
			continue
		}
		step, err := strconv.Atoi(num)
		if err != nil || step < 0 {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(p, TrainerFile)); err != nil {
			continue
		}
		out = append(out, checkpointDir{step, p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].step < out[j].step })
	return out, nil
}

// LatestCheckpoint returns the directory of the checkpoint with the highest
// step in dir (a Config.CheckpointDir), or an error if there is none.
func LatestCheckpoint(dir string) (string, error) {
	cps, err := listCheckpoints(dir)
	if err != nil {
		return "", err
	}
	if len(cps) == 0 {
		return "", fmt.Errorf("train: no checkpoint in %s", dir)
	}
	return cps[len(cps)-1].path, nil
}

// Resume loads a checkpoint into cfg's model and optimiser and continues
// training as cfg describes, so that the result is bit-identical to a run
// that was never interrupted. dir is either a checkpoint directory or a
// CheckpointDir, whose latest checkpoint is used. cfg must describe the same
// model (parameter names and shapes) and data order (batch size, seed,
// shuffling, accumulation, training-set size) as the checkpointed run;
// Epochs and MaxSteps may grow. The returned history continues the
// checkpoint's. A checkpoint that does not match or cannot be read is an
// error and leaves the model and optimiser unchanged.
func Resume(ctx context.Context, cfg Config, dir string) (hist *History, err error) {
	var r *runner
	defer guard(&r, &hist, &err, "train.Resume")
	r, err = newRunner(ctx, cfg, true)
	if err != nil {
		return &History{}, err
	}
	path := dir
	if _, err := os.Stat(filepath.Join(dir, TrainerFile)); err != nil {
		if path, err = LatestCheckpoint(dir); err != nil {
			return &History{}, err
		}
	}
	if err := r.load(path); err != nil {
		return &History{}, err
	}
	return r.run()
}

// load reads the checkpoint at path into the runner, model and optimiser:
// everything is read and checked first, then applied.
func (r *runner) load(path string) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("train: checkpoint %s: %w", path, err)
		}
	}()
	js, err := os.ReadFile(filepath.Join(path, TrainerFile))
	if err != nil {
		return err
	}
	var ts trainerState
	if err := json.Unmarshal(js, &ts); err != nil {
		return fmt.Errorf("reading %s: %w", TrainerFile, err)
	}
	if ts.Format != trainerFormat {
		return fmt.Errorf("%s has format %q, want %q", TrainerFile, ts.Format, trainerFormat)
	}
	if err := r.match(ts.Config); err != nil {
		return err
	}
	if ts.Step < 0 || ts.Epoch < 0 || ts.Batch < 0 || ts.Batch >= r.batches {
		return fmt.Errorf("%s: position step %d, epoch %d, batch %d is outside an epoch of %d batches", TrainerFile, ts.Step, ts.Epoch, ts.Batch, r.batches)
	}
	if _, loopRNG := epochOrder(r.n, r.cfg.Shuffle, r.cfg.Seed, ts.Epoch); !bytes.Equal(loopRNG, ts.LoopRNG) {
		return fmt.Errorf("the shuffling generator's state differs from the checkpoint's (written by another version of graft?)")
	}
	if ts.History == nil {
		ts.History = &History{}
	}

	// Model tensors, checked against the model by name and shape.
	entries, _, err := safetensors.Load(filepath.Join(path, ModelFile))
	if err != nil {
		return err
	}
	var named []nn.NamedTensor
	given := map[string]bool{}
	own := map[string]*tensor.Tensor{}
	for _, nt := range nn.StateDict(r.cfg.Model) {
		own[nt.Name] = nt.Tensor
	}
	var problems []string
	for _, e := range entries {
		given[e.Name] = true
		t, ok := own[e.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s holds %q, which the model lacks", ModelFile, e.Name))
			continue
		}
		if !slices.Equal(t.Shape(), e.Shape) || len(e.Data) != t.Len() {
			problems = append(problems, fmt.Sprintf("%q has shape %s in %s, %s in the model", e.Name, tensor.FormatShape(e.Shape), ModelFile, tensor.FormatShape(t.Shape())))
			continue
		}
		named = append(named, nn.NamedTensor{Name: e.Name, Tensor: tensor.Wrap(e.Data, e.Shape...)})
	}
	for name := range own {
		if !given[name] {
			problems = append(problems, fmt.Sprintf("%s lacks %q", ModelFile, name))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(problems, "; "))
	}

	// Optimizer state.
	st, err := r.optimizerState(path, ts.Optimizer)
	if err != nil {
		return err
	}

	// Apply: random states, then the optimiser, then the model, undoing on failure.
	prevRNG, err := nn.RandomStates(r.cfg.Model)
	if err != nil {
		return err
	}
	if err := nn.SetRandomStates(r.cfg.Model, ts.ModelRNG); err != nil {
		nn.SetRandomStates(r.cfg.Model, prevRNG)
		return err
	}
	prevOpt := r.cfg.Optimizer.State()
	if err := r.cfg.Optimizer.LoadState(st); err != nil {
		nn.SetRandomStates(r.cfg.Model, prevRNG)
		return err
	}
	if err := nn.LoadStateDict(r.cfg.Model, named, true); err != nil {
		nn.SetRandomStates(r.cfg.Model, prevRNG)
		r.cfg.Optimizer.LoadState(prevOpt)
		return err
	}
	r.step, r.epoch, r.batch = ts.Step, ts.Epoch, ts.Batch
	r.perm = nil
	r.hist = ts.History
	r.lastCkpt = ts.Step
	return nil
}

// match reports how the checkpoint's fingerprint differs from this run.
func (r *runner) match(fp fingerprint) error {
	cur := r.fingerprint()
	var diffs []string
	if fp.BatchSize != cur.BatchSize {
		diffs = append(diffs, fmt.Sprintf("batch size %d in the checkpoint, %d in the config", fp.BatchSize, cur.BatchSize))
	}
	if fp.Seed != cur.Seed {
		diffs = append(diffs, fmt.Sprintf("seed %d in the checkpoint, %d in the config", fp.Seed, cur.Seed))
	}
	if fp.GradAccumulation != cur.GradAccumulation {
		diffs = append(diffs, fmt.Sprintf("gradient accumulation %d in the checkpoint, %d in the config", fp.GradAccumulation, cur.GradAccumulation))
	}
	if fp.Shuffle != cur.Shuffle {
		diffs = append(diffs, fmt.Sprintf("shuffle %v in the checkpoint, %v in the config", fp.Shuffle, cur.Shuffle))
	}
	if fp.DropLast != cur.DropLast {
		diffs = append(diffs, fmt.Sprintf("drop-last %v in the checkpoint, %v in the config", fp.DropLast, cur.DropLast))
	}
	if fp.TrainLen != cur.TrainLen {
		diffs = append(diffs, fmt.Sprintf("%d training examples in the checkpoint, %d in the config", fp.TrainLen, cur.TrainLen))
	}
	ckpt := map[string][]int{}
	for _, p := range fp.Params {
		ckpt[p.Name] = p.Shape
	}
	model := map[string]bool{}
	for _, p := range cur.Params {
		model[p.Name] = true
		shape, ok := ckpt[p.Name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("parameter %q of the model is not in the checkpoint", p.Name))
		case !slices.Equal(shape, p.Shape):
			diffs = append(diffs, fmt.Sprintf("parameter %q has shape %s in the checkpoint, %s in the model", p.Name, tensor.FormatShape(shape), tensor.FormatShape(p.Shape)))
		}
	}
	for _, p := range fp.Params {
		if !model[p.Name] {
			diffs = append(diffs, fmt.Sprintf("parameter %q of the checkpoint is not in the model", p.Name))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("does not match this run: %s", strings.Join(diffs, "; "))
	}
	return nil
}

// optimizerState rebuilds the optimiser's State from trainer.json's scalars
// and optimizer.safetensors, checking that its groups hold the same
// parameters as the optimiser's.
func (r *runner) optimizerState(path string, saved optimizerState) (*optim.State, error) {
	groups := r.cfg.Optimizer.Groups()
	if len(saved.Groups) != len(groups) {
		return nil, fmt.Errorf("the checkpoint's optimiser has %d parameter groups, this one %d", len(saved.Groups), len(groups))
	}
	st := &optim.State{Kind: saved.Kind, Hyper: saved.Hyper}
	k := 0
	for i, g := range groups {
		sg := saved.Groups[i]
		have := r.names[k : k+len(g.Params)]
		if strings.Join(sg.Params, "\x00") != strings.Join(have, "\x00") {
			return nil, fmt.Errorf("optimiser group %d holds %s in the checkpoint, %s now", i, quoteList(sg.Params), quoteList(have))
		}
		k += len(g.Params)
		gs := sg.GroupState
		gs.NumParams = len(sg.Params)
		st.Groups = append(st.Groups, gs)
	}
	if len(saved.Steps) != len(r.names) {
		return nil, fmt.Errorf("%s has step counts for %d parameters, the optimiser has %d", TrainerFile, len(saved.Steps), len(r.names))
	}
	index := map[string]int{}
	for i, n := range r.names {
		index[n] = i
		st.Params = append(st.Params, optim.ParamState{Step: saved.Steps[i]})
	}
	entries, _, err := safetensors.Load(filepath.Join(path, OptimizerFile))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		dot := strings.LastIndexByte(e.Name, '.')
		i, ok := index[e.Name[:max(dot, 0)]]
		if dot < 0 || !ok {
			return nil, fmt.Errorf("%s holds %q, which names no parameter of the optimiser", OptimizerFile, e.Name)
		}
		ps := &st.Params[i]
		if ps.Slots == nil {
			ps.Slots = map[string]*tensor.Tensor{}
		}
		if len(e.Data) != product(e.Shape) {
			return nil, fmt.Errorf("%s: %q has %d values for shape %s", OptimizerFile, e.Name, len(e.Data), tensor.FormatShape(e.Shape))
		}
		ps.Slots[e.Name[dot+1:]] = tensor.Wrap(e.Data, e.Shape...)
	}
	return st, nil
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
