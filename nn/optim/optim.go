// Package optim holds graft's optimisers (SGD, Adam, AdamW), gradient
// clipping and learning-rate schedules.
//
// Optimisers take parameter groups, each with its own learning rate and
// weight decay, because LoRA+, the feature/discriminator split of DANN and
// partially frozen models all need them. Updates follow PyTorch 1.13's
// formulas exactly and run over the parameters' float32 storage directly,
// without allocating in steady state. An optimiser's state (moment estimates,
// momentum buffers, step counts, group hyper-parameters) can be taken out with
// State and put back with LoadState, which is how checkpoints save it.
//
//	opt, err := optim.NewAdamW(nn.TrainableParameters(model), optim.AdamConfig{LR: 3e-4})
//	...
//	loss.Backward()
//	optim.ClipGradNorm(optim.Parameters(opt), 1)
//	opt.Step()
//	opt.ZeroGrad()
package optim

import (
	"fmt"
	"math"
	"strings"

	"github.com/graftml/graft/tensor"
)

// ParamGroup is a set of parameters sharing a learning rate and weight decay.
// LR is the learning rate the next Step uses; schedules set it to BaseLR times
// their factor. A BaseLR of 0 when the optimiser is built means "the same as LR".
type ParamGroup struct {
	Name        string
	Params      []*tensor.Tensor
	LR          float64
	WeightDecay float64
	BaseLR      float64
}

// Params returns a single unnamed parameter group with the given learning rate
// and weight decay, for the optimiser constructors that take groups. Groups
// can be concatenated:
//
//	groups := append(optim.Params(loraA, 1e-4, 0), optim.Params(loraB, 1.6e-3, 0)...)
func Params(params []*tensor.Tensor, lr, weightDecay float64) []ParamGroup {
	return []ParamGroup{{Params: params, LR: lr, WeightDecay: weightDecay, BaseLR: lr}}
}

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Step updates every parameter that has a gradient; parameters without
	// one (frozen, or unused by the loss) are left untouched.
	Step()
	// ZeroGrad sets the gradients of all the optimiser's parameters to zero.
	ZeroGrad()
	// Groups returns the live parameter groups: changing a group's LR
	// changes the next Step (this is how schedules work).
	Groups() []*ParamGroup
	// State returns a deep copy of the optimiser's state.
	State() *State
	// LoadState replaces the optimiser's state with a copy of s; on error
	// the optimiser is unchanged.
	LoadState(s *State) error
}

// The optimisers of this package implement Optimizer.
var (
	_ Optimizer = (*SGD)(nil)
	_ Optimizer = (*Adam)(nil)
)

// Slot names of the per-parameter tensors an optimiser keeps, as PyTorch names them.
const (
	SlotExpAvg         = "exp_avg"
	SlotExpAvgSq       = "exp_avg_sq"
	SlotMaxExpAvgSq    = "max_exp_avg_sq"
	SlotMomentumBuffer = "momentum_buffer"
)

// State is a snapshot of an optimiser: its kind ("SGD", "Adam", "AdamW"), its
// hyper-parameters, its groups and, for every parameter in flattened group
// order (group 0's parameters, then group 1's, …), the step count and named
// tensors such as "exp_avg". It is what a checkpoint stores.
type State struct {
	Kind   string             `json:"kind"`
	Hyper  map[string]float64 `json:"hyper"`
	Groups []GroupState       `json:"groups"`
	Params []ParamState       `json:"params"`
}

// GroupState is the saved form of a ParamGroup: its hyper-parameters and how
// many parameters it holds.
type GroupState struct {
	Name        string  `json:"name"`
	LR          float64 `json:"lr"`
	BaseLR      float64 `json:"base_lr"`
	WeightDecay float64 `json:"weight_decay"`
	NumParams   int     `json:"num_params"`
}

// ParamState is one parameter's saved state: how many updates it received
// and its named tensors (none before its first update).
type ParamState struct {
	Step  int64                     `json:"step"`
	Slots map[string]*tensor.Tensor `json:"-"`
}

// Parameters returns the optimiser's parameters in flattened group order, the
// order State uses.
func Parameters(opt Optimizer) []*tensor.Tensor {
	var out []*tensor.Tensor
	for _, g := range opt.Groups() {
		out = append(out, g.Params...)
	}
	return out
}

// paramState is one parameter's internal state.
type paramState struct {
	step  int64
	slots [4][]float32 // indexed by slot*
}

