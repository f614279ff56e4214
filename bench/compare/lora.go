package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/nn/optim"
	"github.com/graftml/graft/peft"
	"github.com/graftml/graft/tensor"
)

// The lora benchmark times a LoRA training step of the transformer
// benchmark's encoder layer — the same layer, input, target, loss and AdamW,
// with LoRA r = 8, α = 8 on the attention's q_proj and v_proj and only the
// A and B matrices trained — against two references:
//
//   - graft's full fine-tuning of that layer (the transformer benchmark's
//     step), run alternately with the LoRA step (LoRA, full, LoRA, full) so
//     that a change in the machine's load falls on both;
//   - the same LoRA written in plain PyTorch (torch_bench.py's lora: the
//     encoder layer written out with q/k/v/out Linear layers, since torch's
//     nn.MultiheadAttention packs q, k and v into one in_proj weight; frozen
//     base, AdamW over A and B only), and, for context, that PyTorch layer
//     fully fine-tuned (lora_full).
//
// It prints
//
//	bench lora: graft X ms/step, torch Y ms/step, ratio Z            (graft LoRA / torch LoRA)
//	bench lora-vs-full: graft X ms/step, full Y ms/step, ratio Z     (graft LoRA / graft full)
//
// and a line with torch's own LoRA/full ratio, the peak RSS of each side and
// the load average before and after. Frozen weights need no weight
// gradient, so LoRA should cost well under the full step: the issue asks for
// at most 0.7×.

const (
	loraDoc   = "LoRA r 8 α 8 on q_proj, v_proj of the transformer benchmark's encoder layer (AdamW on A, B only) vs full fine-tuning in graft and the same LoRA in PyTorch"
	loraSteps = 5 // default timed steps per repeat, as the transformer benchmark
	// loraRounds is how many times the graft LoRA and full workers alternate.
	loraRounds = 2
)

// loraConfig is the benchmark's adapter.
func loraConfig() peft.LoraConfig { return peft.NewLoraConfig(8, 8, "q_proj", "v_proj") }

// graftLoRA is the lora benchmark's graft step: the transformer benchmark's
// layer with loraConfig injected, AdamW over the adapter's parameters.
func graftLoRA(r *tensor.RNG) (func() float32, error) {
	model, x, target := transformerSetup(r)
	if _, err := peft.Inject(model, "", loraConfig()); err != nil {
		return nil, err
	}
	opt, err := optim.NewAdamW(nn.TrainableParameters(model), optim.AdamConfig{LR: 1e-3})
	if err != nil {
		return nil, err
	}
	return trainStep(opt, func() *tensor.Tensor { return nn.MSELoss(model.Forward(x), target) }), nil
}

// runLoRA is the lora benchmark's Run.
func runLoRA(c *comparer) *BenchReport {
	steps := c.opt.Steps
	if steps == 0 {
		steps = loraSteps
	}
	r := &BenchReport{Name: "lora", Doc: loraDoc, Steps: steps}
	fail := func(side string, err error) {
		r.Errors = append(r.Errors, side+": "+err.Error())
		fmt.Printf("bench lora: %s failed: %v\n", side, err)
	}
	loadBefore := loadAverage()
	loop := []string{"-steps", strconv.Itoa(steps), "-repeats", strconv.Itoa(c.opt.Repeats), "-warmup", strconv.Itoa(c.opt.Warmup)}
	goEnv := []string{"GOMAXPROCS=" + strconv.Itoa(c.opt.Threads)}
	var lora, full []*Side
	for range loraRounds {
		for _, w := range []struct {
			bench string
			sides *[]*Side
		}{{"lora", &lora}, {"transformer", &full}} {
			side, err := runChild(goEnv, c.self, append([]string{"-worker", "graft", "-bench", w.bench}, loop...)...)
			if err != nil {
				fail("graft "+w.bench, err)
				return r
			}
			*w.sides = append(*w.sides, side)
		}
	}
	r.Graft = pooled(lora)
	graftFull := pooled(full)
	graftFull.Env = "full fine-tuning (the transformer benchmark's step)"
	r.Others = map[string]*Side{"graft-full": graftFull}

	var winner, fullWinner string
	var torchFull *Side
	if c.torchWanted(Benchmark{Torch: "lora"}) {
		r.Torch, r.TorchRuns, winner = c.runTorch("lora", steps, fail)
		var fullRuns []*Side
		torchFull, fullRuns, fullWinner = c.runTorch("lora_full", steps, fail)
		if torchFull != nil {
			r.Others["torch-full"] = torchFull
			r.TorchRuns = append(r.TorchRuns, fullRuns...)
		}
	}
	loadAfter := loadAverage()

	line := fmt.Sprintf("bench lora: graft %.2f ms/step", r.Graft.MedianMS)
	if r.Torch != nil {
		r.Ratio = r.Graft.MedianMS / r.Torch.MedianMS
		line += fmt.Sprintf(", torch %.2f ms/step, ratio %.2f", r.Torch.MedianMS, r.Ratio)
	}
	fmt.Println(line)
	fmt.Printf("bench lora-vs-full: graft %.2f ms/step, full %.2f ms/step, ratio %.2f\n",
		r.Graft.MedianMS, graftFull.MedianMS, r.Graft.MedianMS/graftFull.MedianMS)

	var notes []string
	rss := fmt.Sprintf("bench lora: peak RSS graft %.0f MB (full %.0f MB)", r.Graft.PeakRSSMB, graftFull.PeakRSSMB)
	if r.Torch != nil {
		rss += fmt.Sprintf(", torch %.0f MB", r.Torch.PeakRSSMB)
		notes = append(notes, "torch LoRA best with "+winner)
	}
	if torchFull != nil {
		fmt.Printf("bench lora: torch full fine-tuning of the same layer %.2f ms/step, torch LoRA/full ratio %.2f (best with %s)\n",
			torchFull.MedianMS, r.Torch.MedianMS/torchFull.MedianMS, fullWinner)
	}
	notes = append(notes, "graft gemm backend "+r.Graft.Backend, "load average "+loadBefore+" before, "+loadAfter+" after")
	fmt.Printf("%s (%s)\n", rss, strings.Join(notes, "; "))
	return r
}

// pooled merges the repeats of several runs of one side into one Side: the
// median over all repeats, the largest peak RSS and the last loss.
func pooled(sides []*Side) *Side {
	p := &Side{Backend: sides[0].Backend, Loss: sides[len(sides)-1].Loss}
	for _, s := range sides {
		p.RepeatsMS = append(p.RepeatsMS, s.RepeatsMS...)
		p.PeakRSSMB = max(p.PeakRSSMB, s.PeakRSSMB)
	}
	p.MedianMS = median(p.RepeatsMS)
	return p
}

// loadAverage returns the 1, 5 and 15-minute load averages from
// /proc/loadavg, or "unknown".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
