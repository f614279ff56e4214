package project

import (
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

// TestPCAMatchesSklearn checks components, mean, explained variance (and
// ratio) and projections of new data against sklearn.decomposition.PCA, for
// N ≥ D (covariance eigenvectors) and N < D (SVD). scikit-learn fixes signs
// by the projections; its components are flipped to graft's convention (the
// largest-magnitude entry positive) before comparing.
func TestPCAMatchesSklearn(t *testing.T) {
	_, ref := sklearnReference(t)
	for _, c := range ref.PCA {
		x := rowsTensor(c.X)
		t.Run(tensor.FormatShape(x.Shape()), func(t *testing.T) {
			f, err := FitPCA(x, c.K)
			if err != nil {
				t.Fatal(err)
			}
			d := x.Dim(1)
			flips := make([]float64, c.K)
			for i, comp := range c.Components {
				big := 0
				for j, v := range comp {
					if math.Abs(v) > math.Abs(comp[big]) {
						big = j
					}
				}
				flips[i] = math.Copysign(1, comp[big])
			}
			wantComp := flat(c.Components)
			for t := range wantComp {
				wantComp[t] *= flips[t/d]
			}
			wantX2 := flat(c.TransformX2)
			for t := range wantX2 {
				wantX2[t] *= flips[t%c.K]
			}
			x2, err := f.Transform(rowsTensor(c.X2))
			if err != nil {
				t.Fatal(err)
			}
			for _, cmp := range []struct {
				name      string
				got, want []float64
			}{
				{"components", f.Components().Float64s(), wantComp},
				{"mean", f.Mean().Float64s(), c.Mean},
				{"explained variance", f.ExplainedVariance(), c.ExplainedVariance},
				{"explained variance ratio", f.ExplainedVarianceRatio(), c.Ratio},
				{"transform of new data", x2.Float64s(), wantX2},
			} {
				if len(cmp.got) != len(cmp.want) {
					t.Fatalf("%s: %d values, sklearn has %d", cmp.name, len(cmp.got), len(cmp.want))
				}
				// float32 in and out: 1e-5 of the largest value.
				if e, at := maxRelDiff(cmp.got, cmp.want); e > 1e-5 {
					t.Errorf("%s: entry %d is %v, sklearn %v (error %.2g of the largest)", cmp.name, at, cmp.got[at], cmp.want[at], e)
				}
			}
			if s := x2.Shape(); s[0] != len(c.X2) || s[1] != c.K {
				t.Errorf("transform shape %v, want (%d,%d)", s, len(c.X2), c.K)
			}
		})
	}
}

// TestPCALine checks a hand-made case: points on the line c + s·u in 3-D
// with u = (1, 2, 2)/3 have all their variance on one component, u (its
// entries of largest magnitude, 2/3, are positive), and project to s − mean(s).
func TestPCALine(t *testing.T) {
	s := []float64{-2, -1, 0, 0.5, 1, 3.5}
	c := []float64{1, -1, 2}
	u := []float64{1.0 / 3, 2.0 / 3, 2.0 / 3}
	var data []float32
	for _, si := range s {
		for j := range 3 {
			data = append(data, float32(c[j]+si*u[j]))
		}
	}
	x := tensor.New(data, len(s), 3)
	f, err := FitPCA(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	ratio := f.ExplainedVarianceRatio()
	if math.Abs(ratio[0]-1) > 1e-6 || math.Abs(ratio[1]) > 1e-6 {
		t.Errorf("explained variance ratio %v, want [1 0]", ratio)
	}
	// var(s) with N−1 = 5: mean 1/3, Σ(s−m)² = 18.5 − 6/9 = 17.8333…
	if v := f.ExplainedVariance()[0]; math.Abs(v-(18.5-6.0/9)/5) > 1e-5 {
		t.Errorf("explained variance %v, want %v", v, (18.5-6.0/9)/5)
	}
	comp := f.Components().Float64s()
	for j := range 3 {
		if math.Abs(comp[j]-u[j]) > 1e-6 {
			t.Errorf("component 0 = %v, want %v", comp[:3], u)
			break
		}
	}
	mean := f.Mean().Float64s()
	y, err := PCA(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	if sh := y.Shape(); sh[0] != len(s) || sh[1] != 1 {
		t.Fatalf("PCA shape %v, want (6,1)", sh)
	}
	for i, si := range s {
		want := si - 1.0/3
		if got := float64(y.Data()[i]); math.Abs(got-want) > 1e-5 {
			t.Errorf("projection of point %d = %v, want %v", i, got, want)
		}
	}
	for j := range 3 {
		if want := c[j] + u[j]/3; math.Abs(mean[j]-want) > 1e-6 {
			t.Errorf("mean[%d] = %v, want %v", j, mean[j], want)
		}
	}
}

// TestPCAConstantData: data without variance has explained variance ratio 0
// and projects to 0.
func TestPCAConstantData(t *testing.T) {
	x := tensor.New([]float32{1, 2, 1, 2, 1, 2}, 3, 2)
	f, err := FitPCA(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range f.ExplainedVarianceRatio() {
		if r != 0 {
			t.Errorf("ratio[%d] = %v, want 0", i, r)
		}
	}
	y, _ := f.Transform(x)
	for i, v := range y.Data() {
		if v != 0 {
			t.Errorf("projection %d = %v, want 0", i, v)
		}
	}
}

func TestPCAErrors(t *testing.T) {
	good := tensor.New([]float32{1, 2, 3, 4, 5, 7}, 3, 2)
	nan := tensor.New([]float32{1, 2, 3, float32(math.NaN()), 5, 7}, 3, 2)
	inf := tensor.New([]float32{1, 2, 3, 4, float32(math.Inf(-1)), 7}, 3, 2)
	for _, tc := range []struct {
		name string
		x    *tensor.Tensor
		k    int
		want string
	}{
		{"k zero", good, 0, "pca: k = 0 components, want 1 ≤ k ≤ min(N, D) = 2 for x of shape (3,2)"},
		{"k too big", good, 3, "pca: k = 3 components, want 1 ≤ k ≤ min(N, D) = 2"},
		{"rank 1", tensor.New([]float32{1, 2, 3}, 3), 1, "pca: x has shape (3), want (N, D)"},
		{"rank 3", tensor.Zeros(2, 3, 4), 1, "pca: x has shape (2,3,4), want (N, D)"},
		{"one row", tensor.New([]float32{1, 2}, 1, 2), 1, "pca: need at least 2 rows, x has 1"},
		{"NaN", nan, 1, "pca: x[1,1] is NaN"},
		{"Inf", inf, 1, "pca: x[2,0] is -Inf"},
		{"nil", nil, 1, "pca: x is nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FitPCA(tc.x, tc.k)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("FitPCA: error %v, want one containing %q", err, tc.want)
			}
			_, err = PCA(tc.x, tc.k)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("PCA: error %v, want one containing %q", err, tc.want)
			}
		})
	}
	f, err := FitPCA(good, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Transform(tensor.Zeros(4, 3)); err == nil || err.Error() != "pca: transform: x has 3 columns, the fit has 2" {
		t.Errorf("Transform with 3 columns: %v", err)
	}
	if _, err := f.Transform(nan); err == nil || err.Error() != "pca: transform: x[1,1] is NaN" {
		t.Errorf("Transform of NaN: %v", err)
	}
}

func TestPCAString(t *testing.T) {
	x := tensor.New([]float32{0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 1, 0}, 4, 3)
	f, err := FitPCA(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Variances 4/3 (first column) and 1/3 (second) of a total of 5/3.
	if got, want := f.String(), "PCA: 2 of 3 dimensions, explained variance ratio [0.8 0.2] (total 1)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
