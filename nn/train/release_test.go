package train

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// TestRunReusesEachStepsMemory checks that Run frees every step's graph for
// the next step: once warm, a step allocates a small fraction of what its
// activations take.
func TestRunReusesEachStepsMemory(t *testing.T) {
	r := tensor.NewRNG(1)
	x := tensor.Randn(r, 256, 64)
	labels := make([]int, 256)
	for i := range labels {
		labels[i] = i % 4
	}
	ds, err := NewLabelledDataset(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	// With the collector off the pool keeps what it is given (a collection
	// empties it, which would make the figures depend on GC timing).
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	// perStep warms a model up, then returns the fewest bytes a step
	// allocated over three runs of five epochs (two steps each).
	perStep := func() uint64 {
		model := nn.NewMLP([]int{64, 1024, 1024, 4}, "relu", 0, tensor.NewRNG(2))
		opt, err := optim.NewAdam(nn.Parameters(model), optim.AdamConfig{LR: 1e-3})
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{Model: model, Optimizer: opt, Train: ds, BatchSize: 128, Epochs: 5,
			Loss: func(b Batch) (*tensor.Tensor, error) { return nn.CrossEntropy(model.Forward(b.X), b.Labels), nil }}
		best := uint64(1 << 62)
		for run := range 4 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if _, err := Run(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			if run > 0 { // the first run warms up: optimiser state, gradients, the pool
				best = min(best, (after.TotalAlloc-before.TotalAlloc)/10)
			}
		}
		return best
	}
	released := perStep()
	releaseSteps = false
	kept := perStep()
	releaseSteps = true
	// A step's activations: two hidden layers of 128×1024 (each Linear+ReLU
	// runs as one op), 512 KiB apiece.
	const activations = 2 * 128 * 1024 * 4
	if kept < activations/2 {
		t.Fatalf("without releasing, a step allocated %d bytes, less than half its activations (%d): the test measures nothing", kept, activations)
	}
	// What remains is small objects (graph nodes, tensor headers), the
	// batch, which is an input, not part of the graph, and what the GEMM
	// backend allocates itself: 47.5 KB a step with graft's own GEMM, 135 KB
	// with gonum's (-tags purego).
	if released > activations/4 {
		t.Fatalf("Run's steps allocate %d bytes each (%d without releasing; activations %d)", released, kept, activations)
	}
	t.Logf("bytes allocated per step: %d released, %d kept", released, kept)
}
