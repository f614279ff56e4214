// Command compare runs graft's side-by-side benchmarks: the same training
// step, with the same shapes and the same number of threads, in graft and in
// the reference tools (PyTorch, and for some benchmarks other Go libraries).
//
// Usage:
//
//	go run ./bench/compare [flags] [NAME...]          # no NAME: all benchmarks
//	go run -tags openblas ./bench/compare [flags] [NAME...]
//
// Each side runs in a child process of its own, so that its peak RSS can be
// read from the child's rusage: graft by re-running this binary with the
// hidden -worker flag, PyTorch by running the embedded torch_bench.py with
// Debian's /usr/bin/python3 (or $GRAFT_PYTHON), and other Go libraries by
// building their module under bench/ once and running the program. Every side
// draws its random inputs once (seeded), runs -warmup untimed steps and then
// -repeats timed runs of -steps steps, and reports the median ms/step over the
// repeats. PyTorch runs twice, with OMP_WAIT_POLICY=passive and without it,
// and the faster counts (its two thread pools can fight over the cores).
//
// Output, per benchmark:
//
//	bench mlp: graft 4.10 ms/step, torch 3.30 ms/step, ratio 1.24
//	bench mlp: peak RSS graft 52 MB, torch 310 MB (torch best with OMP_WAIT_POLICY=passive; graft gemm backend openblas)
//
// where ratio = graft/torch. To add a benchmark, see Benchmark.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/graftml/graft/tensor/gemm"
)

//go:embed torch_bench.py
var torchScript []byte

// Options are the command-line settings shared by every side.
type Options struct {
	Steps     int    `json:"steps,omitempty"` // 0: each benchmark's default
	Repeats   int    `json:"repeats"`
	Warmup    int    `json:"warmup"`
	Threads   int    `json:"threads"`
	Rounds    int    `json:"rounds"` // graft and torch alternate this many times
	GraftOnly bool   `json:"graft_only"`
	JSONFile  string `json:"-"`
}

// Machine describes where the figures were taken.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"` // of every Go child
	Gemm       string `json:"gemm_backend"`
	Go         string `json:"go"`
	Torch      string `json:"torch,omitempty"`             // version; empty when not run
	TorchError string `json:"torch_unavailable,omitempty"` // why torch was not run
}

// BenchReport holds one benchmark's figures; the JSON file holds one per
// benchmark run.
type BenchReport struct {
	Name      string           `json:"name"`
	Doc       string           `json:"doc"`
	Steps     int              `json:"steps"`
	Graft     *Side            `json:"graft,omitempty"`
	Torch     *Side            `json:"torch,omitempty"`      // the faster torch run
	TorchRuns []*Side          `json:"torch_runs,omitempty"` // both settings
	Ratio     float64          `json:"ratio,omitempty"`      // graft/torch
	Others    map[string]*Side `json:"others,omitempty"`     // e.g. "gorgonia"
	Errors    []string         `json:"errors,omitempty"`
}

// Report is what -json writes.
type Report struct {
	Machine    Machine        `json:"machine"`
	Options    Options        `json:"options"`
	Benchmarks []*BenchReport `json:"benchmarks"`
}

// torchSettings are the two environments the torch side runs in.
var torchSettings = []struct{ env, label string }{
	{"OMP_WAIT_POLICY=", "OMP_WAIT_POLICY unset"},
	{"OMP_WAIT_POLICY=passive", "OMP_WAIT_POLICY=passive"},
}

