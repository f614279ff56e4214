package project

import (
	"context"
	"fmt"
	"math"

	"github.com/graftml/graft/tensor"
)

// TSNE method names (TSNEOptions.Method).
const (
	MethodAuto      = "auto"
	MethodExact     = "exact"
	MethodBarnesHut = "barnes-hut"
)

// TSNE initialisations (TSNEOptions.Init).
const (
	InitPCA    = "pca"
	InitRandom = "random"
)

const (
	// exaggerationIters is how many first iterations use early
	// exaggeration and momentum 0.5 (van der Maaten's and scikit-learn's
	// 250).
	exaggerationIters = 250
	// autoExactMax is the largest N for which Method "auto" uses the exact
	// gradient (in 2-D; other Dims are always exact): below where both
	// methods take the same time. BenchmarkTSNEMethods, 1000 iterations,
	// on 2 otherwise idle Xeon cores: N = 500 exact 0.55 s, Barnes-Hut
	// 0.63 s; N = 600 0.88 s and 0.92 s; N = 1000 3.2 s and 1.7 s.
	autoExactMax = 500
	// exactMax is the largest N the exact method accepts: its dense joint
	// probabilities take 8·N² bytes (2 GiB at this N).
	exactMax = 16384
	// initScale is the standard deviation of the first coordinate of the
	// initial embedding (scikit-learn's 1e-4).
	initScale = 1e-4
)

// TSNEOptions are t-SNE's settings. The zero value of every field means its
// default, so TSNEOptions{} is scikit-learn's TSNE() with init "pca".
type TSNEOptions struct {
	// Dims is the dimension of the embedding; default 2. Barnes-Hut
	// supports 2 only.
	Dims int
	// Perplexity is the effective number of neighbours each point's input
	// affinities spread over; default 30. It must be less than the number
	// of points (scikit-learn's rule).
	Perplexity float64
	// Iterations is the number of gradient steps; default 1000. The first
	// min(250, Iterations) use early exaggeration and momentum 0.5, the rest
	// momentum 0.8. All are run (there is no early stop).
	Iterations int
	// LearningRate is the step size; default (0) "auto":
	// max(N / EarlyExaggeration / 4, 50), scikit-learn's rule.
	LearningRate float64
	// EarlyExaggeration multiplies the input affinities in the first 250
	// iterations, so clusters form before they settle; default 12; at
	// least 1.
	EarlyExaggeration float64
	// Seed seeds the random initialisation (Init "random"); the same seed
	// gives the same embedding. With Init "pca" it is used only for data
	// without variance, which starts at random.
	Seed uint64
	// Method is "exact" (all pairs, O(N²) time and memory), "barnes-hut"
	// (3·Perplexity nearest neighbours and a quadtree, O(N log N)) or
	// "auto" (the default: exact up to 500 points or when Dims ≠ 2,
	// Barnes-Hut above).
	Method string
	// Theta is Barnes-Hut's accuracy/speed trade-off in (0, 1]: a cell of
	// the quadtree whose side is less than Theta times its distance stands
	// in for its points. Default 0.5; smaller is more exact and slower.
	Theta float64
	// Init is the initial embedding: "pca" (the default: the data's
	// leading principal components, scaled so the first coordinate has
	// standard deviation 1e-4, as scikit-learn does) or "random" (Gaussian
	// with standard deviation 1e-4, drawn from Seed).
	Init string
}

// TSNEResult is an embedding and how it was obtained.
type TSNEResult struct {
	// Embedding is the (N, Dims) embedding.
	Embedding *tensor.Tensor
	// KL is the final Kullback-Leibler divergence KL(P‖Q) between the input
	// and embedding affinities (without exaggeration). For Barnes-Hut it is
	// summed over the neighbour pairs with the tree's estimate of Q's
	// normalisation, as scikit-learn reports it.
	KL float64
	// Iterations is the number of gradient steps taken.
	Iterations int
	// Method is the method used ("exact" or "barnes-hut"; "auto" resolved).
	Method string
}

