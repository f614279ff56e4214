package main

import (
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/graftml/graft/da/ot"
	"github.com/graftml/graft/tensor"
)

// The optimal transport benchmarks time one solve of the same problem in
// graft (da/ot) and in POT (the Python Optimal Transport library, Debian's
// python3-pot): n seeded 2-D standard normal source and target points, the
// squared Euclidean cost, uniform weights. Go draws the problem and writes it
// to a temporary directory; the graft side runs as a worker child like the
// training benchmarks, the POT side is pot_bench.py. A step is one solve, so
// the figures are ms per solve; both sides report the plan's cost ⟨T, M⟩,
// printed to show they solved the same problem.

//go:embed pot_bench.py
var potScript []byte

// potBench is one optimal transport benchmark against POT. To add one,
// append a potBench to potBenches and a function of the same name to
// BENCHES in pot_bench.py.
type potBench struct {
	Name string
	Doc  string
	N    int            // points per side
	Pot  map[string]any // keyword arguments of the POT function (e.g. reg)
	// Solve is the graft side: one solve, returning the plan's cost.
	Solve func(a, b []float64, M *ot.Matrix) (float64, error)
}

// potBenches are the optimal transport benchmarks, in registry order.
var potBenches = []potBench{
	{
		Name: "emd",
		Doc:  "exact OT (network simplex), 500×500 2-D points, squared Euclidean cost, uniform weights: ot.EMD vs POT's ot.emd",
		N:    500,
		Solve: func(a, b []float64, M *ot.Matrix) (float64, error) {
			p, err := ot.EMD(a, b, M, ot.EMDOptions{})
			if err == nil && !p.Converged {
				err = fmt.Errorf("EMD stopped at its pivot limit")
			}
			if err != nil {
				return 0, err
			}
			return p.Cost, nil
		},
	},
	{
		Name: "sinkhorn",
		Doc:  "entropic OT, ε = 0.01, 1000×1000 2-D points, squared Euclidean cost normalised to max 1 inside the timed call, uniform weights: ot.Sinkhorn vs POT's ot.sinkhorn",
		N:    1000,
		Pot:  map[string]any{"reg": 0.01},
		Solve: func(a, b []float64, M *ot.Matrix) (float64, error) {
			mx := M.Max()
			p, err := ot.Sinkhorn(a, b, M.Scale(1/mx), 0.01, ot.SinkhornOptions{})
			if err == nil && !p.Converged {
				err = fmt.Errorf("Sinkhorn stopped at its iteration limit")
			}
			if err != nil {
				return 0, err
			}
			return p.Cost * mx, nil // ⟨T, M⟩ on the unnormalised cost, as pot_bench.py reports
		},
	},
}

// potBenchmarks returns the optimal transport benchmarks as registry
// entries.
func potBenchmarks() []Benchmark {
	var out []Benchmark
	for _, p := range potBenches {
		out = append(out, Benchmark{Name: p.Name, Doc: p.Doc, Steps: 1, Graft: p.graft, Run: p.run})
	}
	return out
}

// potProblem returns the benchmark's problem: uniform weights and the
// squared Euclidean cost between n seeded 2-D points on each side.
func potProblem(n int) (a, b []float64, M *ot.Matrix) {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	points := func() *ot.Matrix {
		x := ot.Zeros(n, 2)
		for i := range x.Data {
			x.Data[i] = r.NormFloat64()
		}
		return x
	}
	xs, xt := points(), points()
	M, err := ot.Dist(xs, xt, ot.SqEuclidean)
	if err != nil { // fixed shapes: a bug
		panic(err)
	}
	return ot.Uniform(n), ot.Uniform(n), M
}

// graft is the graft worker's step: one solve; its "loss" is the cost.
func (p potBench) graft(*tensor.RNG) (func() float32, error) {
	a, b, M := potProblem(p.N)
	if _, err := p.Solve(a, b, M); err != nil {
		return nil, err
	}
	return func() float32 {
		cost, err := p.Solve(a, b, M)
		if err != nil { // the problem is fixed and solved once above
			panic(err)
		}
		return float32(cost)
	}, nil
}

