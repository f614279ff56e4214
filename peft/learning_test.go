package peft

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/tensor"
)

// The learning-for-real test: an MLP classifier pre-trained in the test on
// the two moons, then adapted to the moons rotated by learnAngle degrees
// (data.RotatedMoons' target) with each method of learningMethods, training
// only the method's parameters. Each method must train at most 2% of the
// parameters and beat the frozen model on the rotated moons by at least
// learnMinGain accuracy points; full fine-tuning is trained too, for the
// table the test logs.

const (
	learnWidth   = 256 // hidden width: LoRA r=2 is then under 2% of the parameters
	learnHidden  = 3   // hidden layers
	learnPoints  = 400 // points per domain, half for training and half for testing
	learnAngle   = 90  // rotation of the shifted task, degrees
	learnSteps   = 100 // full-batch Adam steps of each training
	learnMinGain = 0.15
	learnMaxFrac = 0.02
)

// learningMethod is one row of the test: a method's name and a constructor
// of its configuration for the test's model (hidden layers "layers.0" …
// "layers.2", output head "classifier"), with the learning rate to train it
// at. Later methods add one row each.
type learningMethod struct {
	name   string
	method func() Method
	lr     float64
	// plusRatio, when positive, trains with LoRA+'s parameter groups: B
	// matrices at lr × plusRatio.
	plusRatio float64
}

var learningMethods = []learningMethod{
	{"LoRA r=2 all-linear", func() Method {
		c := NewLoraConfig(2, 4, AllLinear)
		c.Seed = 1
		return c
	}, 1e-2, 0},
	{"LoRA+ r=2 all-linear, ×16", func() Method {
		c := NewLoraConfig(2, 4, AllLinear)
		c.Seed = 1
		return c
	}, 2e-3, 16},
	{"DoRA r=1 all-linear", func() Method {
		c := NewLoraConfig(1, 2, AllLinear)
		c.Seed, c.UseDoRA = 1, true
		return c
	}, 1e-2, 0},
	{"MoSLoRA r=2 all-linear", func() Method {
		c := NewLoraConfig(2, 4, AllLinear)
		c.Seed, c.UseMixer = 1, true
		return c
	}, 1e-2, 0},
	{"Hydra r=1 layers.1-2", func() Method {
		c := NewHydraConfig(1, 2, "layers.1", "layers.2")
		c.Seed = 1
		return c
	}, 1e-2, 0},
	{"VeRA r=32 all-linear", func() Method { return NewVeraConfig(32, AllLinear) }, 1e-2, 0},
	{"Tied-LoRA r=3 all-linear", func() Method {
		c := NewTiedLoraConfig(3, 6, AllLinear)
		c.Seed = 1
		return c
	}, 1e-2, 0},
	{"HRA r=2 all-linear", func() Method {
		c := NewHRAConfig(2, AllLinear)
		c.Seed = 1
		return c
	}, 1e-2, 0},
	{"IA3 all-linear", func() Method { return NewIA3Config([]string{AllLinear}, nil) }, 1e-2, 0},
	{"bottleneck ÷128 layers.1-2", func() Method {
		return BottleneckConfig{TargetModules: []string{"layers.1", "layers.2"}, ReductionFactor: 128, Seed: 1}
	}, 1e-2, 0},
}

// learner is the test's MLP: ReLU hidden layers and a classifier head.
type learner struct {
	Layers     []nn.Layer
	Classifier nn.Layer
}

func newLearner(seed uint64) *learner {
	r := tensor.NewRNG(seed)
	l := &learner{}
	in := 2
	for range learnHidden {
		l.Layers = append(l.Layers, nn.NewLinear(in, learnWidth, true, r))
		in = learnWidth
	}
	l.Classifier = nn.NewLinear(in, 2, true, r)
	return l
}

func (l *learner) Forward(x *tensor.Tensor) *tensor.Tensor {
	for _, h := range l.Layers {
		x = h.Forward(x).ReLU()
	}
	return l.Classifier.Forward(x)
}

// copyOf returns a new learner with l's parameter values.
func (l *learner) copyOf() *learner {
	c := newLearner(0)
	src := nn.Parameters(l)
	for i, p := range nn.Parameters(c) {
		copy(p.Data(), src[i].Data())
	}
	return c
}