// TSNE embeds the rows of x, a tensor of shape (N, D) with N ≥ 2 finite
// rows, in opt.Dims dimensions by t-SNE and returns the (N, Dims) embedding.
// See TSNEOptions for the settings and TSNEWithInfo for the final KL
// divergence. The context is checked at every iteration; when it is done,
// TSNE returns an error that wraps ctx.Err() and names the iteration.
func TSNE(ctx context.Context, x *tensor.Tensor, opt TSNEOptions) (*tensor.Tensor, error) {
	r, err := TSNEWithInfo(ctx, x, opt)
	if err != nil {
		return nil, err
	}
	return r.Embedding, nil
}

// resolve fills in opt's defaults for n points of d columns and checks it.
func (opt TSNEOptions) resolve(n, d int) (TSNEOptions, error) {
	o := opt
	if o.Dims == 0 {
		o.Dims = 2
	}
	if o.Perplexity == 0 {
		o.Perplexity = 30
	}
	if o.Iterations == 0 {
		o.Iterations = 1000
	}
	if o.EarlyExaggeration == 0 {
		o.EarlyExaggeration = 12
	}
	if o.Theta == 0 {
		o.Theta = 0.5
	}
	if o.Method == "" {
		o.Method = MethodAuto
	}
	if o.Init == "" {
		o.Init = InitPCA
	}
	switch {
	case o.Dims < 1:
		return o, fmt.Errorf("tsne: Dims %d, want at least 1", o.Dims)
	case !(o.Perplexity > 0) || math.IsInf(o.Perplexity, 0):
		return o, fmt.Errorf("tsne: Perplexity %v, want a positive number", o.Perplexity)
	case o.Perplexity >= float64(n):
		return o, fmt.Errorf("tsne: Perplexity %v must be less than the number of points %d", o.Perplexity, n)
	case o.Iterations < 1:
		return o, fmt.Errorf("tsne: Iterations %d, want at least 1", o.Iterations)
	case !(o.LearningRate >= 0) || math.IsInf(o.LearningRate, 0):
		return o, fmt.Errorf("tsne: LearningRate %v, want a positive number (or 0 for auto)", o.LearningRate)
	case !(o.EarlyExaggeration >= 1) || math.IsInf(o.EarlyExaggeration, 0):
		return o, fmt.Errorf("tsne: EarlyExaggeration %v, want at least 1", o.EarlyExaggeration)
	case !(o.Theta > 0 && o.Theta <= 1):
		return o, fmt.Errorf("tsne: Theta %v, want 0 < Theta ≤ 1", o.Theta)
	}
	if o.LearningRate == 0 {
		o.LearningRate = max(float64(n)/o.EarlyExaggeration/4, 50)
	}
	switch o.Init {
	case InitRandom:
	case InitPCA:
		if o.Dims > min(n, d) {
			return o, fmt.Errorf("tsne: Init %q needs Dims ≤ min(N, D) = %d, got Dims %d (use Init %q)", InitPCA, min(n, d), o.Dims, InitRandom)
		}
	default:
		return o, fmt.Errorf("tsne: unknown Init %q (want %q or %q)", o.Init, InitPCA, InitRandom)
	}
	switch o.Method {
	case MethodAuto:
		o.Method = MethodExact
		if o.Dims == 2 && n > autoExactMax {
			o.Method = MethodBarnesHut
		}
	case MethodExact, MethodBarnesHut:
	default:
		return o, fmt.Errorf("tsne: unknown Method %q (want %q, %q or %q)", o.Method, MethodAuto, MethodExact, MethodBarnesHut)
	}
	if o.Method == MethodBarnesHut && o.Dims != 2 {
		return o, fmt.Errorf("tsne: Method %q supports Dims 2 only, got Dims %d (use Method %q)", MethodBarnesHut, o.Dims, MethodExact)
	}
	if o.Method == MethodExact && n > exactMax {
		return o, fmt.Errorf("tsne: Method %q holds N² affinities and accepts at most %d points, got %d (use Dims 2 with Method %q)", MethodExact, exactMax, n, MethodBarnesHut)
	}
	return o, nil
}