// run is the benchmark's Run: the graft worker, then pot_bench.py on the
// same problem.
func (p potBench) run(c *comparer) *BenchReport {
	steps := max(c.opt.Steps, 1)
	r := &BenchReport{Name: p.Name, Doc: p.Doc, Steps: steps}
	fail := func(side string, err error) {
		r.Errors = append(r.Errors, side+": "+err.Error())
		fmt.Printf("bench %s: %s failed: %v\n", p.Name, side, err)
	}
	loop := []string{strconv.Itoa(steps), strconv.Itoa(c.opt.Repeats), strconv.Itoa(c.opt.Warmup)}
	graft, err := runChild([]string{"GOMAXPROCS=" + strconv.Itoa(c.opt.Threads)}, c.self,
		"-worker", "graft", "-bench", p.Name, "-steps", loop[0], "-repeats", loop[1], "-warmup", loop[2])
	if err != nil {
		fail("graft", err)
		return r
	}
	r.Graft = graft
	graftOnly := func() *BenchReport {
		fmt.Printf("bench %s: graft %.2f ms, cost %.7g, peak RSS %.0f MB\n", p.Name, graft.MedianMS, graft.Loss, graft.PeakRSSMB)
		return r
	}
	if c.opt.GraftOnly {
		return graftOnly()
	}
	if out, err := exec.Command(c.python, "-c", "import ot").CombinedOutput(); err != nil {
		fail("pot", fmt.Errorf("%s cannot import ot (install python3-pot, or set GRAFT_PYTHON): %v%s", c.python, err, tail(string(out), 3)))
		return graftOnly()
	}
	dir := filepath.Join(c.tmp, "pot-"+p.Name)
	script := filepath.Join(dir, "pot_bench.py")
	if err := writePotProblem(dir, p); err != nil {
		fail("setup", err)
		return graftOnly()
	}
	if err := os.WriteFile(script, potScript, 0o644); err != nil {
		fail("setup", err)
		return graftOnly()
	}
	pot, err := runChild([]string{"OMP_NUM_THREADS=" + strconv.Itoa(c.opt.Threads)}, c.python, append([]string{script, dir, p.Name}, loop...)...)
	if err != nil {
		fail("pot", err)
		return graftOnly()
	}
	r.Others = map[string]*Side{"pot": pot}
	r.Ratio = graft.MedianMS / pot.MedianMS
	fmt.Printf("bench %s: graft %.2f ms, pot %.2f ms, ratio %.2f\n", p.Name, graft.MedianMS, pot.MedianMS, r.Ratio)
	fmt.Printf("bench %s: cost graft %.7g (float32), pot %.7g; peak RSS graft %.0f MB, pot %.0f MB\n", p.Name, graft.Loss, pot.Loss, graft.PeakRSSMB, pot.PeakRSSMB)
	return r
}

// writePotProblem writes p's problem for pot_bench.py: problem.json and
// the float64 files a.f8, b.f8, M.f8.
func writePotProblem(dir string, p potBench) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	a, b, M := potProblem(p.N)
	meta, err := json.Marshal(map[string]any{"n": M.Rows, "m": M.Cols, "params": p.Pot})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "problem.json"), meta, 0o644); err != nil {
		return err
	}
	for name, v := range map[string][]float64{"a.f8": a, "b.f8": b, "M.f8": M.Data} {
		if err := writeFloat64s(filepath.Join(dir, name), v); err != nil {
			return err
		}
	}
	return nil
}

// writeFloat64s writes v as little-endian float64s, numpy's "<f8".
func writeFloat64s(path string, v []float64) error {
	buf := make([]byte, 8*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(f))
	}
	return os.WriteFile(path, buf, 0o644)
}
