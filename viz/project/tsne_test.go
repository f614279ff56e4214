package project

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/graftml/graft/tensor"
)

// TestJointProbabilitiesMatchSklearn checks the input affinities of both
// methods against scikit-learn's: _joint_probabilities on all pairwise
// squared distances (exact) and _joint_probabilities_nn on the squared
// distances to the int(3·perplexity + 1) nearest neighbours (Barnes-Hut).
func TestJointProbabilitiesMatchSklearn(t *testing.T) {
	_, ref := sklearnReference(t)
	c := ref.Joint
	data, n, d, err := matrix("test", rowsTensor(c.X), 2)
	if err != nil {
		t.Fatal(err)
	}
	p, err := jointDense(context.Background(), data, n, d, c.Perplexity)
	if err != nil {
		t.Fatal(err)
	}
	// scikit-learn rounds the distances to float32 before the search.
	if e, at := maxRelDiff(p, flat(c.P)); e > 1e-5 {
		t.Errorf("exact P[%d,%d] = %v, sklearn %v (error %.2g of the largest)", at/n, at%n, p[at], flat(c.P)[at], e)
	}
	if k := min(n-1, int(3*c.Perplexity+1)); k != c.K {
		t.Fatalf("neighbours %d, sklearn %d", k, c.K)
	}
	sp, err := jointKNN(context.Background(), data, n, d, c.K, c.Perplexity)
	if err != nil {
		t.Fatal(err)
	}
	dense := sp.dense(n)
	if e, at := maxRelDiff(dense, flat(c.PNN)); e > 1e-5 {
		t.Errorf("Barnes-Hut P[%d,%d] = %v, sklearn %v (error %.2g of the largest)", at/n, at%n, dense[at], flat(c.PNN)[at], e)
	}
	var sum float64
	for _, v := range sp.val {
		sum += v
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("sparse P sums to %v, want 1", sum)
	}
}

// dense returns the n×n matrix of p.
func (p sparseP) dense(n int) []float64 {
	out := make([]float64, n*n)
	for i := range n {
		for t := p.rowPtr[i]; t < p.rowPtr[i+1]; t++ {
			out[i*n+int(p.col[t])] = p.val[t]
		}
	}
	return out
}

// randomJoint returns a symmetric n×n joint probability matrix with a zero
// diagonal and an embedding of n points in dims dimensions.
func randomJoint(n, dims int, seed uint64) (p, y []float64) {
	r := tensor.NewRNG(seed)
	p = make([]float64, n*n)
	var sum float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			v := r.Float64()
			p[i*n+j], p[j*n+i] = v, v
			sum += 2 * v
		}
	}
	for t := range p {
		p[t] /= sum
	}
	y = make([]float64, n*dims)
	for t := range y {
		y[t] = r.NormFloat64()
	}
	return p, y
}

// TestKLGradientFiniteDifferences checks the exact gradient against central
// differences of exactKL in 1, 2 and 3 dimensions, and that early
// exaggeration scales the attractive part only: the gradient is affine in
// exag, g(exag) = g(1) + (exag − 1)·(g(2) − g(1)).
func TestKLGradientFiniteDifferences(t *testing.T) {
	for _, dims := range []int{1, 2, 3} {
		n := 9
		p, y := randomJoint(n, dims, uint64(dims))
		grad := make([]float64, n*dims)
		exactGradient(p, y, n, dims, 1, grad, newGradWork(n, dims))
		const h = 1e-6
		for t0 := range y {
			orig := y[t0]
			y[t0] = orig + h
			up := exactKL(p, y, n, dims)
			y[t0] = orig - h
			down := exactKL(p, y, n, dims)
			y[t0] = orig
			fd := (up - down) / (2 * h)
			if math.Abs(fd-grad[t0]) > 1e-6*max(1, math.Abs(fd)) {
				t.Errorf("dims %d: ∂KL/∂y[%d] = %v, finite differences %v", dims, t0, grad[t0], fd)
			}
		}
	}
	n, dims := 9, 2
	p, y := randomJoint(n, dims, 7)
	w := newGradWork(n, dims)
	g1, g2, g12 := make([]float64, n*dims), make([]float64, n*dims), make([]float64, n*dims)
	exactGradient(p, y, n, dims, 1, g1, w)
	exactGradient(p, y, n, dims, 2, g2, w)
	exactGradient(p, y, n, dims, 12, g12, w)
	for t0 := range g1 {
		if want := g1[t0] + 11*(g2[t0]-g1[t0]); math.Abs(g12[t0]-want) > 1e-12 {
			t.Errorf("exaggerated gradient[%d] = %v, want %v", t0, g12[t0], want)
		}
	}
}

