package merge

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/peft"
	"github.com/graftml/graft/tensor"
)

// Ways of combining LoRA adapters (CombineOptions.Mode).
const (
	// CombineCat is the exact weighted sum ΔW = Σ wᵢ·ΔWᵢ, realised by
	// concatenating the factors (PEFT's "cat"): B = [w₁s₁B₁ | w₂s₂B₂ | …],
	// A = [A₁; A₂; …] at rank Σrᵢ with scaling 1. Where Σrᵢ exceeds a
	// module's min(in, out), that module stores the same sum through its
	// full singular value decomposition at rank min(in, out), still exact.
	// The default ("").
	CombineCat = "cat"
	// CombineSVD is the exact weighted sum truncated to rank
	// CombineOptions.Rank by its singular value decomposition: the best
	// rank-r approximation of Σ wᵢ·ΔWᵢ in Frobenius norm (Eckart–Young).
	CombineSVD = "svd"
	// CombineLinear is PEFT's "linear" mode, inexact: A = Σ √(wᵢsᵢ)·Aᵢ and
	// B = Σ √(wᵢsᵢ)·Bᵢ, so that ΔW = B·A carries the cross terms
	// √(wᵢsᵢwⱼsⱼ)·Bᵢ·Aⱼ (i ≠ j) besides Σ wᵢ·ΔWᵢ. The adapters must share
	// one rank and the weights must not be negative. For comparison with
	// PEFT.
	CombineLinear = "linear"
	// CombineLoraHub is LoraHub's composition, inexact: A = Σ wᵢ·√sᵢ·Aᵢ and
	// B = Σ wᵢ·√sᵢ·Bᵢ (with one scaling s this is s·(Σ wᵢBᵢ)(Σ wᵢAᵢ), what
	// LoraHub loads), quadratic in the weights. The adapters must share one
	// rank.
	CombineLoraHub = "lorahub"
)

// CombineOptions are the settings of CombineLoRA. The zero value combines
// exactly by concatenation (CombineCat).
type CombineOptions struct {
	// Mode is CombineCat (""), CombineSVD, CombineLinear or CombineLoraHub.
	Mode string
	// Method, when set, merges each module's dense updates sᵢ·Bᵢ·Aᵢ (one
	// task vector per adapter, the base layer's weight as the base, in
	// (out, in) layout) into one update — TIES or DARE on ΔW, say — which
	// is then truncated by SVD to Rank (PEFT's "ties_svd", "dare_linear_svd"
	// and the like, rather than its merging of the A's and B's apart). The
	// method's own Weights apply: the weights given to CombineLoRA must then
	// be nil. Mode must be "" or CombineSVD.
	Method Method
	// Rank is the rank of CombineSVD's and Method's result (0: the largest
	// rank among the adapters; a module narrower than Rank keeps
	// min(in, out), which is exact). Negative ranks are refused.
	Rank int
}

// CombineLoRA adds to m a new LoRA adapter, newName, combining the named
// LoRA adapters with the given weights (nil: all 1) as opt says; by default
// its update is exactly ΔW = Σ wᵢ·ΔWᵢ in every module. The new adapter is an
// ordinary LoRA adapter (scaling 1, dropout 0, a rank per module recorded in
// its rank pattern): it is added inactive, as AddAdapter adds one, and saves,
// loads and shows in Summary as any other. MoSLoRA adapters are folded in
// (their mixer multiplied into B); DoRA adapters are refused, their update
// not being a low-rank product. The adapters must target the same modules,
// record the same base model and be merged nowhere. On error m is unchanged.
func CombineLoRA(m *peft.Model, adapters []string, weights []float64, newName string, opt CombineOptions) error {
	mode, err := opt.mode()
	if err != nil {
		return err
	}
	if opt.Method != nil && weights != nil {
		return fmt.Errorf("merge: CombineLoRA with the method %s takes its weights from the method: pass nil weights, not %v", opt.Method.Name(), weights)
	}
	p, err := gatherPool(m, adapters, newName, "CombineLoRA")
	if err != nil {
		return err
	}
	w, err := p.weights(weights)
	if err != nil {
		return err
	}
	if err := p.checkMode(mode, w); err != nil {
		return err
	}
	var facs []factors
	if opt.Method != nil {
		facs, err = p.composeMethod(opt.Method, opt.rank(p))
	} else {
		facs, err = p.compose(mode, w, opt.rank(p))
	}
	if err != nil {
		return err
	}
	return p.install(newName, facs)
}

