package viz

import (
	"fmt"

	"math"
	"slices"

	"github.com/graftml/graft/display"
)

// TrainingHistory is what a record of training offers for plotting:
// per-step series, evaluations and per-epoch means. *train.History and
// *Tracker implement it.
type TrainingHistory interface {
	// Steps returns the step numbers Series values belong to.
	Steps() []int
	// Series returns one value per step of a train metric ("loss" …).
	Series(name string) []float64
	// Names returns the names Series accepts.
	Names() []string
	// EvalSteps returns the steps after which evaluations ran.
	EvalSteps() []int
	// EvalSeries returns one value per evaluation of a metric.
	EvalSeries(name string) []float64
	// EvalNames returns the names EvalSeries accepts.
	EvalNames() []string
	// EpochNumbers returns the numbers of the completed epochs.
	EpochNumbers() []int
	// EpochSeries returns one per-epoch mean per completed epoch of a train
	// metric, or of an evaluation metric named with the prefix "eval_".
	EpochSeries(name string) []float64
}

// HistoryOptions are the settings of History.
type HistoryOptions struct {
	// Options apply to the whole figure: Width and Height are shared among
	// the panels; LogY puts every panel on a log scale.
	Options
	// Metrics names the panels, one metric each, drawn as train and
	// evaluation curves. Default: "loss" if recorded, then every other step
	// metric (except "lr" and "grad_norm") and every other evaluation
	// metric, at most six.
	Metrics []string
	// PerEpoch plots per-epoch means against epochs instead of every step.
	PerEpoch bool
	// Smooth is the EMA weight for per-step train curves, drawn over the
	// faint raw values; 0 picks one from the number of steps (a window of
	// about a fiftieth of the run), a negative value turns smoothing off.
	Smooth float64
	// Cols is the number of panels per row (0: up to 3).
	Cols int
}

// maxPanels bounds the default number of panels of History.
const maxPanels = 6

// History draws a training history: per metric a panel with the train
// curve (smoothed per-step values, or per-epoch means) and the evaluation
// curve, sharing the step or epoch axis.
func History(h TrainingHistory, opt HistoryOptions) (*Figure, error) {
	if h == nil {
		return nil, fmt.Errorf("viz.History: history is nil")
	}
	if opt.Smooth >= 1 {
		return nil, fmt.Errorf("viz.History: Smooth is %g, want a weight below 1", opt.Smooth)
	}
	metrics := opt.Metrics
	if len(metrics) == 0 {
		metrics = defaultMetrics(h)
	}
	xlabel := "step"
	if opt.PerEpoch {
		xlabel = "epoch"
	}
	cols := opt.Cols
	if cols <= 0 {
		cols = min(len(metrics), 3)
	}
	cols = min(cols, len(metrics))
	rows := (len(metrics) + cols - 1) / cols
	width, height := opt.Width, opt.Height
	if width <= 0 {
		width = []float64{DefaultWidth, 9.2, 9.6}[min(cols, 3)-1]
	}
	if height <= 0 {
		height = DefaultHeight
		if len(metrics) > 1 {
			height = 3.2 * float64(rows)
		}
	}
	var panels []*Figure
	for _, m := range metrics {
		series := historySeries(h, m, opt)
		popt := opt.Options
		popt.Width, popt.Height = width/float64(cols), height/float64(rows)
		popt.XLabel = firstNonEmpty(opt.XLabel, xlabel)
		popt.YLabel = firstNonEmpty(opt.YLabel, m)
		popt.Title = m
		if len(metrics) == 1 {
			popt.Title = firstNonEmpty(opt.Title, m)
		}
		f, err := Lines(series, LineOptions{Options: popt})
		if err != nil {
			return nil, fmt.Errorf("viz.History: metric %q: %w", m, err)
		}
		f.desc = "training history"
		panels = append(panels, f)
	}
	if len(panels) == 1 {
		return panels[0], nil
	}
	g, err := Grid(cols, panels...)
	if err != nil {
		return nil, err
	}
	g.desc = fmt.Sprintf("training history of %d metrics", len(panels))
	g.opt.Title = opt.Title
	return g, nil
}

// HistoryBundle is the display bundle of a training history: its History
// figure drawn with opt, with text as the text/plain form. A history with
// no steps shows the text alone, as does one whose figure fails (with the
// error appended).
func HistoryBundle(h TrainingHistory, opt HistoryOptions, text string) display.Bundle {
	if len(h.Steps()) == 0 && len(h.EvalSteps()) == 0 {
		return display.NewBundle(text)
	}
	f, err := History(h, opt)
	return FigureBundle(text, f, err)
}

// defaultMetrics is "loss" followed by the other step and evaluation
// metrics worth a panel.
func defaultMetrics(h TrainingHistory) []string {
	var out []string
	names := append(h.Names(), h.EvalNames()...)
	if slices.Contains(names, "loss") {
		out = append(out, "loss")
	}
	for _, n := range names {
		if n != "lr" && n != "grad_norm" && !slices.Contains(out, n) && len(out) < maxPanels {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = []string{"loss"} // an empty history: one panel marked "no data"
	}
	return out
}

// historySeries returns the train and evaluation curves of one metric.
func historySeries(h TrainingHistory, metric string, opt HistoryOptions) []Series {
	var out []Series
	if opt.PerEpoch {
		epochs := floats(h.EpochNumbers())
		if ys := h.EpochSeries(metric); anyFinite(ys) {
			out = append(out, Series{Name: "train", X: epochs, Y: ys, Points: true, Colour: 1})
		}
		if ys := h.EpochSeries("eval_" + metric); anyFinite(ys) {
			// Epochs without an evaluation at their end have none to
			// show: left out, not counted as skipped values.
			xs, ys := presentOnly(epochs, ys)
			out = append(out, Series{Name: "eval", X: xs, Y: ys, Points: true, Dashed: true, Colour: 2})
		}
		return out
	}
	steps := h.Steps()
	if ys := h.Series(metric); anyFinite(ys) {
		smooth := opt.Smooth
		if smooth == 0 {
			smooth = autoSmooth(len(ys))
		}
		out = append(out, Series{Name: "train", X: floats(steps), Y: ys, Smooth: smooth, Colour: 1})
	}
	if ys := h.EvalSeries(metric); anyFinite(ys) {
		out = append(out, Series{Name: "eval", X: floats(h.EvalSteps()), Y: ys, Points: true, Dashed: true, Smooth: -1, Colour: 2})
	}
	return out
}

// presentOnly keeps the points whose value is not NaN.
func presentOnly(xs, ys []float64) ([]float64, []float64) {
	var ox, oy []float64
	for i, y := range ys {
		if !math.IsNaN(y) {
			ox, oy = append(ox, xs[i]), append(oy, y)
		}
	}
	return ox, oy
}

// autoSmooth is an EMA weight averaging over about a fiftieth of n values;
// short runs are not smoothed (-1).
func autoSmooth(n int) float64 {
	window := float64(n) / 50
	if window < 2 {
		return -1
	}
	return math.Min(1-1/window, 0.98)
}

func anyFinite(vs []float64) bool {
	for _, v := range vs {
		if finite(v) {
			return true
		}
	}
	return false
}

func floats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}