// sparseOf returns the dense symmetric p as a sparseP.
func sparseOf(p []float64, n int) sparseP {
	sp := sparseP{rowPtr: make([]int, n+1)}
	for i := range n {
		for j := range n {
			if p[i*n+j] != 0 {
				sp.col = append(sp.col, int32(j))
				sp.val = append(sp.val, p[i*n+j])
			}
		}
		sp.rowPtr[i+1] = len(sp.col)
	}
	return sp
}

// TestBarnesHutGradientMatchesExact compares the Barnes-Hut gradient with
// the exact one for the same (sparse) P: equal up to rounding when no cell
// is summarised, and within a few per cent of the gradient's norm at
// theta 0.2 and 0.5. The embedding has coincident points, which share a
// leaf of the quadtree, and two points closer than its smallest cell.
func TestBarnesHutGradientMatchesExact(t *testing.T) {
	n := 300
	x, _ := blobs(n, 5, 3, 3, 1)
	data, _, d, _ := matrix("test", x, 2)
	sp, err := jointKNN(context.Background(), data, n, d, 31, 10)
	if err != nil {
		t.Fatal(err)
	}
	p := sp.dense(n)
	r := tensor.NewRNG(2)
	y := make([]float64, 2*n)
	for t0 := range y {
		y[t0] = 5 * r.NormFloat64()
	}
	copy(y[2*10:2*13], y[2*50:2*53]) // points 10..12 coincide with 50..52
	copy(y[2*200:2*201], y[2*50:2*51])
	// Point 201 is 2e-15 from point 50: closer than the smallest cell
	// (the tree stops splitting at maxTreeDepth).
	y[2*201], y[2*201+1] = y[2*50]+2e-15, y[2*50+1]
	exact := make([]float64, 2*n)
	zExact := exactGradient(p, y, n, 2, 1, exact, newGradWork(n, 2))
	var norm float64
	for _, v := range exact {
		norm += v * v
	}
	norm = math.Sqrt(norm)
	var tree quadTree
	for _, tc := range []struct {
		theta, tol float64
	}{{1e-9, 1e-12}, {0.2, 0.005}, {0.5, 0.03}} {
		bh := make([]float64, 2*n)
		z := bhGradient(sp, y, n, 1, tc.theta, &tree, bh, newGradWork(n, 2))
		var e float64
		for t0 := range bh {
			e += (bh[t0] - exact[t0]) * (bh[t0] - exact[t0])
		}
		rel := math.Sqrt(e) / norm
		t.Logf("theta %v: relative gradient error %.3g, Z %v (exact %v)", tc.theta, rel, z, zExact)
		if rel > tc.tol {
			t.Errorf("theta %v: ‖g_BH − g_exact‖/‖g_exact‖ = %.3g, want ≤ %v", tc.theta, rel, tc.tol)
		}
		if math.Abs(z-zExact) > tc.tol*zExact {
			t.Errorf("theta %v: Z = %v, exact %v", tc.theta, z, zExact)
		}
	}
}

