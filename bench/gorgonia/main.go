// Command gorgonia times one training step of the MLP benchmark in gorgonia
// (gorgonia.org/gorgonia v0.9.18), for side-by-side comparison with graft and
// PyTorch by graft's bench/compare tool; see README.md.
//
// It lives in a Go module of its own so that graft's go.mod never depends on
// gorgonia. It prints one JSON line on stdout, the protocol every side of
// bench/compare speaks: {"repeats_ms": [ms/step of each repeat], "loss": last loss}.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Shapes of the "mlp" benchmark: 784-256-10 with ReLU, batch 128.
const (
	batch, in, hidden, classes = 128, 784, 256, 10
)

func main() {
	name := flag.String("bench", "mlp", "benchmark to run (only mlp)")
	steps := flag.Int("steps", 50, "timed steps per repeat")
	repeats := flag.Int("repeats", 5, "timed repeats")
	warmup := flag.Int("warmup", 5, "untimed warm-up steps")
	flag.Parse()
	if *name != "mlp" {
		fail(fmt.Errorf("unknown benchmark %q (gorgonia runs only mlp)", *name))
	}
	step, loss, err := newMLP(1)
	if err != nil {
		fail(err)
	}
	for range *warmup {
		if err := step(); err != nil {
			fail(err)
		}
	}
	var res struct {
		RepeatsMS []float64 `json:"repeats_ms"`
		Loss      float64   `json:"loss"`
	}
	for range *repeats {
		start := time.Now()
		for range *steps {
			if err := step(); err != nil {
				fail(err)
			}
		}
		res.RepeatsMS = append(res.RepeatsMS, float64(time.Since(start).Microseconds())/1e3/float64(*steps))
	}
	res.Loss = loss()
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fail(err)
	}
}

// newMLP builds the MLP, a fixed random batch and Adam (lr 1e-3), and returns
// one training step (forward, softmax cross-entropy, backward, Adam update)
// and a function reporting the last loss.
func newMLP(seed uint64) (step func() error, loss func() float64, err error) {
	r := rand.New(rand.NewPCG(seed, seed))
	xs := make([]float32, batch*in)
	for i := range xs {
		xs[i] = float32(r.NormFloat64())
	}
	ys := make([]float32, batch*classes) // one-hot labels
	for i := range batch {
		ys[i*classes+r.IntN(classes)] = 1
	}

	g := G.NewGraph()
	x := G.NewMatrix(g, G.Float32, G.WithShape(batch, in), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(batch, in), tensor.WithBacking(xs))))
	y := G.NewMatrix(g, G.Float32, G.WithShape(batch, classes), G.WithName("y"),
		G.WithValue(tensor.New(tensor.WithShape(batch, classes), tensor.WithBacking(ys))))
	w1 := G.NewMatrix(g, G.Float32, G.WithShape(in, hidden), G.WithName("w1"), G.WithInit(G.GlorotU(1)))
	b1 := G.NewVector(g, G.Float32, G.WithShape(hidden), G.WithName("b1"), G.WithInit(G.Zeroes()))
	w2 := G.NewMatrix(g, G.Float32, G.WithShape(hidden, classes), G.WithName("w2"), G.WithInit(G.GlorotU(1)))
	b2 := G.NewVector(g, G.Float32, G.WithShape(classes), G.WithName("b2"), G.WithInit(G.Zeroes()))
	params := G.Nodes{w1, b1, w2, b2}

	h := G.Must(G.Rectify(G.Must(G.BroadcastAdd(G.Must(G.Mul(x, w1)), b1, nil, []byte{0}))))
	logits := G.Must(G.BroadcastAdd(G.Must(G.Mul(h, w2)), b2, nil, []byte{0}))
	logp := G.Must(G.LogSoftMax(logits))
	// Cross-entropy: −mean over the batch of Σ_c y·log p.
	cost := G.Must(G.Neg(G.Must(G.Mean(G.Must(G.Sum(G.Must(G.HadamardProd(y, logp)), 1))))))
	var costVal G.Value
	G.Read(cost, &costVal)
	if _, err := G.Grad(cost, params...); err != nil {
		return nil, nil, fmt.Errorf("gorgonia: grad: %w", err)
	}

	vm := G.NewTapeMachine(g, G.BindDualValues(params...))
	solver := G.NewAdamSolver(G.WithLearnRate(1e-3))
	step = func() error {
		defer vm.Reset()
		if err := vm.RunAll(); err != nil {
			return fmt.Errorf("gorgonia: run: %w", err)
		}
		if err := solver.Step(G.NodesToValueGrads(params)); err != nil {
			return fmt.Errorf("gorgonia: adam: %w", err)
		}
		return nil
	}
	loss = func() float64 {
		if v, ok := costVal.Data().(float32); ok {
			return float64(v)
		}
		return 0
	}
	return step, loss, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gorgonia:", err)
	os.Exit(1)
}
