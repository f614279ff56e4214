package viz

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/viz/progress"
)

// TrackerOptions are the settings of a Tracker.
type TrackerOptions struct {
	// Total is the number of steps the loop will run (0: unknown, the
	// progress bar then shows a count and a rate but no ETA).
	Total int
	// Description labels the progress bar ("training" when empty).
	Description string
	// Figure is how the live figure is drawn (panels, smoothing, size).
	Figure HistoryOptions
	// NoFigure shows only the progress bar.
	NoFigure bool
	// NoProgress shows only the live figure.
	NoProgress bool
	// MinInterval is the least time between redraws of the live figure
	// (0: DefaultLiveInterval).
	MinInterval time.Duration
}

// Tracker records the metrics of a training loop written by hand — a DANN
// loop with its own steps, say — and shows them while it runs: a progress
// bar (steps, rate, ETA, latest metrics) and a live History figure, both
// updated in place at a bounded rate. It implements TrainingHistory, so a
// finished tracker can be drawn again with other options, compared with
// CompareRuns, or shown as a value (its History figure).
//
//	tr := viz.NewTracker(viz.TrackerOptions{Total: steps})
//	for step := 1; step <= steps; step++ {
//		loss, acc := trainStep()
//		tr.Log(step, map[string]float64{"loss": loss, "domain_acc": acc})
//	}
//	tr.Done()
//
// Outside a kernel the bar prints a line every few seconds and no figure is
// drawn. A Tracker is safe for use by one loop and any number of readers.
type Tracker struct {
	opt  TrackerOptions
	bar  *progress.Bar
	live *Live

	mu       sync.Mutex
	train    metricLog // one row per step
	eval     metricLog // one row per evaluation
	finished bool
}

// metricLog is a table of metrics: a step per row, a column per metric in
// order of first appearance, NaN where a row lacks a metric.
type metricLog struct {
	steps []int
	cols  map[string][]float64
	names []string
}

// addRow starts a row for step.
func (m *metricLog) addRow(step int) {
	m.steps = append(m.steps, step)
	for _, name := range m.names {
		m.cols[name] = append(m.cols[name], math.NaN())
	}
}

// set fills the last row with metrics, adding columns for new names.
func (m *metricLog) set(metrics map[string]float64) {
	if m.cols == nil {
		m.cols = map[string][]float64{}
	}
	for _, name := range sortedNames(metrics) {
		col, ok := m.cols[name]
		if !ok {
			col = nanSlice(len(m.steps))
			m.names = append(m.names, name)
		}
		col[len(col)-1] = metrics[name]
		m.cols[name] = col
	}
}

// column returns a copy of a metric's values, all NaN if it was never set.
func (m *metricLog) column(name string) []float64 {
	if col, ok := m.cols[name]; ok {
		return slices.Clone(col)
	}
	return nanSlice(len(m.steps))
}

// last puts the latest value of each metric into out, prefixed.
func (m *metricLog) last(prefix string, out map[string]float64) {
	for name, col := range m.cols {
		for i := len(col) - 1; i >= 0; i-- {
			if !math.IsNaN(col[i]) {
				out[prefix+name] = col[i]
				break
			}
		}
	}
}

// NewTracker returns a tracker; nothing is shown until the first Log.
func NewTracker(opt TrackerOptions) *Tracker {
	t := &Tracker{opt: opt}
	if !opt.NoProgress {
		t.bar = progress.New(opt.Total)
		t.bar.Description = firstNonEmpty(opt.Description, "training")
	}
	if !opt.NoFigure {
		t.live = NewLive()
		t.live.MinInterval = opt.MinInterval
	}
	return t
}

// Log records a step's metrics (a later Log for the same step adds to it)
// and advances the progress bar to step. Steps must not go backwards: a
// step below the last one logged is an error naming both.
func (t *Tracker) Log(step int, metrics map[string]float64) error {
	t.mu.Lock()
	steps := t.train.steps
	if n := len(steps); n > 0 && step < steps[n-1] {
		t.mu.Unlock()
		return fmt.Errorf("viz.Tracker: step %d logged after step %d", step, steps[n-1])
	}
	if n := len(steps); n == 0 || step > steps[n-1] {
		t.train.addRow(step)
	}
	t.train.set(metrics)
	t.mu.Unlock()
	if t.bar != nil {
		t.bar.SetMetrics(metrics)
		t.bar.Set(step)
	}
	t.redraw()
	return nil
}