func main() {
	var opt Options
	worker := flag.String("worker", "", "internal: run one side (\"graft\") of -bench in this process")
	bench := flag.String("bench", "", "internal: the benchmark -worker runs")
	flag.IntVar(&opt.Steps, "steps", 0, "timed steps per repeat (0: each benchmark's default)")
	flag.IntVar(&opt.Repeats, "repeats", 5, "timed repeats per side; the median counts")
	flag.IntVar(&opt.Warmup, "warmup", 3, "untimed warm-up steps per side")
	flag.IntVar(&opt.Threads, "threads", 2, "threads per side (GOMAXPROCS of the Go sides, torch.set_num_threads)")
	flag.IntVar(&opt.Rounds, "rounds", 1, "rounds of graft then torch, alternating; the medians over rounds count (for a noisy machine)")
	flag.BoolVar(&opt.GraftOnly, "graft-only", false, "run graft's side only")
	flag.StringVar(&opt.JSONFile, "json", "", "also write the figures as JSON to `FILE`")
	flag.Usage = usage
	flag.Parse()

	if *worker != "" {
		if *worker != "graft" {
			fatal(fmt.Errorf("-worker %q: only \"graft\" runs in this binary", *worker))
		}
		if err := runWorker(*bench, max(opt.Steps, 1), max(opt.Repeats, 1), opt.Warmup); err != nil {
			fatal(err)
		}
		return
	}
	if opt.Steps < 0 || opt.Repeats < 1 || opt.Warmup < 0 || opt.Threads < 1 || opt.Rounds < 1 {
		fmt.Fprintln(os.Stderr, "compare: need -steps ≥ 0, -repeats ≥ 1, -warmup ≥ 0, -threads ≥ 1, -rounds ≥ 1")
		os.Exit(2)
	}
	var selected []Benchmark
	for _, name := range flag.Args() {
		b, ok := lookup(name)
		if !ok {
			fmt.Fprintf(os.Stderr, "compare: unknown benchmark %q (have %s)\n", name, strings.Join(names(), ", "))
			os.Exit(2)
		}
		selected = append(selected, b)
	}
	if len(selected) == 0 {
		selected = benchmarks
	}

	c, err := newComparer(opt)
	if err != nil {
		fatal(err)
	}
	ok := c.runAll(selected)
	os.RemoveAll(c.tmp)
	if opt.JSONFile != "" {
		data, err := json.MarshalIndent(c.report, "", "  ")
		if err == nil {
			err = os.WriteFile(opt.JSONFile, append(data, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "compare: writing -json:", err)
			ok = false
		}
	}
	if !ok {
		os.Exit(1)
	}
}

// comparer runs the selected benchmarks' sides and prints their lines.
type comparer struct {
	opt    Options
	self   string // this binary, re-run as the graft worker
	python string // interpreter for the torch side
	script string // torch_bench.py, written to tmp
	tmp    string
	built  map[string]string // Other.Dir → built program
	broken map[string]error  // Other.Dir → why it could not be built
	report Report
}

func newComparer(opt Options) (*comparer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this binary to re-run as the graft worker: %w", err)
	}
	tmp, err := os.MkdirTemp("", "graft-compare-")
	if err != nil {
		return nil, err
	}
	c := &comparer{
		opt: opt, self: self, python: python(), tmp: tmp,
		built: map[string]string{}, broken: map[string]error{},
	}
	c.report = Report{Options: opt, Machine: Machine{
		CPU: cpuModel(), Cores: runtime.NumCPU(), GOMAXPROCS: opt.Threads,
		Gemm: gemm.Current().Name(), Go: runtime.Version(),
	}}
	if !opt.GraftOnly {
		c.script = filepath.Join(tmp, "torch_bench.py")
		if err := os.WriteFile(c.script, torchScript, 0o644); err != nil {
			os.RemoveAll(tmp)
			return nil, err
		}
		version, err := c.torchVersion()
		if err != nil {
			c.report.Machine.TorchError = err.Error()
		}
		c.report.Machine.Torch = version
	}
	return c, nil
}

// runAll runs the benchmarks in turn, printing their lines as they finish;
// it reports whether all went without a real error.
func (c *comparer) runAll(bs []Benchmark) bool {
	m := c.report.Machine
	torch := "torch " + m.Torch
	switch {
	case c.opt.GraftOnly:
		torch = "torch not run (-graft-only)"
	case m.TorchError != "":
		torch = "torch unavailable"
	}
	fmt.Printf("machine: %s, %d cores, GOMAXPROCS %d, gemm backend %s, %s, %s\n",
		m.CPU, m.Cores, m.GOMAXPROCS, m.Gemm, m.Go, torch)
	if m.TorchError != "" {
		fmt.Printf("torch unavailable, printing graft's figures alone: %s\n", m.TorchError)
	}
	ok := true
	for _, b := range bs {
		r := c.run(b)
		c.report.Benchmarks = append(c.report.Benchmarks, r)
		ok = ok && len(r.Errors) == 0
	}
	return ok
}

