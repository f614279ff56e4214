package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/graftml/graft/tensor"
	"github.com/graftml/graft/tensor/gemm"
)

// seed seeds the random inputs, labels and weights of every graft side.
const seed = 1

// result is what every side's child process prints as its last line on
// stdout, as JSON: graft's worker, torch_bench.py and the other Go modules.
type result struct {
	RepeatsMS []float64 `json:"repeats_ms"`        // ms/step of each timed repeat
	Loss      float64   `json:"loss"`              // loss of the last step
	Backend   string    `json:"backend,omitempty"` // graft's GEMM backend
}

// Side is one side's measurement as the parent reports it.
type Side struct {
	MedianMS  float64   `json:"median_ms"` // median over repeats of ms/step
	RepeatsMS []float64 `json:"repeats_ms"`
	PeakRSSMB float64   `json:"peak_rss_mb"` // the child's ru_maxrss, in MiB
	Loss      float64   `json:"loss"`
	Backend   string    `json:"gemm_backend,omitempty"`
	Env       string    `json:"env,omitempty"` // setting the child ran with, e.g. OMP_WAIT_POLICY=passive
}

// runWorker is the graft side of benchmark name, run in a child process: it
// builds the step, warms up, times the repeats and prints a result.
func runWorker(name string, steps, repeats, warmup int) error {
	b, ok := lookup(name)
	if !ok {
		return fmt.Errorf("worker: unknown benchmark %q", name)
	}
	step, err := b.Graft(tensor.NewRNG(seed))
	if err != nil {
		return fmt.Errorf("worker: building %s: %w", name, err)
	}
	for range warmup {
		step()
	}
	res := result{Backend: gemm.Current().Name()}
	var loss float32
	for range repeats {
		start := time.Now()
		for range steps {
			loss = step()
		}
		res.RepeatsMS = append(res.RepeatsMS, msPerStep(time.Since(start), steps))
	}
	res.Loss = float64(loss)
	return json.NewEncoder(os.Stdout).Encode(res)
}

func msPerStep(d time.Duration, steps int) float64 {
	return float64(d.Nanoseconds()) / 1e6 / float64(steps)
}

// runChild runs a side's child process with the given extra environment
// (KEY=VALUE entries replace inherited ones; "KEY=" alone removes KEY),
// parses its result and measures its peak RSS.
func runChild(env []string, prog string, args ...string) (*Side, error) {
	cmd := exec.Command(prog, args...)
	cmd.Env = withEnv(os.Environ(), env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %v%s", prog, err, tail(stderr.String(), 20))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return nil, fmt.Errorf("%s: reading its result %q: %v%s", prog, lines[len(lines)-1], err, tail(stderr.String(), 20))
	}
	if len(res.RepeatsMS) == 0 {
		return nil, fmt.Errorf("%s: no timed repeats in its result", prog)
	}
	return &Side{
		MedianMS:  median(res.RepeatsMS),
		RepeatsMS: res.RepeatsMS,
		PeakRSSMB: peakRSSMB(cmd.ProcessState),
		Loss:      res.Loss,
		Backend:   res.Backend,
	}, nil
}

// withEnv returns base with the entries of extra set (or, for "KEY=", removed).
func withEnv(base, extra []string) []string {
	out := slices.Clone(base)
	for _, kv := range extra {
		key, val, _ := strings.Cut(kv, "=")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, key+"=") })
		if val != "" {
			out = append(out, kv)
		}
	}
	return out
}

// tail returns the last n lines of s, indented on new lines, for error messages.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	return "\n\t" + strings.Join(lines, "\n\t")
}

// median returns the median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// medianSide returns the side whose median is the median over rounds (the
// lower middle one for an even count), or nil for none.
func medianSide(rounds []*Side) *Side {
	if len(rounds) == 0 {
		return nil
	}
	s := slices.SortedFunc(slices.Values(rounds), func(a, b *Side) int { return cmp.Compare(a.MedianMS, b.MedianMS) })
	return s[(len(s)-1)/2]
}
