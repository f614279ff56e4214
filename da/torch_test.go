package da

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/tensor"
)

// advRows returns t (N, D) as nested slices for JSON.
func advRows(t *tensor.Tensor) [][]float32 {
	n, d := t.Dim(0), t.Dim(1)
	out := make([][]float32, n)
	for i := range out {
		out[i] = t.Data()[i*d : (i+1)*d]
	}
	return out
}

// TestAdversarialLossesAgainstTorch checks DANN's, CDAN's and CDAN+E's loss
// and every gradient (features through the reversal layer, discriminator
// parameters) against testdata/torch_adversarial.py, the papers' formulas
// written in PyTorch.
func TestAdversarialLossesAgainstTorch(t *testing.T) {
	type refCase struct {
		Loss   float64
		Fs, Ft [][]float64
		Params [][]float64
	}
	methods := []string{"dann", "cdan", "cdan+e"}
	var inputs []map[string]any
	var checks []func(ref refCase)
	for _, method := range methods {
		r := tensor.NewRNG(11)
		fs := tensor.Randn(r, 6, 4).SetRequiresGrad(true)
		ft := tensor.Randn(r, 5, 4).AddScalar(0.3).SetRequiresGrad(true)
		ls, lt := tensor.Randn(r, 6, 3).Scale(2), tensor.Randn(r, 5, 3)
		const p, weight = 0.35, 0.7
		var align Alignment
		var params []*tensor.Tensor
		disc := DiscriminatorConfig{Hidden: []int{5}, Activation: "tanh", Seed: 4}
		if method == "dann" {
			a, err := NewDANN(4, DANNConfig{Weight: weight, Discriminator: disc})
			if err != nil {
				t.Fatal(err)
			}
			align, params = a, a.Parameters()
		} else {
			a, err := NewCDAN(4, 3, CDANConfig{Weight: weight, Discriminator: disc, Entropy: method == "cdan+e"})
			if err != nil {
				t.Fatal(err)
			}
			align, params = a, a.Parameters()
		}
		loss, err := align.Loss(Step{SourceFeatures: fs, TargetFeatures: ft, SourceLogits: ls, TargetLogits: lt, Progress: p})
		if err != nil {
			t.Fatal(err)
		}
		loss.Backward()

		var ps [][][]float32
		for _, q := range params {
			if q.Dims() == 1 {
				ps = append(ps, [][]float32{q.Data()})
				continue
			}
			ps = append(ps, advRows(q))
		}
		in := map[string]any{"fs": advRows(fs), "ft": advRows(ft), "ls": advRows(ls), "lt": advRows(lt), "params": []any{ps[0], ps[1][0], ps[2], ps[3][0]},
			"lambda": DANNLambda(p), "weight": weight, "method": method}
		inputs = append(inputs, in)
		checks = append(checks, func(ref refCase) {
			near := func(what string, got float32, want float64) {
				if math.Abs(float64(got)-want) > 1e-5+1e-4*math.Abs(want) {
					t.Errorf("%s: %s: graft %v, torch %v", method, what, got, want)
				}
			}
			near("loss", loss.Item(), ref.Loss)
			for i, row := range ref.Fs {
				for j, v := range row {
					near("source feature grad", fs.GradData()[i*4+j], v)
				}
			}
			for i, row := range ref.Ft {
				for j, v := range row {
					near("target feature grad", ft.GradData()[i*4+j], v)
				}
			}
			for k, q := range params {
				for i, v := range ref.Params[k] {
					near("discriminator grad", q.GradData()[i], v)
				}
			}
		})
	}
	var refs []refCase
	testenv.RunJSON(t, filepath.Join("testdata", "torch_adversarial.py"), inputs, &refs, "torch")
	if len(refs) != len(checks) {
		t.Fatalf("torch_adversarial.py gave %d cases for %d", len(refs), len(checks))
	}
	for i, ref := range refs {
		checks[i](ref)
	}
}