func (o CombineOptions) mode() (string, error) {
	switch o.Mode {
	case "", CombineCat, CombineSVD, CombineLinear, CombineLoraHub:
	default:
		return "", fmt.Errorf("merge: combination mode %q: want %q, %q, %q or %q", o.Mode, CombineCat, CombineSVD, CombineLinear, CombineLoraHub)
	}
	if o.Rank < 0 {
		return "", fmt.Errorf("merge: rank %d must be positive (0 takes the largest rank among the adapters)", o.Rank)
	}
	if o.Method != nil && o.Mode != "" && o.Mode != CombineSVD {
		return "", fmt.Errorf("merge: the method %s merges dense updates and truncates them by SVD: mode %q cannot go with it", o.Method.Name(), o.Mode)
	}
	if o.Mode == "" {
		if o.Method != nil {
			return CombineSVD, nil
		}
		return CombineCat, nil
	}
	return o.Mode, nil
}

// rank returns the target rank of the SVD modes.
func (o CombineOptions) rank(p *pool) int {
	if o.Rank > 0 {
		return o.Rank
	}
	return p.maxRank()
}

// loraModule is one adapted module's view of the pool's adapters.
type loraModule struct {
	name    string
	layer   *peft.LoraLayer
	out, in int
	a       [][]float64 // Aᵢ (rᵢ, in)
	b       [][]float64 // Bᵢ·Mᵢ (out, rᵢ), the MoSLoRA mixer Mᵢ folded in
	s       []float64   // scaling sᵢ
	r       []int
}

// pool is a checked list of LoRA adapters of one model.
type pool struct {
	m        *peft.Model
	adapters []string
	cfgs     []peft.LoraConfig
	modules  []loraModule
}

// factors are one module's combined A (r, in) and B (out, r) at scaling 1.
type factors struct {
	a, b []float64
	r    int
}

// gatherPool checks the adapters and newName and reads the adapters'
// factors; what names the caller in errors.
func gatherPool(m *peft.Model, adapters []string, newName, what string) (*pool, error) {
	if m == nil {
		return nil, fmt.Errorf("merge: %s: the model is nil", what)
	}
	if len(adapters) == 0 {
		return nil, fmt.Errorf("merge: %s: the list of adapters is empty", what)
	}
	have := m.Adapters()
	if newName == "" {
		return nil, fmt.Errorf("merge: %s: the new adapter needs a name", what)
	}
	if slices.Contains(have, newName) {
		return nil, fmt.Errorf("merge: %s: the model already has an adapter named %q", what, newName)
	}
	p := &pool{m: m, adapters: slices.Clone(adapters)}
	for i, a := range adapters {
		if slices.Contains(adapters[:i], a) {
			return nil, fmt.Errorf("merge: %s: adapter %q is listed twice", what, a)
		}
		var cfg peft.LoraConfig
		switch c := m.Method(a).(type) {
		case nil:
			return nil, fmt.Errorf("merge: %s: no adapter named %q (the model has %q)", what, a, have)
		case peft.LoraConfig:
			cfg = c
		case *peft.LoraConfig:
			cfg = *c
		default:
			return nil, fmt.Errorf("merge: %s: adapter %q is a %s adapter, not a LoRA adapter", what, a, c.PeftType())
		}
		if cfg.UseDoRA {
			return nil, fmt.Errorf("merge: %s: adapter %q is a DoRA adapter: its update rescales the adapted weight and is not a low-rank product, so it cannot be combined", what, a)
		}
		if len(cfg.ModulesToSave) > 0 {
			return nil, fmt.Errorf("merge: %s: adapter %q saves modules %q whole; only LoRA updates can be combined", what, a, cfg.ModulesToSave)
		}
		p.cfgs = append(p.cfgs, cfg)
	}
	if err := m.CheckSameBase(adapters); err != nil {
		return nil, fmt.Errorf("merge: %s: %v", what, err)
	}
	merged := m.Merged()
	for _, a := range adapters {
		if slices.Contains(merged, a) {
			return nil, fmt.Errorf("merge: %s: adapter %q is merged into the base weights: unmerge it first", what, a)
		}
	}
	holders := make([][]string, len(adapters))
	for _, nm := range m.Tuners() {
		t, ok := nm.Module.(peft.Tuner)
		if !ok {
			continue
		}
		names := t.AdapterNames()
		var mod *loraModule
		for i, a := range adapters {
			if !slices.Contains(names, a) {
				continue
			}
			holders[i] = append(holders[i], nm.Name)
			l, ok := t.(*peft.LoraLayer)
			if !ok {
				return nil, fmt.Errorf("merge: %s: adapter %q on module %q is held by a %T, not a LoRA layer", what, a, nm.Name, t)
			}
			if mod == nil {
				mod = &loraModule{name: nm.Name, layer: l, out: l.OutFeatures(), in: l.InFeatures()}
			}
			mod.add(l, a)
		}
		if mod != nil {
			p.modules = append(p.modules, *mod)
		}
	}
	for i, a := range adapters[1:] {
		if !slices.Equal(holders[i+1], holders[0]) {
			return nil, fmt.Errorf("merge: %s: adapters %q and %q target different modules (%q and %q)", what, adapters[0], a, holders[0], holders[i+1])
		}
	}
	if len(p.modules) == 0 {
		return nil, fmt.Errorf("merge: %s: adapters %q hold no module", what, adapters)
	}
	return p, nil
}