// TSNEWithInfo is TSNE returning the final KL divergence, the number of
// iterations and the method used along with the embedding.
func TSNEWithInfo(ctx context.Context, x *tensor.Tensor, opt TSNEOptions) (*TSNEResult, error) {
	data, n, d, err := matrix("tsne", x, 2)
	if err != nil {
		return nil, err
	}
	o, err := opt.resolve(n, d)
	if err != nil {
		return nil, err
	}
	var gradient func(y []float64, exag float64, grad []float64)
	var kl func(y []float64) float64
	w := newGradWork(n, o.Dims)
	if o.Method == MethodExact {
		p, err := jointDense(ctx, data, n, d, o.Perplexity)
		if err != nil {
			return nil, fmt.Errorf("tsne: computing affinities: %w", err)
		}
		gradient = func(y []float64, exag float64, grad []float64) {
			exactGradient(p, y, n, o.Dims, exag, grad, w)
		}
		kl = func(y []float64) float64 { return exactKL(p, y, n, o.Dims) }
	} else {
		k := min(n-1, int(3*o.Perplexity+1))
		p, err := jointKNN(ctx, data, n, d, k, o.Perplexity)
		if err != nil {
			return nil, fmt.Errorf("tsne: computing affinities: %w", err)
		}
		var tree quadTree
		gradient = func(y []float64, exag float64, grad []float64) {
			bhGradient(p, y, n, exag, o.Theta, &tree, grad, w)
		}
		kl = func(y []float64) float64 {
			grad := make([]float64, len(y))
			z := bhGradient(p, y, n, 1, o.Theta, &tree, grad, w)
			return sparseKL(p, y, n, o.Dims, z)
		}
	}
	y, err := initialEmbedding(data, n, d, o)
	if err != nil {
		return nil, err
	}
	if err := descend(ctx, y, n, o, gradient); err != nil {
		return nil, err
	}
	return &TSNEResult{Embedding: toTensor(y, n, o.Dims), KL: kl(y), Iterations: o.Iterations, Method: o.Method}, nil
}

// initialEmbedding returns the n×Dims starting point of the descent.
func initialEmbedding(data []float64, n, d int, o TSNEOptions) ([]float64, error) {
	if o.Init == InitPCA {
		f, err := fitPCA(data, n, d, o.Dims)
		if err != nil {
			return nil, fmt.Errorf("tsne: PCA initialisation: %w", err)
		}
		y := f.project(data, n)
		var mean, ss float64
		for i := range n {
			mean += y[i*o.Dims]
		}
		mean /= float64(n)
		for i := range n {
			e := y[i*o.Dims] - mean
			ss += e * e
		}
		if std := math.Sqrt(ss / float64(n)); std > 0 {
			for t := range y {
				y[t] *= initScale / std
			}
			return y, nil
		}
		// No variance along the first component: start at random.
	}
	r := tensor.NewRNG(o.Seed)
	y := make([]float64, n*o.Dims)
	for t := range y {
		y[t] = initScale * r.NormFloat64()
	}
	return y, nil
}

// descend runs o.Iterations steps of gradient descent with momentum and
// per-coordinate gains (delta-bar-delta) on y, as van der Maaten's reference
// implementation does: a gain grows by 0.2 while the gradient's sign differs
// from the last update's and shrinks by a factor 0.8 otherwise (at least
// 0.01), and the embedding is re-centred after every step.
func descend(ctx context.Context, y []float64, n int, o TSNEOptions, gradient func(y []float64, exag float64, grad []float64)) error {
	dims := o.Dims
	grad := make([]float64, n*dims)
	update := make([]float64, n*dims)
	gains := make([]float64, n*dims)
	for t := range gains {
		gains[t] = 1
	}
	for it := range o.Iterations {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("tsne: stopped at iteration %d of %d: %w", it, o.Iterations, err)
		}
		exag, momentum := 1.0, 0.8
		if it < exaggerationIters {
			exag, momentum = o.EarlyExaggeration, 0.5
		}
		gradient(y, exag, grad)
		for t, g := range grad {
			if sign(g) != sign(update[t]) {
				gains[t] += 0.2
			} else {
				gains[t] = max(gains[t]*0.8, 0.01)
			}
			update[t] = momentum*update[t] - o.LearningRate*gains[t]*g
			y[t] += update[t]
		}
		centre(y, n, dims)
	}
	return nil
}

// sign returns −1, 0 or 1.
func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// centre subtracts the mean of each coordinate from the n×dims points.
func centre(y []float64, n, dims int) {
	for c := range dims {
		var m float64
		for i := range n {
			m += y[i*dims+c]
		}
		m /= float64(n)
		for i := range n {
			y[i*dims+c] -= m
		}
	}
}