// learnFit trains the model's trainable parameters on ds with full-batch Adam.
func learnFit(t *testing.T, model nn.Layer, ds *data.Dataset, lr float64) {
	t.Helper()
	opt, err := optim.NewAdam(nn.TrainableParameters(model), optim.AdamConfig{LR: lr})
	if err != nil {
		t.Fatal(err)
	}
	learnFitWith(model, ds, opt)
}

// learnFitWith trains model on ds with opt, full batch.
func learnFitWith(model nn.Layer, ds *data.Dataset, opt optim.Optimizer) {
	for range learnSteps {
		opt.ZeroGrad()
		loss := nn.CrossEntropy(model.Forward(ds.X), ds.Labels)
		loss.Backward()
		opt.Step()
	}
}

func learnAccuracy(model nn.Layer, ds *data.Dataset) float64 {
	return nn.Accuracy(model.Forward(ds.X), ds.Labels)
}

func TestLearningForReal(t *testing.T) {
	pair, err := data.RotatedMoons(learnPoints, 0.1, learnAngle, 7)
	if err != nil {
		t.Fatal(err)
	}
	srcTrain, srcTest, err := pair.Source.Split(0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	tgtTrain, tgtTest, err := pair.Target.Split(0.5, 2)
	if err != nil {
		t.Fatal(err)
	}

	base := newLearner(3)
	learnFit(t, base, srcTrain, 3e-3)
	srcAcc := learnAccuracy(base, srcTest)
	if srcAcc < 0.95 {
		t.Fatalf("pre-training: accuracy %.3f on the moons' test half, want ≥ 0.95", srcAcc)
	}
	frozen := learnAccuracy(base, tgtTest)
	total, _ := nn.CountParameters(base)

	full := base.copyOf()
	learnFit(t, full, tgtTrain, 3e-3)
	fullAcc := learnAccuracy(full, tgtTest)

	var table strings.Builder
	fmt.Fprintf(&table, "2-%d×%d-2 MLP, %d parameters, pre-trained on the moons (test accuracy %.1f%%), adapted to the moons rotated by %d°\n",
		learnWidth, learnHidden, total, 100*srcAcc, learnAngle)
	row := func(name string, acc float64, trainable, all int) {
		fmt.Fprintf(&table, "%-28s accuracy %5.1f%%  trainable %7d / %7d = %6.3f%%\n", name, 100*acc, trainable, all, 100*float64(trainable)/float64(all))
	}
	row("frozen", frozen, 0, total)
	row("full fine-tuning", fullAcc, total, total)
	for _, m := range learningMethods {
		model := base.copyOf()
		pm, err := Inject(model, "", m.method())
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		all, trainable := nn.CountParameters(pm.Module())
		before := snap(model)
		if m.plusRatio > 0 {
			groups, err := pm.LoraPlusGroups(m.lr, m.plusRatio, 0)
			if err != nil {
				t.Fatal(err)
			}
			opt, err := optim.NewAdamGroups(groups, optim.AdamConfig{})
			if err != nil {
				t.Fatal(err)
			}
			learnFitWith(model, tgtTrain, opt)
		} else {
			learnFit(t, model, tgtTrain, m.lr)
		}
		for _, p := range nn.NamedParameters(model) {
			if was := before[p.Name]; !was.trainable && !slices.Equal(was.data, p.Tensor.Data()) {
				t.Errorf("%s: frozen parameter %s changed in training", m.name, p.Name)
			}
		}
		acc := learnAccuracy(model, tgtTest)
		row(m.name, acc, trainable, all)
		if frac := float64(trainable) / float64(all); frac > learnMaxFrac {
			t.Errorf("%s trains %d of %d parameters (%.2f%%), want ≤ %.0f%%", m.name, trainable, all, 100*frac, 100*learnMaxFrac)
		}
		if acc < frozen+learnMinGain {
			t.Errorf("%s: accuracy %.3f on the rotated moons, want ≥ the frozen model's %.3f + %.2f", m.name, acc, frozen, learnMinGain)
		}
	}
	t.Log("\n" + table.String())
}