// add reads adapter a's factors from l.
func (mod *loraModule) add(l *peft.LoraLayer, a string) {
	av := loraF64(l.LoraA[a].Weight.Data())
	bv := loraF64(l.LoraB[a].Weight.Data())
	r := l.LoraA[a].Weight.Dim(0)
	if mx := l.Mixer[a]; mx != nil {
		bv = loraMatmul(bv, loraF64(mx.Weight.Data()), mod.out, r, r)
	}
	mod.a = append(mod.a, av)
	mod.b = append(mod.b, bv)
	mod.s = append(mod.s, l.Scaling[a])
	mod.r = append(mod.r, r)
}

// weights checks the combination weights (nil: all 1).
func (p *pool) weights(w []float64) ([]float64, error) {
	if w == nil {
		w = make([]float64, len(p.adapters))
		for i := range w {
			w[i] = 1
		}
		return w, nil
	}
	if len(w) != len(p.adapters) {
		return nil, fmt.Errorf("merge: %d weights for %d adapters %q", len(w), len(p.adapters), p.adapters)
	}
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("merge: weight %d (adapter %q) is %g", i, p.adapters[i], v)
		}
	}
	return slices.Clone(w), nil
}

// checkMode refuses what the inexact modes cannot combine.
func (p *pool) checkMode(mode string, w []float64) error {
	if mode != CombineLinear && mode != CombineLoraHub {
		return nil
	}
	for _, mod := range p.modules {
		for i, r := range mod.r[1:] {
			if r != mod.r[0] {
				return fmt.Errorf("merge: mode %q mixes the factors and needs one rank: module %q holds adapter %q at rank %d and %q at rank %d", mode, mod.name, p.adapters[0], mod.r[0], p.adapters[i+1], r)
			}
		}
	}
	if mode == CombineLinear {
		for i, v := range w {
			if v < 0 {
				return fmt.Errorf("merge: mode %q scales the factors by √w: weight %g of adapter %q is negative", mode, v, p.adapters[i])
			}
		}
	}
	return nil
}

func (p *pool) maxRank() int {
	r := 0
	for _, mod := range p.modules {
		r = max(r, slices.Max(mod.r))
	}
	return r
}

