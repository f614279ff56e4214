package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/nn/train"
	"github.com/graftml/graft/tensor"
)

// The live benchmark measures what a live training display costs the loop
// it watches: the same train.Run (the mlp benchmark's model and batch, a
// fixed number of steps, an evaluation every 50 steps) with Config.Live off
// and on, alternating, inside a stand-in kernel frontend that base64-encodes
// every image as the kernel does before sending it. It reports the median
// wall time of each and their ratio (on/off).

const (
	liveDoc   = "train.Run of the mlp step for 400 steps (eval every 50) with Config.Live off vs on, in a frontend that encodes each image as the kernel does"
	liveSteps = 400
)

// encodingFrontend stands in for the kernel: it encodes what is published.
type encodingFrontend struct{ bytes int }

func (f *encodingFrontend) Publish(b display.Bundle, _ string, _ bool) {
	if png, ok := b.Data[display.MIMEPNG].([]byte); ok {
		f.bytes += len(base64.StdEncoding.EncodeToString(png))
	}
	if svg, ok := b.Data[display.MIMESVG].(string); ok {
		f.bytes += len(svg)
	}
}

func (f *encodingFrontend) Clear(bool) {}

// liveRun trains for liveSteps steps and returns the wall time.
func liveRun(live bool) (time.Duration, error) {
	r := tensor.NewRNG(1)
	model := nn.NewMLP([]int{784, 256, 10}, "relu", 0, r)
	x := tensor.Randn(r, 1024, 784)
	labels := randLabels(r, 1024, 10)
	data, err := train.NewLabelledDataset(x, labels)
	if err != nil {
		return 0, err
	}
	opt, err := optim.NewAdam(nn.Parameters(model), optim.AdamConfig{LR: 1e-3})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	_, err = train.Run(context.Background(), train.Config{
		Model: model, Optimizer: opt,
		Loss: func(b train.Batch) (*tensor.Tensor, error) {
			return nn.CrossEntropy(model.Forward(b.X), b.Labels), nil
		},
		Train: data, Eval: data, EvalEvery: 50, EvalBatchSize: 1024,
		BatchSize: 128, MaxSteps: liveSteps, Live: live,
	})
	return time.Since(start), err
}

// runLive is the live benchmark's Run.
func runLive(c *comparer) *BenchReport {
	r := &BenchReport{Name: "live", Doc: liveDoc, Steps: liveSteps}
	fe := &encodingFrontend{}
	prev := display.SetFrontend(fe)
	defer display.SetFrontend(prev)
	var off, on []float64
	if _, err := liveRun(true); err != nil { // warm-up, and a check that it runs
		r.Errors = append(r.Errors, err.Error())
		return r
	}
	for i := 0; i < c.opt.Repeats; i++ {
		for _, live := range []bool{false, true} {
			d, err := liveRun(live)
			if err != nil {
				r.Errors = append(r.Errors, err.Error())
				return r
			}
			ms := float64(d.Microseconds()) / 1000 / liveSteps
			if live {
				on = append(on, ms)
			} else {
				off = append(off, ms)
			}
		}
	}
	r.Graft = &Side{MedianMS: median(on), RepeatsMS: on, Env: "Config.Live on"}
	r.Others = map[string]*Side{"live off": {MedianMS: median(off), RepeatsMS: off, Env: "Config.Live off"}}
	r.Ratio = median(on) / median(off)
	fmt.Printf("bench live: %.2f ms/step with Live on, %.2f ms/step off, ratio %.3f (%+.1f%%); %d bytes published\n",
		median(on), median(off), r.Ratio, 100*(r.Ratio-1), fe.bytes)
	return r
}