// TestTSNEBlobs embeds 3 well-separated Gaussian blobs in 10-D with both
// methods: every point's nearest neighbour in the 2-D embedding is in its
// own blob (in 10-D it is too: the blobs are 6 standard deviations apart
// on average, so anything less than 1 is a failure to embed).
func TestTSNEBlobs(t *testing.T) {
	x, labels := blobs(240, 10, 3, 3, 3)
	for _, method := range []string{MethodExact, MethodBarnesHut} {
		r, err := TSNEWithInfo(context.Background(), x, TSNEOptions{Method: method, Perplexity: 20, Iterations: 500})
		if err != nil {
			t.Fatal(err)
		}
		if s := r.Embedding.Shape(); s[0] != 240 || s[1] != 2 || r.Method != method || r.Iterations != 500 {
			t.Fatalf("%s: shape %v, method %q, %d iterations", method, s, r.Method, r.Iterations)
		}
		acc := nnAccuracy(r.Embedding, labels)
		t.Logf("%s: 1-NN accuracy %.3f, KL %.4f", method, acc, r.KL)
		if acc < 1 {
			t.Errorf("%s: 1-NN accuracy %.3f in 2-D, want 1", method, acc)
		}
		if !(r.KL > 0 && r.KL < 1) {
			t.Errorf("%s: KL %v, want in (0, 1) for separated blobs", method, r.KL)
		}
	}
}

// TestTSNEDigitsMatchesSklearn embeds the first 500 of scikit-learn's
// 8×8 digits with the same settings as sklearn.manifold.TSNE (Barnes-Hut,
// perplexity 30, 1000 iterations, PCA init, auto learning rate) and checks
// that the result is as good as scikit-learn's: trustworthiness (k = 5,
// computed by scikit-learn for both), 1-NN accuracy of the digit labels in
// 2-D and the final KL divergence. Measured: graft trustworthiness 0.9958,
// 1-NN accuracy 0.992, KL 0.394; sklearn 0.9957, 0.992, 0.399 (1-NN
// accuracy in 64-D: 0.988). The bounds tell a finished embedding from a
// poor one: scikit-learn's own has trustworthiness 0.9634 at the end of
// early exaggeration (250 iterations) and 0.9938 with perplexity 5 (bound:
// 0.002 below sklearn's), KL 0.486 after 300 iterations (bound: 10% above
// sklearn's), and a 2-D PCA has trustworthiness 0.854.
func TestTSNEDigitsMatchesSklearn(t *testing.T) {
	python, ref := sklearnReference(t)
	x := rowsTensor(ref.Digits.X)
	r, err := TSNEWithInfo(context.Background(), x, TSNEOptions{Method: MethodBarnesHut})
	if err != nil {
		t.Fatal(err)
	}
	rows := make([][]float32, x.Dim(0))
	for i := range rows {
		rows[i] = r.Embedding.Data()[2*i : 2*i+2]
	}
	data, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	emb := filepath.Join(t.TempDir(), "graft.json")
	if err := os.WriteFile(emb, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, filepath.Join("testdata", "sklearn_ref.py"), "trust", ref.path, emb).Output()
	if err != nil {
		t.Fatalf("sklearn_ref.py trust: %v", err)
	}
	var trust struct{ Trust float64 }
	if err := json.Unmarshal(out, &trust); err != nil {
		t.Fatalf("reading %q: %v", out, err)
	}
	skAcc := nnAccuracy(rowsTensor(ref.Digits.SklearnEmbedding), ref.Digits.Labels)
	acc := nnAccuracy(r.Embedding, ref.Digits.Labels)
	t.Logf("trustworthiness graft %.4f sklearn %.4f; 1-NN accuracy graft %.3f sklearn %.3f (64-D %.3f); KL graft %.4f sklearn %.4f",
		trust.Trust, ref.Digits.SklearnTrust, acc, skAcc, nnAccuracy(x, ref.Digits.Labels), r.KL, ref.Digits.SklearnKL)
	if trust.Trust < ref.Digits.SklearnTrust-0.002 {
		t.Errorf("trustworthiness %.4f, sklearn's %.4f: more than 0.002 worse", trust.Trust, ref.Digits.SklearnTrust)
	}
	if acc < skAcc-0.02 || acc < 0.95 {
		t.Errorf("1-NN accuracy %.3f, sklearn's %.3f: want ≥ 0.95 and at most 0.02 below", acc, skAcc)
	}
	if r.KL > ref.Digits.SklearnKL*1.1 {
		t.Errorf("KL %.4f, sklearn's %.4f: more than 10%% higher", r.KL, ref.Digits.SklearnKL)
	}
}

