package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/viz/project"
)

// The tsne benchmark times one whole t-SNE of the same data in graft
// (viz/project) and in scikit-learn's sklearn.manifold.TSNE, with the same
// settings: Barnes-Hut, theta (angle) 0.5, perplexity 30, 1000 iterations,
// early exaggeration 12, learning rate "auto", PCA initialisation. A step is
// one embedding, so the figures are ms per embedding; the defaults of
// -repeats apply, warm-up is at most one run (a run takes seconds). The
// graft side runs as a worker child like the training benchmarks; the
// scikit-learn side is the script below, run with OMP_WAIT_POLICY unset and
// passive (its Barnes-Hut gradient is OpenMP), the faster counting. Both
// embeddings' quality is reported as scikit-learn's trustworthiness (k = 5)
// and the final KL divergence: graft's embedding is computed once more in
// this process (t-SNE is deterministic, so it is the worker's).

const (
	tsneN, tsneD, tsneClusters = 2000, 64, 10
	tsneDoc                    = "t-SNE of 2000×64 (10 Gaussian clusters), Barnes-Hut θ 0.5, perplexity 30, 1000 iterations, PCA init: graft vs sklearn.manifold.TSNE"
)

// tsneData returns the benchmark's points: tsneClusters centres with
// coordinates ~ N(0, 1.5²), and each point a centre plus N(0, 1) noise.
func tsneData(r *tensor.RNG) *tensor.Tensor {
	centres := tensor.Randn(r, tsneClusters, tsneD).Scale(1.5)
	which := make([]int, tsneN)
	for i := range which {
		which[i] = i % tsneClusters
	}
	return centres.IndexSelect(0, which).Add(tensor.Randn(r, tsneN, tsneD))
}

// tsneOptions are graft's settings, scikit-learn's TSNE defaults.
var tsneOptions = project.TSNEOptions{Method: project.MethodBarnesHut}

// graftTSNE is the graft side's step: one embedding; its "loss" is the KL
// divergence.
func graftTSNE(r *tensor.RNG) (func() float32, error) {
	x := tsneData(r)
	return func() float32 {
		res, err := project.TSNEWithInfo(context.Background(), x, tsneOptions)
		if err != nil { // the data and options are fixed: a bug
			panic(err)
		}
		return float32(res.KL)
	}, nil
}

// tsneExtra is what the scikit-learn script writes besides its result.
type tsneExtra struct {
	Sklearn    string  `json:"sklearn"`
	Trust      float64 `json:"trust"`
	GraftTrust float64 `json:"graft_trust"`
	Iterations int     `json:"n_iter"`
}

