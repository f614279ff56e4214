package train

import (
	"context"
	"runtime"
	"testing"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// TestRunReusesEachStepsMemory checks that Run frees every step's graph for
// the next step: once warm, a step allocates a fraction of what its
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
	// bytes allocated by a run of the given epochs (two steps each).
	run := func(epochs int) uint64 {
		model := nn.NewMLP([]int{64, 1024, 1024, 4}, "relu", 0, tensor.NewRNG(2))
		opt, err := optim.NewAdam(nn.Parameters(model), optim.AdamConfig{LR: 1e-3})
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = Run(context.Background(), Config{
			Model: model, Optimizer: opt, Train: ds, BatchSize: 128, Epochs: epochs,
			Loss: func(b Batch) (*tensor.Tensor, error) { return nn.CrossEntropy(model.Forward(b.X), b.Labels), nil },
		})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	perStep := func() uint64 { return (run(20) - run(5)) / 30 }
	released := perStep()
	releaseSteps = false
	kept := perStep()
	releaseSteps = true
	// A step's activations: two hidden layers of 128×1024 (each Linear+ReLU
	// runs as one op), 512 KiB apiece.
	const activations = 2 * 128 * 1024 * 4
	if kept < activations {
		t.Fatalf("without releasing, a step allocated %d bytes, less than its activations (%d): the test measures nothing", kept, activations)
	}
	// What remains is small objects (graph nodes, tensor headers, the batch's
	// copy) and refilling the pool after a collection empties it.
	if released > activations/3 {
		t.Fatalf("Run's steps allocate %d bytes each (%d without releasing; activations %d)", released, kept, activations)
	}
	t.Logf("bytes allocated per step: %d released, %d kept", released, kept)
}
