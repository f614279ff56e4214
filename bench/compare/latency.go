package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/graftml/graft/install"
)

// The latency benchmark measures graft's kernel the way a frontend sees it:
// both kernels are started through jupyter_client and driven over ZeroMQ by
// the same Python client (latency_bench.py), so its overhead is the same for
// both. Per kernel it reports the time from start_kernel() to the first
// kernel_info_reply (median of latencyStarts starts) and the round trip of a
// trivial cell — execute_request sent until both the execute_reply and the
// idle status are back — as median and 99th percentile over latencyCells
// cells.

//go:embed latency_bench.py
var latencyScript []byte

const (
	latencyCells  = 500
	latencyStarts = 3
	// latencyCode is the trivial cell, valid in Go and in Python: both
	// kernels answer it with an execute_result.
	latencyCode = "1"
)

// latencySide is one kernel's figures.
type latencySide struct {
	StartMS []float64 `json:"start_ms"`
	RTMS    []float64 `json:"roundtrip_ms"`
}

func (s latencySide) start() float64 { return median(s.StartMS) }
func (s latencySide) p50() float64   { return median(s.RTMS) }
func (s latencySide) p99() float64   { return percentile(s.RTMS, 99) }

// percentile returns the p-th percentile of xs by the nearest-rank method.
func percentile(xs []float64, p float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(k, 0)]
}

// runLatency is the latency benchmark's Run.
func runLatency(c *comparer) *BenchReport {
	r := &BenchReport{Name: "latency", Doc: latencyDoc, Steps: latencyCells}
	fail := func(side string, err error) {
		r.Errors = append(r.Errors, side+": "+err.Error())
		fmt.Printf("bench latency: %s failed: %v\n", side, err)
	}
	env, err := c.latencySetup()
	if err != nil {
		fail("setup", err)
		return r
	}
	sides := []struct{ label, kernel string }{{"graft", "graft-bench"}, {"ipykernel", "ipykernel-bench"}}
	if c.opt.GraftOnly {
		sides = sides[:1]
	}
	results := map[string]*latencySide{}
	for _, s := range sides {
		res, err := c.latencyRun(env, s.kernel)
		if err != nil {
			fail(s.label, err)
			continue
		}
		results[s.label] = res
		side := &Side{MedianMS: res.p50(), Env: fmt.Sprintf("start %.0f ms, roundtrip p99 %.2f ms", res.start(), res.p99())}
		if s.label == "graft" {
			r.Graft = side
		} else {
			if r.Others == nil {
				r.Others = map[string]*Side{}
			}
			r.Others[s.label] = side
		}
		fmt.Printf("latency %s: start %.0f ms, roundtrip p50 %.2f ms p99 %.1f ms\n", s.label, res.start(), res.p50(), res.p99())
	}
	g, ipk := results["graft"], results["ipykernel"]
	if g != nil && ipk != nil {
		r.Ratio = g.p50() / ipk.p50()
		fmt.Printf("bench latency: graft %.2f ms, ipykernel %.2f ms, ratio %.2f\n", g.p50(), ipk.p50(), r.Ratio)
	}
	return r
}

const latencyDoc = "kernel start to kernel_info_reply, and round trip of a trivial cell, graft vs ipykernel through jupyter_client"

// latencySetup builds graft, writes the two kernelspecs and the driver into
// the run's temporary directory and returns the environment the driver runs
// in: its own Jupyter path, data, runtime and IPython directories, so that
// neither kernel reads or writes the user's.
func (c *comparer) latencySetup() ([]string, error) {
	dir := filepath.Join(c.tmp, "latency")
	if out, err := exec.Command(c.python, "-c", "import jupyter_client, ipykernel, zmq").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s cannot import jupyter_client, ipykernel and zmq (install python3-jupyter-client and python3-ipykernel, or set GRAFT_PYTHON): %v%s",
			c.python, err, tail(string(out), 3))
	}
	root, err := graftRoot()
	if err != nil {
		return nil, fmt.Errorf("cannot build graft: %w", err)
	}
	bin := filepath.Join(dir, "graft")
	build := exec.Command("go", "build", "-o", bin, "./cmd/graft")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building ./cmd/graft: %v%s", err, tail(string(out), 20))
	}
	specs := map[string][]string{
		"graft-bench":     {bin, "kernel", "-f", "{connection_file}"},
		"ipykernel-bench": {c.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"},
	}
	for name, argv := range specs {
		spec := install.Spec{Argv: argv, DisplayName: name, Language: "any"}
		if err := install.Write(install.KernelDir(filepath.Join(dir, "jupyter"), name), spec); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "latency_bench.py"), latencyScript, 0o644); err != nil {
		return nil, err
	}
	return []string{
		"JUPYTER_PATH=" + filepath.Join(dir, "jupyter"),
		"JUPYTER_DATA_DIR=" + filepath.Join(dir, "data"),
		"JUPYTER_RUNTIME_DIR=" + filepath.Join(dir, "runtime"),
		"IPYTHONDIR=" + filepath.Join(dir, "ipython"),
		"GOMAXPROCS=" + strconv.Itoa(c.opt.Threads),
		// Debian's ipykernel starts debugpy, which warns on stderr about
		// frozen modules; the warning is noise here.
		"PYDEVD_DISABLE_FILE_VALIDATION=1",
	}, nil
}

// latencyRun runs the driver for one kernelspec.
func (c *comparer) latencyRun(env []string, kernel string) (*latencySide, error) {
	dir := filepath.Join(c.tmp, "latency")
	cmd := exec.Command(c.python, filepath.Join(dir, "latency_bench.py"), kernel, latencyCode,
		strconv.Itoa(latencyCells), strconv.Itoa(latencyStarts))
	cmd.Env = withEnv(os.Environ(), env)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v%s", err, tail(stderr.String(), 20))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res latencySide
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return nil, fmt.Errorf("reading the driver's result %q: %v%s", lines[len(lines)-1], err, tail(stderr.String(), 20))
	}
	if len(res.StartMS) == 0 || len(res.RTMS) == 0 {
		return nil, fmt.Errorf("the driver reported no measurements")
	}
	return &res, nil
}