// runTSNE is the tsne benchmark's Run.
func runTSNE(c *comparer) *BenchReport {
	steps := max(c.opt.Steps, 1)
	r := &BenchReport{Name: "tsne", Doc: tsneDoc, Steps: steps}
	fail := func(side string, err error) {
		r.Errors = append(r.Errors, side+": "+err.Error())
		fmt.Printf("bench tsne: %s failed: %v\n", side, err)
	}
	loop := []string{"-steps", strconv.Itoa(steps), "-repeats", strconv.Itoa(c.opt.Repeats), "-warmup", strconv.Itoa(min(c.opt.Warmup, 1))}
	graft, err := runChild([]string{"GOMAXPROCS=" + strconv.Itoa(c.opt.Threads)}, c.self, append([]string{"-worker", "graft", "-bench", "tsne"}, loop...)...)
	if err != nil {
		fail("graft", err)
		return r
	}
	r.Graft = graft
	graftOnly := func() *BenchReport {
		fmt.Printf("bench tsne: graft %.0f ms/embedding, KL %.4f, peak RSS %.0f MB\n", graft.MedianMS, graft.Loss, graft.PeakRSSMB)
		return r
	}
	if c.opt.GraftOnly {
		return graftOnly()
	}

	if out, err := exec.Command(c.python, "-c", "import sklearn").CombinedOutput(); err != nil {
		fail("sklearn", fmt.Errorf("%s cannot import sklearn (install python3-sklearn, or set GRAFT_PYTHON): %v%s", c.python, err, tail(string(out), 3)))
		return graftOnly()
	}
	// The same data and graft's embedding, for scikit-learn.
	x := tsneData(tensor.NewRNG(seed))
	emb, err := project.TSNE(context.Background(), x, tsneOptions)
	if err != nil {
		fail("graft", err)
		return graftOnly()
	}
	dir := filepath.Join(c.tmp, "tsne")
	script := filepath.Join(dir, "tsne_bench.py")
	if err = os.MkdirAll(dir, 0o755); err == nil {
		err = os.WriteFile(script, []byte(tsneScript), 0o644)
	}
	for _, f := range []struct {
		name string
		t    *tensor.Tensor
	}{{"x.f32", x}, {"graft.f32", emb}} {
		if err == nil {
			err = writeFloat32s(filepath.Join(dir, f.name), f.t.Data())
		}
	}
	if err != nil {
		fail("setup", err)
		return graftOnly()
	}
	var extra tsneExtra
	var winner string
	for _, s := range torchSettings {
		extraFile := filepath.Join(dir, "extra.json")
		side, err := runChild([]string{s.env, "OMP_NUM_THREADS=" + strconv.Itoa(c.opt.Threads)}, c.python, script, dir,
			strconv.Itoa(tsneN), strconv.Itoa(tsneD), loop[1], loop[3], loop[5], strconv.Itoa(c.opt.Threads), extraFile)
		if err != nil {
			fail("sklearn ("+s.label+")", err)
			continue
		}
		side.Env = s.label
		if r.Others == nil {
			r.Others = map[string]*Side{}
		}
		if cur := r.Others["sklearn"]; cur == nil || side.MedianMS < cur.MedianMS {
			r.Others["sklearn"], winner = side, s.label
			data, err := os.ReadFile(extraFile)
			if err == nil {
				err = json.Unmarshal(data, &extra)
			}
			if err != nil {
				fail("sklearn ("+s.label+")", fmt.Errorf("reading %s: %w", extraFile, err))
			}
		}
	}
	sk := r.Others["sklearn"]
	if sk == nil {
		return graftOnly()
	}
	r.Ratio = graft.MedianMS / sk.MedianMS
	graft.Env = fmt.Sprintf("trustworthiness %.4f", extra.GraftTrust)
	sk.Env = fmt.Sprintf("%s; sklearn %s; trustworthiness %.4f; %d iterations", winner, extra.Sklearn, extra.Trust, extra.Iterations)
	fmt.Printf("bench tsne: graft %.0f ms/embedding, sklearn %.0f ms/embedding, ratio %.2f\n", graft.MedianMS, sk.MedianMS, r.Ratio)
	fmt.Printf("bench tsne: trustworthiness (k=5) graft %.4f, sklearn %.4f; KL graft %.4f, sklearn %.4f; peak RSS graft %.0f MB, sklearn %.0f MB (sklearn %s best with %s)\n",
		extra.GraftTrust, extra.Trust, graft.Loss, sk.Loss, graft.PeakRSSMB, sk.PeakRSSMB, extra.Sklearn, winner)
	return r
}

// writeFloat32s writes v as little-endian float32s, numpy's "<f4".
func writeFloat32s(path string, v []float32) error {
	buf := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(f))
	}
	return os.WriteFile(path, buf, 0o644)
}

// tsneScript is the scikit-learn side.
const tsneScript = `"""scikit-learn side of graft's bench/compare tsne (run by it).

Usage: tsne_bench.py DIR N D STEPS REPEATS WARMUP THREADS EXTRA.json

Reads DIR/x.f32 (N×D little-endian float32) and graft's embedding
DIR/graft.f32 (N×2), times WARMUP untimed and REPEATS timed runs of STEPS
sklearn.manifold.TSNE embeddings with graft's settings, prints the result line
{"repeats_ms", "loss"} (loss: KL divergence) and writes the sklearn version,
both trustworthiness values (k = 5) and the iterations run to EXTRA.json.
"""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.manifold import TSNE, trustworthiness

d, n, dim, steps, repeats, warmup, threads, extra = sys.argv[1:]
n, dim, steps, repeats, warmup, threads = map(int, (n, dim, steps, repeats, warmup, threads))
x = np.fromfile(d + "/x.f32", dtype="<f4").reshape(n, dim)
graft = np.fromfile(d + "/graft.f32", dtype="<f4").reshape(n, 2)


def run():
    # n_iter_without_progress = n_iter: run all iterations, as graft does.
    t = TSNE(n_components=2, perplexity=30.0, early_exaggeration=12.0, learning_rate="auto",
             n_iter=1000, n_iter_without_progress=1000, init="pca", method="barnes_hut",
             angle=0.5, random_state=0, n_jobs=threads)
    return t, t.fit_transform(x)


for _ in range(warmup):
    run()
times = []
for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(steps):
        t, emb = run()
    times.append((time.perf_counter() - start) * 1000 / steps)
with open(extra, "w") as f:
    json.dump({
        "sklearn": sklearn.__version__,
        "trust": float(trustworthiness(x, emb, n_neighbors=5)),
        "graft_trust": float(trustworthiness(x, graft, n_neighbors=5)),
        "n_iter": int(t.n_iter_) + 1,
    }, f)
print(json.dumps({"repeats_ms": times, "loss": float(t.kl_divergence_)}))
`