// torchWanted reports whether b's torch side should run.
func (c *comparer) torchWanted(b Benchmark) bool {
	return b.Torch != "" && !c.opt.GraftOnly && c.report.Machine.TorchError == ""
}

// run runs one benchmark's sides and prints its lines.
func (c *comparer) run(b Benchmark) *BenchReport {
	if b.Run != nil {
		return b.Run(c)
	}
	steps := c.opt.Steps
	if steps == 0 {
		steps = b.Steps
	}
	r := &BenchReport{Name: b.Name, Doc: b.Doc, Steps: steps}
	fail := func(side string, err error) {
		r.Errors = append(r.Errors, side+": "+err.Error())
		fmt.Printf("bench %s: %s failed: %v\n", b.Name, side, err)
	}
	loop := []string{"-steps", strconv.Itoa(steps), "-repeats", strconv.Itoa(c.opt.Repeats), "-warmup", strconv.Itoa(c.opt.Warmup)}
	goEnv := []string{"GOMAXPROCS=" + strconv.Itoa(c.opt.Threads)}

	// Rounds alternate the sides, so that a machine whose speed drifts
	// slows both alike; each side's figure is its median over rounds.
	var graftRounds, torchRounds []*Side
	var roundRatios []float64 // graft/torch within each round
	for round := 1; round <= c.opt.Rounds; round++ {
		graft, err := runChild(goEnv, c.self, append([]string{"-worker", "graft", "-bench", b.Name}, loop...)...)
		if err != nil {
			fail("graft", err)
			break
		}
		graftRounds = append(graftRounds, graft)
		if !c.torchWanted(b) {
			continue
		}
		torch, runs, _ := c.runTorch(b.Torch, steps, fail)
		if torch == nil {
			break
		}
		torchRounds, r.TorchRuns = append(torchRounds, torch), append(r.TorchRuns, runs...)
		roundRatios = append(roundRatios, graft.MedianMS/torch.MedianMS)
		if c.opt.Rounds > 1 {
			fmt.Printf("bench %s round %d: graft %.2f ms/step, torch %.2f ms/step, ratio %.2f\n", b.Name, round, graft.MedianMS, torch.MedianMS, graft.MedianMS/torch.MedianMS)
		}
	}
	graft := medianSide(graftRounds)
	r.Graft, r.Torch = graft, medianSide(torchRounds)
	var winner string
	if r.Torch != nil {
		winner = r.Torch.Env
	}

	if graft != nil {
		line := fmt.Sprintf("bench %s: graft %.2f ms/step", b.Name, graft.MedianMS)
		rss := fmt.Sprintf("bench %s: peak RSS graft %.0f MB", b.Name, graft.PeakRSSMB)
		note := "graft gemm backend " + graft.Backend
		if r.Torch != nil {
			r.Ratio = graft.MedianMS / r.Torch.MedianMS
			line += fmt.Sprintf(", torch %.2f ms/step, ratio %.2f", r.Torch.MedianMS, r.Ratio)
			if len(roundRatios) > 1 {
				line += fmt.Sprintf(" (median of the %d rounds' ratios %.2f)", len(roundRatios), median(roundRatios))
			}
			rss += fmt.Sprintf(", torch %.0f MB", r.Torch.PeakRSSMB)
			note = "torch best with " + winner + "; " + note
		}
		fmt.Println(line)
		fmt.Printf("%s (%s)\n", rss, note)
	}

	for _, o := range b.Others {
		if c.opt.GraftOnly {
			continue
		}
		prog, err := c.build(o)
		if err != nil {
			fmt.Printf("bench %s: %s skipped: %v\n", b.Name, o.Label, err)
			continue
		}
		side, err := runChild(goEnv, prog, append([]string{"-bench", b.Name}, loop...)...)
		if err != nil {
			fmt.Printf("bench %s: %s failed, skipped: %v\n", b.Name, o.Label, err)
			continue
		}
		if r.Others == nil {
			r.Others = map[string]*Side{}
		}
		r.Others[o.Label] = side
		line := fmt.Sprintf("bench %s: %s %.2f ms/step", b.Name, o.Label, side.MedianMS)
		if r.Torch != nil {
			line += fmt.Sprintf(", torch %.2f ms/step, ratio %.2f", r.Torch.MedianMS, side.MedianMS/r.Torch.MedianMS)
		}
		fmt.Println(line)
		fmt.Printf("bench %s: peak RSS %s %.0f MB\n", b.Name, o.Label, side.PeakRSSMB)
	}
	return r
}

