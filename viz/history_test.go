package viz

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/internal/displaytest"
)

// fakeHistory is a TrainingHistory held in plain maps.
type fakeHistory struct {
	steps      []int
	series     map[string][]float64
	evalSteps  []int
	evals      map[string][]float64
	epochs     []int
	epochMeans map[string][]float64
}

func (h *fakeHistory) Steps() []int                 { return h.steps }
func (h *fakeHistory) Series(name string) []float64 { return orNaN(h.series[name], len(h.steps)) }
func (h *fakeHistory) Names() []string              { return keys(h.series) }
func (h *fakeHistory) EvalSteps() []int             { return h.evalSteps }
func (h *fakeHistory) EvalSeries(name string) []float64 {
	return orNaN(h.evals[name], len(h.evalSteps))
}
func (h *fakeHistory) EvalNames() []string { return keys(h.evals) }
func (h *fakeHistory) EpochNumbers() []int { return h.epochs }
func (h *fakeHistory) EpochSeries(name string) []float64 {
	return orNaN(h.epochMeans[name], len(h.epochs))
}

func orNaN(v []float64, n int) []float64 {
	if v != nil {
		return v
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

func keys(m map[string][]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// newFakeHistory makes a run of n steps whose loss decays at the given
// rate, evaluated every 10 steps, in epochs of 20 steps.
func newFakeHistory(n int, rate, offset float64) *fakeHistory {
	h := &fakeHistory{series: map[string][]float64{}, evals: map[string][]float64{}, epochMeans: map[string][]float64{}}
	for s := 1; s <= n; s++ {
		h.steps = append(h.steps, s)
		h.series["loss"] = append(h.series["loss"], offset+math.Exp(-rate*float64(s))+0.05*math.Sin(float64(s)))
		h.series["lr"] = append(h.series["lr"], 0.01)
		if s%10 == 0 {
			h.evalSteps = append(h.evalSteps, s)
			h.evals["loss"] = append(h.evals["loss"], offset+1.1*math.Exp(-rate*float64(s)))
			h.evals["accuracy"] = append(h.evals["accuracy"], 1-math.Exp(-rate*float64(s)))
		}
		if s%20 == 0 {
			h.epochs = append(h.epochs, s/20)
			h.epochMeans["loss"] = append(h.epochMeans["loss"], offset+math.Exp(-rate*float64(s)))
			h.epochMeans["eval_loss"] = append(h.epochMeans["eval_loss"], offset+1.1*math.Exp(-rate*float64(s)))
		}
	}
	return h
}

func TestHistoryDrawsAPanelPerMetric(t *testing.T) {
	h := newFakeHistory(300, 0.02, 0.1)
	f, err := History(h, HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Default panels: loss (train + eval) and accuracy (eval only); lr is
	// left out.
	if len(f.tiles) != 2 || f.tiles[0].opt.Title != "loss" || f.tiles[1].opt.Title != "accuracy" {
		t.Fatalf("panels %v", titles(f))
	}
	if f.tiles[0].Marks() != 2 || f.tiles[1].Marks() != 1 {
		t.Errorf("series per panel %d, %d; want 2 (train, eval) and 1 (eval)", f.tiles[0].Marks(), f.tiles[1].Marks())
	}
	if w, h := f.Size(); w != int(math.Round(9.2*96)) || h != int(math.Round(3.2*96)) {
		t.Errorf("size %dx%d, want 883x307", w, h)
	}
	requireNotBlank(t, f, 20)
	saveArtifact(t, f, "history")
	_, svg := svgElements(t, f)
	texts := strings.Join(svgTexts(t, svg), "|")
	for _, want := range []string{"loss", "accuracy", "train", "eval", "step"} {
		if !strings.Contains(texts, want) {
			t.Errorf("SVG texts lack %q", want)
		}
	}

	one, err := History(h, HistoryOptions{Metrics: []string{"loss"}, PerEpoch: true, Options: Options{LogY: true, Title: "per epoch"}})
	if err != nil {
		t.Fatal(err)
	}
	if one.tiles != nil || one.opt.Title != "per epoch" || one.plot.X.Label.Text != "epoch" {
		t.Errorf("one metric per epoch: tiles %v title %q x %q", one.tiles != nil, one.opt.Title, one.plot.X.Label.Text)
	}
	requireNotBlank(t, one, 10)

	// An epoch without an evaluation is absent, not a skipped value.
	sparse := newFakeHistory(60, 0.02, 0.1)
	sparse.epochMeans["eval_loss"][1] = math.NaN()
	f, err = History(sparse, HistoryOptions{Metrics: []string{"loss"}, PerEpoch: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Notes()) != 0 || f.Marks() != 2 {
		t.Errorf("sparse per-epoch evaluations: notes %q, %d series", f.Notes(), f.Marks())
	}
}

func titles(f *Figure) []string {
	var out []string
	for _, t := range f.tiles {
		out = append(out, t.opt.Title)
	}
	return out
}

func TestAutoSmooth(t *testing.T) {
	for _, c := range []struct {
		n    int
		want float64
	}{{50, -1}, {99, -1}, {100, 0.5}, {1000, 0.95}, {1e6, 0.98}} {
		if got := autoSmooth(c.n); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("autoSmooth(%d) = %g, want %g", c.n, got, c.want)
		}
	}
}

func TestCompareRunsMeanAndBand(t *testing.T) {
	mk := func(vals ...float64) *fakeHistory {
		h := &fakeHistory{series: map[string][]float64{}, evals: map[string][]float64{}}
		for i, v := range vals {
			h.evalSteps = append(h.evalSteps, 10*(i+1))
			h.evals["accuracy"] = append(h.evals["accuracy"], v)
		}
		return h
	}
	runs := []Run{
		{Method: "LoRA", Seed: 1, History: mk(0.5, 0.7, 0.9)},
		{Method: "LoRA", Seed: 2, History: mk(0.6, 0.8, 1.0)},
		{Method: "full", Seed: 1, History: mk(0.4, 0.6)},
		{Method: "full", Seed: 2, History: mk(0.5, math.NaN(), 0.8)},
	}
	curves := []curve{}
	for _, r := range runs[:2] {
		c, _ := runCurve(r.History, "accuracy", CompareOptions{})
		curves = append(curves, c)
	}
	xs, mean, std, dropped := meanCurve(curves)
	if !slices.Equal(xs, []float64{10, 20, 30}) || dropped != 0 {
		t.Fatalf("xs %v dropped %d", xs, dropped)
	}
	for i, want := range []float64{0.55, 0.75, 0.95} {
		if math.Abs(mean[i]-want) > 1e-12 || math.Abs(std[i]-math.Sqrt(0.005)) > 1e-12 {
			t.Errorf("x=%g: mean %g std %g, want %g and %g", xs[i], mean[i], std[i], want, math.Sqrt(0.005))
		}
	}
	f, err := CompareRuns(runs, CompareOptions{Metric: "accuracy", ShowRuns: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.Marks() != 2 {
		t.Errorf("marks %d, want one per method", f.Marks())
	}
	want := "full: runs differ in length; mean over the 2 steps all 2 runs reached"
	if notes := f.Notes(); len(notes) != 1 || notes[0] != want {
		t.Errorf("notes %q, want %q", notes, want)
	}
	requireNotBlank(t, f, 20)
	saveArtifact(t, f, "compare")
	_, svg := svgElements(t, f)
	texts := strings.Join(svgTexts(t, svg), "|")
	if !strings.Contains(texts, "LoRA (n=2)") || !strings.Contains(texts, "full (n=2)") {
		t.Errorf("legend texts %q", texts)
	}
	if _, err := CompareRuns(nil, CompareOptions{}); err == nil {
		t.Error("no runs: no error")
	}
	if _, err := CompareRuns([]Run{{Method: "x", Seed: 3}}, CompareOptions{}); err == nil || err.Error() != `viz.CompareRuns: run 0 ("x", seed 3) has no history` {
		t.Errorf("error %v", err)
	}
}

// withFrontend installs f as the frontend for the test.
func withFrontend(t *testing.T, f display.Frontend) {
	prev := display.SetFrontend(f)
	t.Cleanup(func() { display.SetFrontend(prev) })
}

func TestLiveRespectsTheRedrawBoundAndKeepsOneID(t *testing.T) {
	rec := displaytest.Install(t)
	clock := time.Unix(0, 0)
	l := NewLive()
	l.now = func() time.Time { return clock }
	var ys []float64
	// 10,000 steps over 2 simulated seconds: 0.2 ms a step.
	for step := 1; step <= 10000; step++ {
		ys = append(ys, 1/float64(step))
		clock = clock.Add(200 * time.Microsecond)
		if l.Due() {
			l.Show(Lines([]Series{{Name: "loss", Y: ys}}, LineOptions{Options: Options{Width: 2, Height: 1.5}}))
			l.wg.Wait() // let the redraw finish before the next simulated step
		}
	}
	l.Close(Lines([]Series{{Name: "loss", Y: ys}}, LineOptions{Options: Options{Width: 2, Height: 1.5}}))
	bundles, ids, updates := rec.Outputs()
	n := len(bundles)
	// 2 s at one redraw per 400 ms: redraws at 0.2 ms, 400.2, …, 1600.2,
	// 2000 ms is past the loop: 5, plus the final one.
	if n != 6 || l.Redraws() != 6 {
		t.Fatalf("%d outputs published (%d redraws), want 5 live ones and the final one", n, l.Redraws())
	}
	for i := range ids {
		if ids[i] != ids[0] || updates[i] != (i > 0) {
			t.Errorf("publish %d: id %q update %v; want one id %q, first a new output then updates", i, ids[i], updates[i], ids[0])
		}
	}
	if ids[0] != l.ID() {
		t.Errorf("ID %q, published %q", l.ID(), ids[0])
	}
	if _, ok := bundles[2].Data[display.MIMESVG]; ok {
		t.Error("a live frame carries SVG; only the final one should")
	}
	if _, ok := bundles[n-1].Data[display.MIMESVG]; !ok {
		t.Error("the final frame lacks SVG")
	}
	l.Show(Lines([]Series{{Y: ys}}, LineOptions{}))
	if b, _, _ := rec.Outputs(); len(b) != n {
		t.Error("Show after Close published")
	}
}

func TestLiveWaitsLongerAfterASlowRedraw(t *testing.T) {
	displaytest.Install(t)
	clock := time.Unix(0, 0)
	l := NewLive()
	l.Budget = 0.05
	l.now = func() time.Time {
		// Every reading of the clock advances it by 100 ms: the render
		// seems to take 100 ms.
		clock = clock.Add(100 * time.Millisecond)
		return clock
	}
	f, _ := Lines([]Series{{Y: []float64{1, 2}}}, LineOptions{})
	l.Show(f, nil)
	l.wg.Wait()
	// The redraw started at 200 ms (Due read 100, start read 200) and
	// took 100 ms: the next may start 100/0.05 = 2 s after its start.
	if want := time.Unix(0, 0).Add(2200 * time.Millisecond); !l.next.Equal(want) {
		t.Errorf("next redraw at %v, want %v", l.next.Sub(time.Unix(0, 0)), want.Sub(time.Unix(0, 0)))
	}
}

func TestLiveOutsideAKernelDoesNothing(t *testing.T) {
	withFrontend(t, nil)
	l := NewLive()
	if l.Due() {
		t.Error("Due outside a kernel")
	}
	l.Show(Lines([]Series{{Y: []float64{1}}}, LineOptions{}))
	l.Close(Lines([]Series{{Y: []float64{1}}}, LineOptions{}))
	if l.Redraws() != 0 {
		t.Errorf("%d redraws outside a kernel", l.Redraws())
	}
}
