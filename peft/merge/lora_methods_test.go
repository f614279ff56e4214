package merge

import (
	"testing"

	"github.com/graftml/graft/tensor"
)

// The task-vector merges run on each module's dense ΔW: at full rank the
// combined adapter's ΔW is exactly the method's merge of the adapters' ΔW
// (TIES with unequal weights, DARE seeded), and DARE at density 1 is the
// exact weighted sum that the cat mode stores.
func TestCombineWithTIESAndDARE(t *testing.T) {
	adapters := []string{"a", "b", "c"}
	w := []float64{1, 0.5, 2}
	for _, method := range []Method{
		TIES{Weights: w, Density: 0.3},
		TIES{Weights: w, Density: 0.3, Convention: ConventionPEFT},
		DARE{Weights: w, Density: 0.6, Seed: 7},
		DARETIES{Weights: w, Density: 0.6, Seed: 7},
		Breadcrumbs{Weights: w, Beta: 0.05, Gamma: 0.2},
	} {
		m, _ := loraPool(t)
		if err := CombineLoRA(m, adapters, nil, "merged", CombineOptions{Method: method, Rank: 8}); err != nil {
			t.Fatalf("%s: %v", method.Name(), err)
		}
		for _, mod := range []string{"fc1", "proj"} {
			var deltas []*tensor.Tensor
			for _, a := range adapters {
				d := loraDelta(t, m, mod, a)
				f := make([]float32, len(d))
				for i, v := range d {
					f[i] = float32(v)
				}
				deltas = append(deltas, tensor.New(f, 8, len(d)/8))
			}
			want, err := method.MergeTensor(mod, nil, deltas)
			if err != nil {
				t.Fatal(err)
			}
			got := loraDelta(t, m, mod, "merged")
			if d := loraMaxDiff(got, loraF64(want.Data())); d > 1e-5 {
				t.Errorf("%s on %s: the combined ΔW differs from the method's merge of the ΔW by %g", method.Name(), mod, d)
			}
		}
	}

	exact, _ := loraPool(t)
	if err := CombineLoRA(exact, adapters, w, "sum", CombineOptions{}); err != nil {
		t.Fatal(err)
	}
	dare, _ := loraPool(t)
	if err := CombineLoRA(dare, adapters, nil, "sum", CombineOptions{Method: DARE{Weights: w, Density: 1}, Rank: 8}); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []string{"fc1", "proj"} {
		if d := loraMaxDiff(loraDelta(t, dare, mod, "sum"), loraDelta(t, exact, mod, "sum")); d > 1e-5 {
			t.Errorf("DARE at density 1 on %s differs from the exact weighted sum by %g", mod, d)
		}
	}
}
