package merge

import (
	"math"
	"testing"

	"github.com/graftml/graft/tensor"
)

func TestDAREDensityOneIsTaskArithmetic(t *testing.T) {
	shape := []int{2, 2}
	deltas := taskVecs(shape, []float64{1, -2, 3, 0}, []float64{2, 2, -1, 4})
	for _, r := range []DARERescale{RescaleInverseDensity, RescaleL1, RescaleNone} {
		got := mergeOne(t, DARE{Density: 1, Rescale: r, Weights: []float64{0.5, 2}, Lambda: 0.8}, deltas)
		wantMerged(t, r.String(), got, shape, []float64{3.6, 2.4, -0.4, 6.4})
	}
}

func TestDARESeeded(t *testing.T) {
	r := tensor.NewRNG(2)
	deltas := []*tensor.Tensor{tensor.Randn(r, 50), tensor.Randn(r, 50)}
	m := DARE{Density: 0.5, Seed: 7}
	a, b := mergeOne(t, m, deltas), mergeOne(t, m, deltas)
	wantMerged(t, "same seed", b, []int{50}, a.Float64s())
	differs := func(label string, x *tensor.Tensor) {
		t.Helper()
		for i, v := range x.Float64s() {
			if v != a.Float64s()[i] {
				return
			}
		}
		t.Errorf("%s gives the same merge", label)
	}
	differs("another seed", mergeOne(t, DARE{Density: 0.5, Seed: 8}, deltas))
	other, err := m.MergeTensor("v", nil, deltas)
	if err != nil {
		t.Fatal(err)
	}
	differs("another parameter name", other)

	// Appending a task vector (here a zero one) leaves the masks before it.
	wantMerged(t, "appended", mergeOne(t, m, append(deltas, tensor.Zeros(50))), []int{50}, a.Float64s())

	// Two equal task vectors of one parameter get different masks.
	ones := taskVecs([]int{64}, make([]float64, 64), make([]float64, 64))
	for _, d := range ones {
		d.Fill(1)
	}
	got := mergeOne(t, DARE{Density: 0.5, Rescale: RescaleNone, Weights: []float64{1, 10}}, ones).Float64s()
	seen := map[float64]bool{}
	for _, v := range got {
		seen[v] = true
	}
	if !seen[1] || !seen[10] {
		t.Errorf("the two task vectors got the same mask: entries %v", got)
	}
}

func TestDAREDropFraction(t *testing.T) {
	const n, density = 100000, 0.3
	d := tensor.Ones(n)
	got := mergeOne(t, DARE{Density: density, Seed: 11}, []*tensor.Tensor{d}).Float64s()
	dropped := 0
	for _, v := range got {
		if v == 0 {
			dropped++
		} else if math.Abs(v-1/density) > 1e-6 {
			t.Fatalf("entry %v is neither 0 nor 1/density", v)
		}
	}
	// The dropped fraction has standard deviation √(p(1−p)/n) ≈ 0.0014.
	frac := float64(dropped) / n
	if math.Abs(frac-(1-density)) > 0.01 {
		t.Errorf("dropped %.4f of the entries, want about %.2f", frac, 1-density)
	}
	t.Logf("dropped fraction %.4f (p = %.2f)", frac, 1-density)
}

func TestDAREUnbiased(t *testing.T) {
	// With the 1/density rescale the mean of the merge over seeds tends to
	// the task vector itself. Each entry's mean over S seeds has standard
	// deviation |τ|·√((1/d − 1)/S) = |τ|·0.027 here; allow 5 of them.
	const seeds, density = 4000, 0.25
	tau := []float64{1, -2, 3, 0.5}
	deltas := taskVecs([]int{4}, tau)
	mean := make([]float64, 4)
	for s := range seeds {
		for i, v := range mergeOne(t, DARE{Density: density, Seed: uint64(s)}, deltas).Float64s() {
			mean[i] += v / seeds
		}
	}
	for i := range tau {
		if math.Abs(mean[i]-tau[i]) > 5*math.Abs(tau[i])*math.Sqrt((1/density-1)/seeds) {
			t.Errorf("entry %d: mean %.4f over %d seeds, want about %v", i, mean[i], seeds, tau[i])
		}
	}
	t.Logf("mean over %d seeds %.4f, task vector %v", seeds, mean, tau)
}

func TestDARERescaleL1(t *testing.T) {
	r := tensor.NewRNG(4)
	d := tensor.Randn(r, 3, 40)
	tau := d.Float64s()
	got := mergeOne(t, DARE{Density: 0.3, Seed: 5, Rescale: RescaleL1}, []*tensor.Tensor{d}).Float64s()
	var before, after, factor float64
	for i, v := range got {
		before += math.Abs(tau[i])
		after += math.Abs(v)
		if v != 0 {
			// Every kept entry is scaled by one common factor.
			if factor == 0 {
				factor = v / tau[i]
			} else if math.Abs(v/tau[i]-factor) > 1e-5*factor {
				t.Fatalf("entry %d scaled by %v, others by %v", i, v/tau[i], factor)
			}
		}
	}
	if math.Abs(after-before) > 1e-5*before {
		t.Errorf("L1 norm %v after dropping, want %v", after, before)
	}
	// Without rescaling the kept entries are unchanged.
	kept := mergeOne(t, DARE{Density: 0.3, Seed: 5, Rescale: RescaleNone}, []*tensor.Tensor{d}).Float64s()
	for i, v := range kept {
		if v != 0 && v != tau[i] || (v == 0) != (got[i] == 0) {
			t.Fatalf("entry %d: %v without rescaling, %v with the L1 rescale, task vector %v", i, v, got[i], tau[i])
		}
	}
}

func TestDARETIES(t *testing.T) {
	// Density 1 drops nothing: DARE-TIES is TIES without trimming, under
	// either convention (the case of TestTIESConventions).
	shape := []int{4}
	deltas := taskVecs(shape, []float64{2, 1, -1, 2}, []float64{-1, -3, 1, 4})
	w := []float64{3, 1}
	wantMerged(t, "mergekit", mergeOne(t, DARETIES{Density: 1, Weights: w}, deltas), shape, []float64{2, 0, -1, 2.5})
	wantMerged(t, "PEFT", mergeOne(t, DARETIES{Density: 1, Weights: w, Convention: ConventionPEFT}, deltas), shape, []float64{6, -3, 0, 5})

	// Two constant positive task vectors, 2 and 4, at density 0.5 (rescale
	// ×2): each entry is 0 (both dropped), 4 or 8 (one kept) or their mean 6.
	const n = 200
	two, four := make([]float64, n), make([]float64, n)
	for i := range two {
		two[i], four[i] = 2, 4
	}
	got := mergeOne(t, DARETIES{Density: 0.5, Seed: 1}, taskVecs([]int{n}, two, four)).Float64s()
	count := map[float64]int{}
	for _, v := range got {
		count[v]++
	}
	for _, v := range []float64{0, 4, 6, 8} {
		if count[v] < n/8 {
			t.Errorf("value %v appears %d times of %d, want about %d", v, count[v], n, n/4)
		}
	}
	if count[0]+count[4]+count[6]+count[8] != n {
		t.Errorf("values other than 0, 4, 6, 8: %v", count)
	}
}
