package viz

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/internal/displaytest"
)

func TestTrackerRecordsAlignedSeries(t *testing.T) {
	withFrontend(t, nil)
	tr := NewTracker(TrackerOptions{Total: 4, NoProgress: true})
	tr.Log(1, map[string]float64{"loss": 2})
	tr.Log(2, map[string]float64{"loss": 1.5, "domain_acc": 0.5})
	tr.Log(2, map[string]float64{"class_acc": 0.7}) // same step: merged
	tr.LogEval(2, map[string]float64{"accuracy": 0.6})
	tr.Log(4, map[string]float64{"loss": 1})
	if err := tr.Log(3, map[string]float64{"loss": 9}); err == nil || err.Error() != "viz.Tracker: step 3 logged after step 4" {
		t.Errorf("error %v", err)
	}
	if got := tr.Steps(); !slices.Equal(got, []int{1, 2, 4}) {
		t.Errorf("steps %v", got)
	}
	same := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) })
	}
	nan := math.NaN()
	for name, want := range map[string][]float64{"loss": {2, 1.5, 1}, "domain_acc": {nan, 0.5, nan}, "class_acc": {nan, 0.7, nan}, "missing": {nan, nan, nan}} {
		if got := tr.Series(name); !same(got, want) {
			t.Errorf("Series(%q) = %v, want %v", name, got, want)
		}
	}
	if got := tr.Names(); !slices.Equal(got, []string{"loss", "domain_acc", "class_acc"}) {
		t.Errorf("names %v", got)
	}
	if got := tr.EvalSeries("accuracy"); !same(got, []float64{0.6}) || !slices.Equal(tr.EvalSteps(), []int{2}) {
		t.Errorf("eval %v at %v", got, tr.EvalSteps())
	}
	if got := tr.String(); got != "tracker: 3 steps  class_acc 0.7  domain_acc 0.5  eval_accuracy 0.6  loss 1" {
		t.Errorf("String %q", got)
	}
	tr.Done()
	b := tr.Display()
	if _, ok := b.Data[display.MIMEPNG]; !ok || b.Text() != tr.String() {
		t.Errorf("Display: text %q, PNG present %v", b.Text(), ok)
	}
}

func TestTrackerLiveInAKernel(t *testing.T) {
	rec := displaytest.Install(t)
	tr := NewTracker(TrackerOptions{Total: 50, Description: "dann"})
	for s := 1; s <= 50; s++ {
		tr.Log(s, map[string]float64{"loss": 1 / float64(s)})
	}
	tr.Done()
	// The bar and the figure: two display ids, the last publish of each
	// the final state.
	ids := map[string]display.Bundle{}
	bundles, published, _ := rec.Outputs()
	for i, id := range published {
		ids[id] = bundles[i]
	}
	if len(ids) != 2 {
		t.Fatalf("%d display ids, want 2", len(ids))
	}
	var sawBar, sawFigure bool
	for _, b := range ids {
		if html, ok := b.Data[display.MIMEHTML].(string); ok {
			sawBar = strings.Contains(html, "dann") && strings.Contains(b.Text(), "50/50")
		}
		if png, ok := b.Data[display.MIMEPNG].([]byte); ok {
			sawFigure = bytes.HasPrefix(png, []byte("\x89PNG")) && b.Data[display.MIMESVG] != nil
		}
	}
	if !sawBar || !sawFigure {
		t.Errorf("final bar seen %v, final figure seen %v", sawBar, sawFigure)
	}
	// The panels are the metrics logged: no "loss" panel without a loss.
	tr2 := NewTracker(TrackerOptions{NoProgress: true, NoFigure: true})
	tr2.Log(1, map[string]float64{"entropy": 0.5})
	if f, _ := History(tr2, HistoryOptions{}); f.tiles != nil || f.opt.Title != "entropy" {
		t.Errorf("panels of an entropy-only tracker: grid %v, title %q", f.tiles != nil, f.opt.Title)
	}
	if tr.Redraws() < 1 {
		t.Error("the figure was never drawn")
	}
}