// LogEval records the metrics of an evaluation run after step.
func (t *Tracker) LogEval(step int, metrics map[string]float64) {
	t.mu.Lock()
	t.eval.addRow(step)
	t.eval.set(metrics)
	t.mu.Unlock()
	if t.bar != nil {
		for _, name := range sortedNames(metrics) {
			t.bar.SetMetric("eval_"+name, metrics[name])
		}
	}
	t.redraw()
}

// redraw hands a new figure to the live output when one is due.
func (t *Tracker) redraw() {
	if t.live != nil && t.live.Due() {
		t.live.Show(t.figure())
	}
}

// figure is the History figure, which graft's notebook extension shows as
// a dashboard: the panels with the latest metrics and the progress.
func (t *Tracker) figure() (*Figure, error) {
	f, err := History(t, t.opt.Figure)
	if err != nil {
		return nil, err
	}
	board := &figureJSON{}
	last := t.Last()
	for _, name := range sortedNames(last) {
		v := number(last[name])
		board.Metrics = append(board.Metrics, metricJSON{Name: name, Value: &v})
	}
	if t.bar != nil {
		s := t.bar.Status()
		board.Progress = &progressJSON{Step: s.Done, Total: s.Total, Elapsed: s.Elapsed.Seconds(), Rate: s.Rate, Done: s.Finished, Description: s.Description}
	} else if steps := t.Steps(); len(steps) > 0 {
		board.Progress = &progressJSON{Step: steps[len(steps)-1], Total: t.opt.Total, Done: t.finishedNow()}
	}
	f.board = board
	return f, nil
}

func (t *Tracker) finishedNow() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.finished
}

// Done finishes the progress bar and draws the final figure in place of the
// live one.
func (t *Tracker) Done() {
	t.finish(nil)
}

// Fail finishes the progress bar with err and leaves the figure as it is
// now (drawn in full).
func (t *Tracker) Fail(err error) {
	t.finish(err)
}

func (t *Tracker) finish(err error) {
	t.mu.Lock()
	if t.finished {
		t.mu.Unlock()
		return
	}
	t.finished = true
	t.mu.Unlock()
	if t.bar != nil {
		if err != nil {
			t.bar.Fail(err)
		} else {
			t.bar.Done()
		}
	}
	if t.live != nil {
		if t.Len() > 0 {
			t.live.Close(t.figure())
		} else {
			t.live.Close(nil, nil)
		}
	}
}

// Len returns the number of steps logged.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.train.steps)
}

// Redraws returns how many times the live figure has been drawn.
func (t *Tracker) Redraws() int {
	if t.live == nil {
		return 0
	}
	return t.live.Redraws()
}

// Steps returns the steps logged.
func (t *Tracker) Steps() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.train.steps)
}

// Series returns one value per logged step of a metric, NaN where a step
// lacks it.
func (t *Tracker) Series(name string) []float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.train.column(name)
}

// Names returns the metrics logged, in order of first appearance.
func (t *Tracker) Names() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.train.names)
}

// EvalSteps returns the steps after which evaluations were logged.
func (t *Tracker) EvalSteps() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.eval.steps)
}

// EvalSeries returns one value per logged evaluation of a metric.
func (t *Tracker) EvalSeries(name string) []float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.eval.column(name)
}

// EvalNames returns the evaluation metrics logged.
func (t *Tracker) EvalNames() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.eval.names)
}

// EpochNumbers returns nil: a tracker knows steps, not epochs.
func (t *Tracker) EpochNumbers() []int { return nil }

// EpochSeries returns nil: a tracker knows steps, not epochs.
func (t *Tracker) EpochSeries(string) []float64 { return nil }

// Last returns the latest value of every metric logged ("eval_" prefixed
// for evaluations).
func (t *Tracker) Last() map[string]float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]float64{}
	t.train.last("", out)
	t.eval.last("eval_", out)
	return out
}

// String summarises the tracker: steps logged and the latest metrics.
func (t *Tracker) String() string {
	last := t.Last()
	var b strings.Builder
	fmt.Fprintf(&b, "tracker: %d steps", t.Len())
	for _, k := range sortedNames(last) {
		fmt.Fprintf(&b, "  %s %.4g", k, last[k])
	}
	return b.String()
}

// Display implements display.Displayer: the History figure, with String as
// the text form.
func (t *Tracker) Display() display.Bundle {
	return HistoryBundle(t, HistoryOptions{}, t.String())
}

func sortedNames(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func nanSlice(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}