// TestTSNEDeterministic: the same options give the same embedding, bit for
// bit, also with one core instead of several; another seed gives another.
func TestTSNEDeterministic(t *testing.T) {
	x, _ := blobs(700, 8, 4, 3, 5) // above autoExactMax: Barnes-Hut
	for _, opt := range []TSNEOptions{
		{Init: InitRandom, Seed: 3, Iterations: 60},
		{Method: MethodExact, Init: InitRandom, Seed: 3, Iterations: 30},
		{Method: MethodBarnesHut, Iterations: 60},
	} {
		a, err := TSNEWithInfo(context.Background(), x, opt)
		if err != nil {
			t.Fatal(err)
		}
		prev := runtime.GOMAXPROCS(1)
		b, err := TSNEWithInfo(context.Background(), x, opt)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Embedding.Data(), b.Embedding.Data()) || a.KL != b.KL {
			t.Errorf("%+v: two runs (GOMAXPROCS %d and 1) differ", opt, prev)
		}
		if opt.Init == InitRandom {
			opt.Seed++
			c, err := TSNE(context.Background(), x, opt)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(a.Embedding.Data(), c.Data()) {
				t.Errorf("%+v: seeds %d and %d give the same embedding", opt, opt.Seed-1, opt.Seed)
			}
		}
	}
}

// countdownCtx is a context that reports itself cancelled once Err has
// been called more than a given number of times, so a test can stop t-SNE
// part-way without depending on timing.
type countdownCtx struct {
	context.Context
	left atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestTSNECancel: a cancelled context stops t-SNE at the next iteration with
// an error that wraps context.Canceled and names the iteration; a context
// cancelled up front stops it before any work.
func TestTSNECancel(t *testing.T) {
	x, _ := blobs(400, 5, 2, 3, 1)
	for _, method := range []string{MethodExact, MethodBarnesHut} {
		ctx := &countdownCtx{Context: context.Background()}
		ctx.left.Store(20) // the affinities check it once or twice
		_, err := TSNE(ctx, x, TSNEOptions{Method: method})
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "tsne: stopped at iteration 1") ||
			!strings.Contains(err.Error(), " of 1000: context canceled") {
			t.Errorf("%s: error %v, want one at an iteration in 10..19 of 1000 wrapping context.Canceled", method, err)
		}
		done, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = TSNE(done, x, TSNEOptions{Method: method})
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "tsne: computing affinities: ") {
			t.Errorf("%s, cancelled up front: error %v", method, err)
		}
	}
}