// compose combines every module's factors with weights w (checked).
func (p *pool) compose(mode string, w []float64, rank int) ([]factors, error) {
	out := make([]factors, len(p.modules))
	for k := range p.modules {
		f, err := p.modules[k].compose(mode, w, rank)
		if err != nil {
			return nil, err
		}
		out[k] = f
	}
	return out, nil
}

func (mod *loraModule) compose(mode string, w []float64, rank int) (factors, error) {
	full := min(mod.out, mod.in)
	switch mode {
	case CombineCat:
		total := 0
		for _, r := range mod.r {
			total += r
		}
		if total > full {
			return mod.truncate(mod.exact(w), full)
		}
		f := factors{a: make([]float64, 0, total*mod.in), b: make([]float64, mod.out*total), r: total}
		col := 0
		for i, r := range mod.r {
			f.a = append(f.a, mod.a[i]...)
			c := w[i] * mod.s[i]
			for o := 0; o < mod.out; o++ {
				for j := 0; j < r; j++ {
					f.b[o*total+col+j] = c * mod.b[i][o*r+j]
				}
			}
			col += r
		}
		return f, nil
	case CombineSVD:
		return mod.truncate(mod.exact(w), min(rank, full))
	default: // CombineLinear, CombineLoraHub: one rank, checked
		r := mod.r[0]
		f := factors{a: make([]float64, r*mod.in), b: make([]float64, mod.out*r), r: r}
		for i := range mod.r {
			c := math.Sqrt(w[i] * mod.s[i])
			if mode == CombineLoraHub {
				c = w[i] * math.Sqrt(mod.s[i])
			}
			loraAxpy(f.a, c, mod.a[i])
			loraAxpy(f.b, c, mod.b[i])
		}
		return f, nil
	}
}

// delta returns adapter i's update sᵢ·Bᵢ·Mᵢ·Aᵢ (out, in).
func (mod *loraModule) delta(i int) []float64 {
	d := loraMatmul(mod.b[i], mod.a[i], mod.out, mod.r[i], mod.in)
	for j := range d {
		d[j] *= mod.s[i]
	}
	return d
}

// exact returns Σ wᵢ·ΔWᵢ (out, in).
func (mod *loraModule) exact(w []float64) []float64 {
	d := make([]float64, mod.out*mod.in)
	for i := range mod.r {
		loraAxpy(d, w[i], mod.delta(i))
	}
	return d
}

// truncate returns the rank-r truncated SVD of d (out, in) as factors
// B = U_r·√Σ_r, A = √Σ_r·V_rᵀ.
func (mod *loraModule) truncate(d []float64, r int) (factors, error) {
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(mod.out, mod.in, d), mat.SVDThin) {
		return factors{}, fmt.Errorf("merge: module %q: the SVD of the combined (%d, %d) update did not converge", mod.name, mod.out, mod.in)
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	sv := svd.Values(nil)
	f := factors{a: make([]float64, r*mod.in), b: make([]float64, mod.out*r), r: r}
	for k := 0; k < r; k++ {
		root := math.Sqrt(sv[k])
		for i := 0; i < mod.in; i++ {
			f.a[k*mod.in+i] = root * v.At(i, k)
		}
		for o := 0; o < mod.out; o++ {
			f.b[o*r+k] = root * u.At(o, k)
		}
	}
	return f, nil
}