// Internal slot indices.
const (
	slotExpAvg = iota
	slotExpAvgSq
	slotMaxExpAvgSq
	slotMomentum
)

var slotNames = [4]string{SlotExpAvg, SlotExpAvgSq, SlotMaxExpAvgSq, SlotMomentumBuffer}

// base holds what every optimiser shares: the groups and per-parameter state.
type base struct {
	kind   string
	groups []*ParamGroup
	state  map[*tensor.Tensor]*paramState
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkNonNeg returns an error naming what and v if v is negative or not finite.
func checkNonNeg(kind, what string, v float64) error {
	if !finite(v) || v < 0 {
		return fmt.Errorf("optim: %s: invalid %s %v (must be a finite number ≥ 0)", kind, what, v)
	}
	return nil
}

func groupLabel(i int, g *ParamGroup) string {
	if g.Name != "" {
		return fmt.Sprintf("group %d (%q)", i, g.Name)
	}
	return fmt.Sprintf("group %d", i)
}

// newBase validates and copies groups.
func newBase(kind string, groups []ParamGroup) (base, error) {
	b := base{kind: kind, state: map[*tensor.Tensor]*paramState{}}
	if len(groups) == 0 {
		return b, fmt.Errorf("optim: %s: no parameter groups", kind)
	}
	seen := map[*tensor.Tensor]string{}
	total := 0
	for i := range groups {
		g := groups[i]
		g.Params = append([]*tensor.Tensor(nil), g.Params...)
		if g.BaseLR == 0 {
			g.BaseLR = g.LR
		}
		label := groupLabel(i, &g)
		if err := checkNonNeg(kind, label+" learning rate", g.LR); err != nil {
			return b, err
		}
		if err := checkNonNeg(kind, label+" base learning rate", g.BaseLR); err != nil {
			return b, err
		}
		if err := checkNonNeg(kind, label+" weight decay", g.WeightDecay); err != nil {
			return b, err
		}
		for j, p := range g.Params {
			if p == nil {
				return b, fmt.Errorf("optim: %s: %s: parameter %d is nil", kind, label, j)
			}
			if prev, dup := seen[p]; dup {
				return b, fmt.Errorf("optim: %s: %s: parameter %d of shape %s is also in %s; a parameter may be in one group only", kind, label, j, tensor.FormatShape(p.Shape()), prev)
			}
			seen[p] = label
		}
		total += len(g.Params)
		b.groups = append(b.groups, &g)
	}
	if total == 0 {
		return b, fmt.Errorf("optim: %s: got an empty parameter list", kind)
	}
	return b, nil
}

// Groups returns the live parameter groups.
func (b *base) Groups() []*ParamGroup { return b.groups }

// ZeroGrad sets every parameter's gradient to zero (keeping the buffers).
func (b *base) ZeroGrad() {
	for _, g := range b.groups {
		for _, p := range g.Params {
			p.ZeroGrad()
		}
	}
}

// get returns p's state, creating it on first use.
func (b *base) get(p *tensor.Tensor) *paramState {
	s := b.state[p]
	if s == nil {
		s = &paramState{}
		b.state[p] = s
	}
	return s
}

// buffer returns slot k of s, allocating it zeroed with n elements if needed.
func (s *paramState) buffer(k, n int) []float32 {
	if s.slots[k] == nil {
		s.slots[k] = make([]float32, n)
	}
	return s.slots[k]
}

// snapshot builds a State with the given hyper-parameters.
func (b *base) snapshot(hyper map[string]float64) *State {
	st := &State{Kind: b.kind, Hyper: hyper}
	for _, g := range b.groups {
		st.Groups = append(st.Groups, GroupState{Name: g.Name, LR: g.LR, BaseLR: g.BaseLR, WeightDecay: g.WeightDecay, NumParams: len(g.Params)})
		for _, p := range g.Params {
			ps := ParamState{}
			if s := b.state[p]; s != nil {
				ps.Step = s.step
				for k, buf := range s.slots {
					if buf == nil {
						continue
					}
					if ps.Slots == nil {
						ps.Slots = map[string]*tensor.Tensor{}
					}
					ps.Slots[slotNames[k]] = tensor.New(buf, p.Shape()...)
				}
			}
			st.Params = append(st.Params, ps)
		}
	}
	return st
}

// restore checks s against the optimiser's structure and, if it fits, copies
// its groups and per-parameter state in. allowed lists the slot names this
// optimiser may hold; check validates each parameter's slot set.
func (b *base) restore(s *State, allowed map[string]bool, check func(i int, ps ParamState) error) error {
	if s == nil {
		return fmt.Errorf("optim: %s: load state: nil state", b.kind)
	}
	if err := b.checkKind(s); err != nil {
		return err
	}
	if len(s.Groups) != len(b.groups) {
		return fmt.Errorf("optim: %s: load state: the state has %d parameter groups, the optimiser %d", b.kind, len(s.Groups), len(b.groups))
	}
	total := 0
	for i, g := range b.groups {
		sg := s.Groups[i]
		if sg.NumParams != len(g.Params) {
			return fmt.Errorf("optim: %s: load state: %s has %d parameters in the state, %d in the optimiser", b.kind, groupLabel(i, g), sg.NumParams, len(g.Params))
		}
		label := groupLabel(i, g)
		for _, c := range []struct {
			what string
			v    float64
		}{{"learning rate", sg.LR}, {"base learning rate", sg.BaseLR}, {"weight decay", sg.WeightDecay}} {
			if err := checkNonNeg(b.kind, "load state: "+label+" "+c.what, c.v); err != nil {
				return err
			}
		}
		total += len(g.Params)
	}
	if len(s.Params) != total {
		return fmt.Errorf("optim: %s: load state: the state has %d parameters, the optimiser %d", b.kind, len(s.Params), total)
	}
	i := 0
	for _, g := range b.groups {
		for _, p := range g.Params {
			ps := s.Params[i]
			if ps.Step < 0 {
				return fmt.Errorf("optim: %s: load state: parameter %d has a negative step count %d", b.kind, i, ps.Step)
			}
			for name, t := range ps.Slots {
				if !allowed[name] {
					return fmt.Errorf("optim: %s: load state: parameter %d has an unknown state tensor %q", b.kind, i, name)
				}
				if t == nil || t.Len() != p.Len() {
					shape := "nil"
					if t != nil {
						shape = tensor.FormatShape(t.Shape())
					}
					return fmt.Errorf("optim: %s: load state: parameter %d: %q has shape %s, the parameter %s", b.kind, i, name, shape, tensor.FormatShape(p.Shape()))
				}
			}
			if err := check(i, ps); err != nil {
				return err
			}
			i++
		}
	}
	// Everything fits: copy.
	i = 0
	for gi, g := range b.groups {
		sg := s.Groups[gi]
		g.LR, g.BaseLR, g.WeightDecay = sg.LR, sg.BaseLR, sg.WeightDecay
		for _, p := range g.Params {
			ps := s.Params[i]
			i++
			if ps.Step == 0 && len(ps.Slots) == 0 {
				delete(b.state, p)
				continue
			}
			st := &paramState{step: ps.Step}
			for k, name := range slotNames {
				if t, ok := ps.Slots[name]; ok {
					st.slots[k] = append([]float32(nil), t.Data()...)
				}
			}
			b.state[p] = st
		}
	}
	return nil
}

// checkKind reports a state saved by another kind of optimiser.
func (b *base) checkKind(s *State) error {
	if s == nil {
		return fmt.Errorf("optim: %s: load state: nil state", b.kind)
	}
	if s.Kind != b.kind {
		return fmt.Errorf("optim: %s: load state: the state is from an optimiser of kind %q", b.kind, s.Kind)
	}
	return nil
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// hyperValues reads hyper-parameters from a saved state.
func hyperValues(kind string, h map[string]float64, names ...string) ([]float64, error) {
	vals := make([]float64, len(names))
	for i, name := range names {
		v, ok := h[name]
		if !ok {
			return nil, fmt.Errorf("optim: %s: load state: hyper-parameter %q is missing", kind, name)
		}
		vals[i] = v
	}
	return vals, nil
}

// Reset forgets all per-parameter state (moment estimates, momentum buffers
// and step counts), keeping the groups and hyper-parameters — a fresh
// optimiser over the same parameters, as COLA starts each link of its chain.
func (b *base) Reset() { clear(b.state) }

// describe renders the groups for String methods.
func (b *base) describe(hyper string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s(%s", b.kind, hyper)
	for i, g := range b.groups {
		fmt.Fprintf(&s, "; %s: %d params, lr %g, weight decay %g", groupLabel(i, g), len(g.Params), g.LR, g.WeightDecay)
	}
	s.WriteString(")")
	return s.String()
}
