package da

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/graftml/graft/tensor"
)

func TestRampScalesByTheDANNSchedule(t *testing.T) {
	xs := tensor.New([]float32{0, 1, 2, 3}, 2, 2)
	xt := tensor.New([]float32{1, 1, 3, 2}, 2, 2)
	inner := CORALAlignment{Weight: 2}
	full, err := inner.Loss(Step{SourceFeatures: xs, TargetFeatures: xt})
	if err != nil {
		t.Fatal(err)
	}
	r := Ramp{Alignment: inner}
	for _, p := range []float64{0, 0.1, 0.5, 1} {
		got, err := r.Loss(Step{SourceFeatures: xs, TargetFeatures: xt, Progress: p})
		if err != nil {
			t.Fatal(err)
		}
		want := float64(full.Item()) * math.Tanh(5*p) // 2/(1+e^(−10p)) − 1 = tanh(5p)
		if math.Abs(float64(got.Item())-want) > 1e-6*math.Max(1, want) {
			t.Errorf("p = %v: loss %v, want λ_p·%v = %v", p, got.Item(), full.Item(), want)
		}
	}
	if r.Name() != "CORAL" || r.Parameters() != nil {
		t.Errorf("name %q, parameters %v", r.Name(), r.Parameters())
	}
	if _, err := (Ramp{}).Loss(Step{}); err == nil || !strings.Contains(err.Error(), "no Alignment") {
		t.Errorf("empty ramp: %v", err)
	}
	if _, err := (Ramp{Alignment: inner, Gamma: -1}).Loss(Step{SourceFeatures: xs, TargetFeatures: xt}); err == nil || !strings.Contains(err.Error(), "Gamma = -1") {
		t.Errorf("negative gamma: %v", err)
	}
}

func TestFitRecordsTheRamp(t *testing.T) {
	m, pair := moonsModel(t, 3)
	res, err := Fit(context.Background(), m, pair, FitOptions{Alignment: Ramp{Alignment: MMDAlignment{}}, Steps: 20, EvalEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lambda) != 20 || res.Lambda[0] != 0 || math.Abs(res.Lambda[19]-DANNLambda(19.0/20)) > 1e-12 || res.AlignLoss[0] != 0 {
		t.Errorf("λ curve %v, first alignment loss %v", res.Lambda, res.AlignLoss[0])
	}
}