func TestTSNEErrors(t *testing.T) {
	x := tensor.New([]float32{0, 0, 1, 0, 0, 1, 1, 1, 2, 2}, 5, 2)
	nan := tensor.New([]float32{0, 0, 1, 0, 0, float32(math.NaN())}, 3, 2)
	for _, tc := range []struct {
		name string
		x    *tensor.Tensor
		opt  TSNEOptions
		want string
	}{
		{"nil", nil, TSNEOptions{}, "tsne: x is nil"},
		{"rank 3", tensor.Zeros(4, 2, 2), TSNEOptions{}, "tsne: x has shape (4,2,2), want (N, D)"},
		{"one point", tensor.Zeros(1, 3), TSNEOptions{}, "tsne: need at least 2 rows, x has 1"},
		{"NaN", nan, TSNEOptions{Perplexity: 2}, "tsne: x[2,1] is NaN"},
		{"perplexity ≥ N", x, TSNEOptions{}, "tsne: Perplexity 30 must be less than the number of points 5"},
		{"perplexity = N", x, TSNEOptions{Perplexity: 5}, "tsne: Perplexity 5 must be less than the number of points 5"},
		{"negative perplexity", x, TSNEOptions{Perplexity: -1}, "tsne: Perplexity -1, want a positive number"},
		{"dims", x, TSNEOptions{Perplexity: 2, Dims: -2}, "tsne: Dims -2, want at least 1"},
		{"iterations", x, TSNEOptions{Perplexity: 2, Iterations: -5}, "tsne: Iterations -5, want at least 1"},
		{"learning rate", x, TSNEOptions{Perplexity: 2, LearningRate: -1}, "tsne: LearningRate -1, want a positive number (or 0 for auto)"},
		{"exaggeration", x, TSNEOptions{Perplexity: 2, EarlyExaggeration: 0.5}, "tsne: EarlyExaggeration 0.5, want at least 1"},
		{"theta", x, TSNEOptions{Perplexity: 2, Theta: 1.5}, "tsne: Theta 1.5, want 0 < Theta ≤ 1"},
		{"method", x, TSNEOptions{Perplexity: 2, Method: "fast"}, `tsne: unknown Method "fast" (want "auto", "exact" or "barnes-hut")`},
		{"init", x, TSNEOptions{Perplexity: 2, Init: "spectral"}, `tsne: unknown Init "spectral" (want "pca" or "random")`},
		{"pca init dims", x, TSNEOptions{Perplexity: 2, Dims: 3}, `tsne: Init "pca" needs Dims ≤ min(N, D) = 2, got Dims 3 (use Init "random")`},
		{"barnes-hut 3-D", x, TSNEOptions{Perplexity: 2, Dims: 3, Init: InitRandom, Method: MethodBarnesHut},
			`tsne: Method "barnes-hut" supports Dims 2 only, got Dims 3 (use Method "exact")`},
		{"exact too big", tensor.Zeros(exactMax+1, 1), TSNEOptions{Dims: 1, Method: MethodExact},
			`tsne: Method "exact" holds N² affinities and accepts at most 16384 points, got 16385`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TSNE(context.Background(), tc.x, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestTSNEOptionDefaults checks the resolved defaults, including
// scikit-learn's automatic learning rate and the choice of method.
func TestTSNEOptionDefaults(t *testing.T) {
	for _, tc := range []struct {
		n, d   int
		opt    TSNEOptions
		lr     float64
		method string
	}{
		{100, 5, TSNEOptions{}, 50, MethodExact},
		{autoExactMax, 5, TSNEOptions{}, 50, MethodExact},
		{autoExactMax + 1, 5, TSNEOptions{}, 50, MethodBarnesHut},
		{4800, 5, TSNEOptions{}, 100, MethodBarnesHut},
		{4800, 5, TSNEOptions{EarlyExaggeration: 4}, 300, MethodBarnesHut},
		{4800, 5, TSNEOptions{Dims: 3}, 100, MethodExact},
		{4800, 5, TSNEOptions{LearningRate: 10}, 10, MethodBarnesHut},
	} {
		o, err := tc.opt.resolve(tc.n, tc.d)
		if err != nil {
			t.Fatal(err)
		}
		if o.LearningRate != tc.lr || o.Method != tc.method || o.Perplexity != 30 || o.Iterations != 1000 || o.Theta != 0.5 || o.Init != InitPCA {
			t.Errorf("N=%d %+v resolved to %+v, want learning rate %v and method %q", tc.n, tc.opt, o, tc.lr, tc.method)
		}
	}
}

// TestPCAInitialisation: Init "pca" starts from the principal components
// scaled so that the first coordinate has standard deviation 1e-4.
func TestPCAInitialisation(t *testing.T) {
	x, _ := blobs(50, 6, 2, 3, 9)
	data, n, d, _ := matrix("test", x, 2)
	o, err := TSNEOptions{Perplexity: 10}.resolve(n, d)
	if err != nil {
		t.Fatal(err)
	}
	y, err := initialEmbedding(data, n, d, o)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := PCA(x, 2)
	wd := want.Float64s()
	var ss, mean float64
	for i := range n {
		mean += wd[2*i] / float64(n)
	}
	for i := range n {
		ss += (wd[2*i] - mean) * (wd[2*i] - mean)
	}
	scale := 1e-4 / math.Sqrt(ss/float64(n))
	for i, v := range y {
		if math.Abs(v-wd[i]*scale) > 1e-6*1e-4 {
			t.Fatalf("initial y[%d] = %v, want %v", i, v, wd[i]*scale)
		}
	}
}