// runTorch runs torch_bench.py's benchmark name in both torchSettings and
// returns the faster side, both sides and the faster's setting; fail
// records a side that failed.
func (c *comparer) runTorch(name string, steps int, fail func(side string, err error)) (best *Side, runs []*Side, winner string) {
	for _, s := range torchSettings {
		side, err := runChild([]string{s.env}, c.python, c.script, name,
			strconv.Itoa(steps), strconv.Itoa(c.opt.Repeats), strconv.Itoa(c.opt.Warmup), strconv.Itoa(c.opt.Threads))
		if err != nil {
			fail("torch ("+s.label+")", err)
			continue
		}
		side.Env = s.label
		runs = append(runs, side)
		if best == nil || side.MedianMS < best.MedianMS {
			best, winner = side, s.label
		}
	}
	return best, runs, winner
}

// build compiles o's module once per run, so that build time is not timed.
func (c *comparer) build(o Other) (string, error) {
	if p, ok := c.built[o.Dir]; ok {
		return p, nil
	}
	if err, ok := c.broken[o.Dir]; ok {
		return "", err
	}
	prog, err := c.buildModule(o)
	if err != nil {
		c.broken[o.Dir] = err
		return "", err
	}
	c.built[o.Dir] = prog
	return prog, nil
}

func (c *comparer) buildModule(o Other) (string, error) {
	root, err := graftRoot()
	if err != nil {
		return "", fmt.Errorf("cannot build %s: %w", o.Dir, err)
	}
	dir := filepath.Join(root, filepath.FromSlash(o.Dir))
	prog := filepath.Join(c.tmp, o.Label)
	cmd := exec.Command("go", "build", "-o", prog, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cannot build %s: %v%s", dir, err, tail(string(out), 20))
	}
	return prog, nil
}

// graftRoot returns the root of graft's repository: the nearest directory at
// or above the working directory whose go.mod declares graft's module.
func graftRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/graftml/graft\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside graft's repository (run from inside it)")
		}
		dir = parent
	}
}

// torchVersion checks that the interpreter imports torch and returns its version.
func (c *comparer) torchVersion() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, c.python, c.script, "--version").CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%v%s", err, tail(string(out), 3))
		}
		return "", fmt.Errorf("%s cannot import torch (install python3-torch, or set GRAFT_PYTHON): %v", c.python, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// python returns the interpreter for the torch side: $GRAFT_PYTHON, else
// Debian's /usr/bin/python3, which sees python3-torch (as internal/testenv).
func python() string {
	if p := os.Getenv("GRAFT_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

// cpuModel returns the CPU's model name from /proc/cpuinfo, or GOARCH.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for line := range strings.Lines(string(data)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

func names() []string {
	var ns []string
	for _, b := range benchmarks {
		ns = append(ns, b.Name)
	}
	return ns
}

// usage prints the flags without the internal -worker and -bench.
func usage() {
	out := flag.CommandLine.Output()
	fmt.Fprintf(out, "usage: go run [-tags openblas] ./bench/compare [flags] [NAME...]\n\nbenchmarks:\n")
	for _, b := range benchmarks {
		fmt.Fprintf(out, "  %-12s %s\n", b.Name, b.Doc)
	}
	fmt.Fprintf(out, "\nflags:\n")
	public := flag.NewFlagSet("", flag.ContinueOnError)
	public.SetOutput(out)
	flag.VisitAll(func(f *flag.Flag) {
		if f.Name != "worker" && f.Name != "bench" {
			public.Var(f.Value, f.Name, f.Usage)
		}
	})
	public.PrintDefaults()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "compare:", err)
	os.Exit(1)
}
