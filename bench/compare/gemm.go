package main

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/graftml/graft/tensor/gemm"
)

// The gemm benchmark times single float32 matrix products, in this process,
// through gemm.Sgemm (so the package's splitting across GOMAXPROCS = -threads
// goroutines applies) with graft's native backend, OpenBLAS (when built with
// -tags openblas) and gonum, and prints per shape
//
//	bench gemm-MxKxN: graft X GFLOP/s, openblas Y GFLOP/s, ratio Z (gonum W GFLOP/s)
//
// where ratio = graft/openblas and each figure is the median over -repeats
// timed runs of at least gemmRunTime each.

const gemmDoc = "float32 GEMM C = A·B (m×k·k×n) at the bench models' shapes: graft's native backend vs OpenBLAS (-tags openblas) and gonum, GFLOP/s"

// gemmRunTime is the least duration of one timed run.
const gemmRunTime = 100 * time.Millisecond

// gemmShape is one product; a suffix "-NT", "-TN" names transposed operands.
type gemmShape struct {
	m, k, n        int
	transA, transB bool
}

func (s gemmShape) label() string {
	l := fmt.Sprintf("gemm-%dx%dx%d", s.m, s.k, s.n)
	if s.transA || s.transB {
		t := []byte("NN")
		if s.transA {
			t[0] = 'T'
		}
		if s.transB {
			t[1] = 'T'
		}
		l += "-" + string(t)
	}
	return l
}

// gemmShapes are the products of the mlp, cnn and transformer benchmarks'
// steps (Linear layers multiply by Wᵀ: "-NT"), plus 512³.
var gemmShapes = []gemmShape{
	{m: 128, k: 784, n: 256},                // mlp layer 1
	{m: 128, k: 784, n: 256, transB: true},  // mlp layer 1 as Linear runs it
	{m: 128, k: 256, n: 784},                // mlp input gradient
	{m: 256, k: 128, n: 784, transA: true},  // mlp weight gradient
	{m: 128, k: 256, n: 10},                 // mlp layer 2
	{m: 64, k: 768, n: 768},                 // transformer-sized square
	{m: 2048, k: 256, n: 768, transB: true}, // transformer qkv projection
	{m: 2048, k: 256, n: 1024, transB: true},
	{m: 2048, k: 1024, n: 256, transB: true},
	{m: 6, k: 25, n: 36864},                // cnn conv1 via im2col (batch 64 × 24×24)
	{m: 16, k: 150, n: 4096},               // cnn conv2 via im2col (batch 64 × 8×8)
	{m: 16, k: 4096, n: 150, transB: true}, // cnn conv2 weight gradient
	{m: 150, k: 16, n: 4096, transA: true}, // cnn conv2 input gradient (columns)
	{m: 64, k: 64, n: 64, transB: true},    // transformer attention scores, per head
	{m: 64, k: 64, n: 64},                  // attention-weighted values, per head
	{m: 512, k: 512, n: 512},
}

// runGemm is the gemm benchmark's Run.
func runGemm(c *comparer) *BenchReport {
	r := &BenchReport{Name: "gemm", Doc: gemmDoc, Steps: 1}
	prevProcs := runtime.GOMAXPROCS(c.opt.Threads)
	defer runtime.GOMAXPROCS(prevProcs)
	native, err := gemm.ByName("native")
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
		fmt.Printf("bench gemm: %v\n", err)
		return r
	}
	openblas, _ := gemm.ByName("openblas") // nil without -tags openblas
	gonum, _ := gemm.ByName("gonum")
	prev := gemm.Set(native)
	defer gemm.Set(prev)
	for _, s := range gemmShapes {
		// The sides' runs alternate, so that a noisy neighbour slows
		// them alike.
		sides := []gemm.Backend{native, openblas, gonum}
		rates := gemmGFLOPS(sides, s, c.opt.Repeats, c.opt.Warmup)
		g := rates[0]
		line := fmt.Sprintf("bench %s: graft %.1f GFLOP/s", s.label(), g)
		if openblas != nil {
			line += fmt.Sprintf(", openblas %.1f GFLOP/s, ratio %.2f", rates[1], g/rates[1])
		} else {
			line += ", openblas n/a (build with -tags openblas)"
		}
		if gonum != nil {
			line += fmt.Sprintf(" (gonum %.1f GFLOP/s)", rates[2])
		}
		fmt.Println(line)
	}
	return r
}

// gemmGFLOPS times the product s with each backend (nil ones are skipped)
// and returns each one's median GFLOP/s over repeats runs, the runs of the
// backends alternating.
func gemmGFLOPS(bes []gemm.Backend, s gemmShape, repeats, warmup int) []float64 {
	rng := rand.New(rand.NewPCG(uint64(s.m), uint64(s.n)))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	a, b, out := fill(s.m*s.k), fill(s.k*s.n), make([]float32, s.m*s.n)
	lda, ldb := s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	mul := func() { gemm.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, out, s.n) }
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	iters := make([]int, len(bes))
	rates := make([][]float64, len(bes))
	prev := gemm.Current()
	defer gemm.Set(prev)
	for i, be := range bes {
		if be == nil {
			continue
		}
		gemm.Set(be)
		for range max(warmup, 1) {
			mul()
		}
		// Calibrate the number of products per run.
		n := 1
		for {
			t0 := time.Now()
			for range n {
				mul()
			}
			if time.Since(t0) >= gemmRunTime/4 {
				break
			}
			n *= 2
		}
		iters[i] = 4 * n
	}
	for range repeats {
		for i, be := range bes {
			if be == nil {
				continue
			}
			gemm.Set(be)
			t0 := time.Now()
			for range iters[i] {
				mul()
			}
			rates[i] = append(rates[i], flops*float64(iters[i])/time.Since(t0).Seconds()/1e9)
		}
	}
	med := make([]float64, len(bes))
	for i, r := range rates {
		if len(r) > 0 {
			slices.Sort(r)
			med[i] = r[len(r)/2]
		}
	}
	return med
}
