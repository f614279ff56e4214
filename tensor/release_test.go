package tensor

import (
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// releaseStep is one SGD step of a two-layer model on a fixed batch: the
// loss, Backward, an in-place update, and optionally Release.
func releaseStep(x, w1, w2 *Tensor, release bool) (loss float32, h *Tensor) {
	w1.ZeroGrad()
	w2.ZeroGrad()
	h = x.MatMul(w1).ReLU()
	l := h.MatMul(w2).Square().Mean()
	l.Backward()
	for _, p := range []*Tensor{w1, w2} {
		for i, g := range p.grad {
			p.data[i] -= 0.1 * g
		}
	}
	loss = l.Item()
	if release {
		l.Release()
	}
	return loss, h
}

func releaseModel() (x, w1, w2 *Tensor) {
	r := NewRNG(3)
	x = Randn(r, 64, 128)
	w1 = Randn(r, 128, 256).Scale(0.05).Detach().SetRequiresGrad(true)
	w2 = Randn(r, 256, 32).Scale(0.05).Detach().SetRequiresGrad(true)
	return x, w1, w2
}

func TestReleaseGivesTheSameTrainingBitForBit(t *testing.T) {
	x, a1, a2 := releaseModel()
	_, b1, b2 := releaseModel()
	for step := range 5 {
		la, _ := releaseStep(x, a1, a2, false)
		lb, _ := releaseStep(x, b1, b2, true)
		if la != lb {
			t.Fatalf("step %d: loss %v without Release, %v with", step, la, lb)
		}
	}
	if !slices.Equal(a1.data, b1.data) || !slices.Equal(a2.data, b2.data) {
		t.Fatal("parameters differ after 5 steps with and without Release")
	}
}

// bytesPerStep returns the fewest bytes step allocated per call over three
// rounds of four warm calls, with the collector off: the pool keeps what it
// is given (a collection empties it, which would make the figures depend on
// GC timing), and the GEMM's own packing buffers, in a sync.Pool, are now and
// then allocated anew.
func bytesPerStep(step func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for range 2 { // warm the pool
		step()
	}
	best := uint64(1 << 62)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const steps = 4
		for range steps {
			step()
		}
		runtime.ReadMemStats(&after)
		best = min(best, (after.TotalAlloc-before.TotalAlloc)/steps)
	}
	return best
}

func TestReleaseRecyclesTheStepsMemory(t *testing.T) {
	x, w1, w2 := releaseModel()
	perStep := func(release bool) uint64 {
		return bytesPerStep(func() { releaseStep(x, w1, w2, release) })
	}
	kept, released := perStep(false), perStep(true)
	// Each step computes two 64×256 float32 activations, 64 KiB each (their
	// gradients are recycled by Backward): without Release they are new memory.
	if kept < 2*64*256*4 {
		t.Fatalf("without Release a step allocated only %d bytes; the test measures nothing", kept)
	}
	if released > kept/8 {
		t.Fatalf("with Release a step still allocated %d bytes (%d without)", released, kept)
	}
	t.Logf("bytes allocated per step: %d without Release, %d with", kept, released)
}

// Max pooling keeps each window's position for its backward in a pooled
// buffer that Release recycles with the graph.
func TestReleaseRecyclesMaxPoolPositions(t *testing.T) {
	r := NewRNG(4)
	x := Randn(r, 16, 8, 32, 32)
	w := Randn(r, 8, 1, 1).Detach().SetRequiresGrad(true)
	step := func(release bool) func() {
		return func() {
			w.ZeroGrad()
			l := MaxPool2d(x.Mul(w), PoolOptions{Kernel: [2]int{2, 2}}).Mean()
			l.Backward()
			if release {
				l.Release()
			}
		}
	}
	const positions = 16 * 8 * 16 * 16 * 4 // bytes
	kept, released := bytesPerStep(step(false)), bytesPerStep(step(true))
	if kept < positions {
		t.Fatalf("without Release a step allocated only %d bytes; the test measures nothing", kept)
	}
	if released > positions/8 {
		t.Fatalf("with Release a step still allocated %d bytes (%d without)", released, kept)
	}
	t.Logf("bytes allocated per step: %d without Release, %d with", kept, released)
}

func TestReleasedTensorsPanicAndKeptValuesSurvive(t *testing.T) {
	x, w1, w2 := releaseModel()
	w1.ZeroGrad()
	h := x.MatMul(w1).ReLU()
	shown := h.Detach()
	hv := slices.Clone(h.Data()) // Data hands the slice out: h's memory must never be recycled
	raw := h.Data()
	g := x.MatMul(w1).Sigmoid()
	gv := slices.Clone(g.data)
	gd := g.Detach()
	l := h.Add(g).MatMul(w2).Square().Mean()
	l.Backward()
	lv := l.Item()
	l.Release()
	if l.RequiresGrad() || !l.IsLeaf() || l.Item() != lv {
		t.Fatalf("the released root: requires grad %v, leaf %v, value %v (was %v)", l.RequiresGrad(), l.IsLeaf(), l.Item(), lv)
	}
	if w1.Grad() == nil || x.data == nil {
		t.Fatal("Release touched a leaf")
	}
	for range 3 { // more steps draw buffers from the pool
		releaseStep(x, w1, w2, true)
	}
	if !slices.Equal(raw, hv) || !slices.Equal(shown.data, hv) || !slices.Equal(gd.data, gv) {
		t.Fatal("a slice from Data or a Detach-ed view was overwritten by a later step")
	}
	for name, use := range map[string]func(){"item": func() { g.Item() }, "sigmoid": func() { g.Sigmoid() }, "scale": func() { g.Scale(2) }} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, name+": ") || !strings.Contains(msg, "freed by Release") || !strings.Contains(msg, "(64,256)") {
					t.Fatalf("%s of a released tensor: panic %q", name, msg)
				}
			}()
			use()
		}()
	}
	if s := g.String(); !strings.Contains(s, "freed by Release") {
		t.Fatalf("String of a released tensor: %q", s)
	}
}