// composeMethod merges each module's dense updates with method and
// truncates the result to rank.
func (p *pool) composeMethod(method Method, rank int) ([]factors, error) {
	out := make([]factors, len(p.modules))
	for k := range p.modules {
		mod := &p.modules[k]
		deltas := make([]*tensor.Tensor, len(mod.r))
		for i := range mod.r {
			deltas[i] = tensor.New(loraF32(mod.delta(i)), mod.out, mod.in)
		}
		base, err := baseOutIn(mod)
		if err != nil {
			return nil, err
		}
		merged, err := method.MergeTensor(mod.name, base, deltas)
		if err != nil {
			return nil, fmt.Errorf("merge: module %q: %s: %w", mod.name, method.Name(), err)
		}
		if merged == nil || merged.Dims() != 2 || merged.Dim(0) != mod.out || merged.Dim(1) != mod.in {
			shape := "nil"
			if merged != nil {
				shape = tensor.FormatShape(merged.Shape())
			}
			return nil, fmt.Errorf("merge: module %q: %s returned %s for updates of shape (%d, %d)", mod.name, method.Name(), shape, mod.out, mod.in)
		}
		if out[k], err = mod.truncate(loraF64(merged.Data()), min(rank, mod.out, mod.in)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// baseOutIn returns the module's base weight in (out, in) layout.
func baseOutIn(mod *loraModule) (*tensor.Tensor, error) {
	var w *tensor.Tensor
	for _, np := range nn.NamedParameters(mod.layer.Base) {
		if np.Name == "weight" {
			w = np.Tensor
		}
	}
	if w == nil || w.Dims() != 2 {
		return nil, fmt.Errorf("merge: module %q: its base layer (%T) has no two-dimensional weight", mod.name, mod.layer.Base)
	}
	data := w.Data()
	if fo, ok := mod.layer.Base.(interface{ FanInFanOut() bool }); ok && fo.FanInFanOut() {
		t := make([]float32, len(data))
		for i := 0; i < mod.in; i++ {
			for o := 0; o < mod.out; o++ {
				t[o*mod.in+i] = data[i*mod.out+o]
			}
		}
		data = t
	}
	return tensor.New(data, mod.out, mod.in), nil
}

// install adds the adapter newName holding facs (one per module).
func (p *pool) install(newName string, facs []factors) error {
	var names []string
	ranks := map[string]int{}
	alphas := map[string]float64{}
	for k, mod := range p.modules {
		key := "^" + regexp.QuoteMeta(mod.name)
		names = append(names, regexp.QuoteMeta(mod.name))
		ranks[key] = facs[k].r
		alphas[key] = float64(facs[k].r)
	}
	cfg := peft.LoraConfig{
		R: facs[0].r, Alpha: float64(facs[0].r), TargetRegex: strings.Join(names, "|"),
		RankPattern: ranks, AlphaPattern: alphas, Bias: "none", Init: peft.InitGaussian,
	}
	for _, c := range p.cfgs {
		if cfg.TaskType == "" {
			cfg.TaskType = c.TaskType
		}
		if cfg.BaseModelNameOrPath == "" {
			cfg.BaseModelNameOrPath = c.BaseModelNameOrPath
		}
	}
	if err := p.m.AddAdapter(newName, cfg); err != nil {
		return fmt.Errorf("merge: adding the combined adapter %q: %w", newName, err)
	}
	p.write(newName, facs)
	return nil
}

// write copies facs into the adapter newName's factors.
func (p *pool) write(newName string, facs []factors) {
	for k, mod := range p.modules {
		l := mod.layer
		if s := l.Scaling[newName]; s != 1 {
			panic(fmt.Sprintf("merge: adapter %q on %q has scaling %g, not 1", newName, mod.name, s))
		}
		loraCopy32(l.LoraA[newName].Weight.Data(), facs[k].a)
		loraCopy32(l.LoraB[newName].Weight.Data(), facs[k].b)
	}
}

// matmul returns x (n, k) · y (k, m) row-major.
func loraMatmul(x, y []float64, n, k, m int) []float64 {
	z := make([]float64, n*m)
	for i := 0; i < n; i++ {
		row := z[i*m : (i+1)*m]
		for j := 0; j < k; j++ {
			c := x[i*k+j]
			if c == 0 {
				continue
			}
			for l, v := range y[j*m : (j+1)*m] {
				row[l] += c * v
			}
		}
	}
	return z
}

// axpy adds c·x to y.
func loraAxpy(y []float64, c float64, x []float64) {
	for i, v := range x {
		y[i] += c * v
	}
}

func loraF64(x []float32) []float64 {
	d := make([]float64, len(x))
	for i, v := range x {
		d[i] = float64(v)
	}
	return d
}

func loraF32(x []float64) []float32 {
	d := make([]float32, len(x))
	for i, v := range x {
		d[i] = float32(v)
	}
	return d
}

func loraCopy32(dst []float32, src []float64) {
	for i, v := range src {
		dst[i] = float32(v)
	}
}
