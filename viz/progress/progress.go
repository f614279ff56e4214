// Package progress draws a progress bar for any long loop: steps done, rate,
// elapsed time, ETA and the current metrics. Inside a kernel (or a graft run)
// the bar is one HTML output (with a text/plain fallback) replaced in place at
// most a few times a second, whatever the step rate; in a terminal or a plain
// Go program it prints one line at most every few seconds, plus a first and a
// final line. A Bar is also a display value, so a cell that ends with it shows
// its current state.
//
//	bar := progress.New(len(batches))
//	bar.Description = "training"
//	for _, batch := range batches {
//		loss := step(batch)
//		bar.SetMetric("loss", loss)
//		bar.Add(1)
//	}
//	bar.Done()
//
// The package imports only display and the standard library.
package progress

import (
	"io"
	"math"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/graftml/graft/display"
)

// Defaults of a Bar made by New.
const (
	// DefaultMinInterval is the shortest time between two redraws inside a
	// kernel: at most five redraws a second.
	DefaultMinInterval = 200 * time.Millisecond
	// DefaultTerminalInterval is the shortest time between two lines printed
	// outside a kernel.
	DefaultTerminalInterval = 5 * time.Second
	// RateWindow is the time constant of the smoothed rate that a running bar
	// shows: steps older than this weigh 1/e as much as current ones.
	RateWindow = 10 * time.Second
)

// barWidth is the number of characters of the text bar.
const barWidth = 20

type state int

const (
	running state = iota
	finished
	failed
)

// Bar is a progress bar for a loop of a known or unknown number of steps.
// Make one with New, set its exported fields before the first update, then
// call Add (or Set) as the loop advances and Done (or Fail) at the end.
//
// Redraws happen inside Add and Set, only when one is due, so a call that
// draws nothing costs a lock and a clock read (about 0.1 µs) and allocates
// nothing; the other setters only record.
// Whether the bar draws to a notebook output or to Out is decided at its first
// redraw, by display.HasFrontend.
//
// The rate a running bar shows (and its ETA) is smoothed: steps per second
// over the run, with past intervals weighted down exponentially with time
// constant RateWindow, so it follows a loop that speeds up or slows down
// within tens of seconds. The final line shows the mean rate over the whole
// run instead. The clock starts when New is called.
//
// All methods are safe to call from several goroutines: a loop may call Add
// and SetMetric while another goroutine calls Display or String.
type Bar struct {
	// Description labels the bar, for example "training"; empty means none.
	// Use SetDescription to change it while the bar is in use.
	Description string
	// Unit names one step in the rate, "it" by default (shown as "it/s").
	Unit string
	// MinInterval is the shortest time between two redraws inside a kernel
	// (DefaultMinInterval when zero or negative). The final redraw by Done
	// or Fail happens regardless.
	MinInterval time.Duration
	// TerminalInterval is the shortest time between two lines printed outside
	// a kernel (DefaultTerminalInterval when zero or negative).
	TerminalInterval time.Duration
	// Out receives the lines printed outside a kernel, one full line each
	// (no carriage returns, so logs and pipes stay readable). Nil means
	// os.Stderr, which keeps a program's standard output for its results, as
	// command-line tools do; inside a kernel both streams reach the cell.
	Out io.Writer

	mu      sync.Mutex
	now     func() time.Time
	start   time.Time
	end     time.Time // when Done or Fail was called
	total   int
	done    int
	names   []string // metric names, in the order they were first set
	values  []float64
	state   state
	errMsg  string
	drawn   bool      // a redraw happened, so kernel is decided
	kernel  bool      // redraws go to a notebook output, not to Out
	next    time.Time // earliest time of the next regular redraw
	seq     uint64    // number of the latest frame made
	foldAt  time.Time // the smoothed rate covers the run up to foldAt
	foldCnt int       // done at foldAt
	rateNum float64   // exponentially weighted steps up to foldAt
	rateDen float64   // exponentially weighted seconds up to foldAt

	outMu   sync.Mutex
	emitted uint64 // sequence number of the latest frame drawn
	handle  *display.Handle
}

// New returns a running bar for total steps; total <= 0 means the number of
// steps is unknown, and the bar shows the count and rate with no percentage
// or ETA. Nothing is drawn until the first Add, Set, Done or Fail.
func New(total int) *Bar {
	return newBar(total, time.Now)
}

func newBar(total int, now func() time.Time) *Bar {
	t := now()
	return &Bar{
		Unit:             "it",
		MinInterval:      DefaultMinInterval,
		TerminalInterval: DefaultTerminalInterval,
		now:              now,
		start:            t,
		foldAt:           t,
		total:            total,
	}
}

// Add records n more steps done and redraws if a redraw is due.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	b.done += n
	b.update()
}

// Set records that done steps are done in all and redraws if a redraw is due.
func (b *Bar) Set(done int) {
	b.mu.Lock()
	b.done = done
	b.update()
}

// SetTotal changes the number of steps; total <= 0 means unknown. Like the
// other setters it draws nothing itself: the next redraw shows the change.
func (b *Bar) SetTotal(total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total = total
}

// SetDescription changes the bar's label while it is in use.
func (b *Bar) SetDescription(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Description = s
}

// SetMetric sets the current value of the metric name, shown after the rate;
// metrics appear in the order they were first set. It draws nothing itself:
// set a step's metrics before its Add, and the redraw Add makes shows them.
func (b *Bar) SetMetric(name string, value float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.setMetric(name, value)
}

// SetMetrics sets several metrics at once, like SetMetric; names not seen
// before are added in sorted order.
func (b *Bar) SetMetrics(metrics map[string]float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var added []string
	for name, v := range metrics {
		if !b.setExisting(name, v) {
			added = append(added, name)
		}
	}
	slices.Sort(added)
	for _, name := range added {
		b.names = append(b.names, name)
		b.values = append(b.values, metrics[name])
	}
}

func (b *Bar) setMetric(name string, v float64) {
	if !b.setExisting(name, v) {
		b.names = append(b.names, name)
		b.values = append(b.values, v)
	}
}

func (b *Bar) setExisting(name string, v float64) bool {
	for i, n := range b.names {
		if n == name {
			b.values[i] = v
			return true
		}
	}
	return false
}

// Done marks the loop as finished and always redraws the final state: the
// count, the total elapsed time and the mean rate over the run. Later calls
// to Done or Fail do nothing; later updates change the state but draw nothing.
func (b *Bar) Done() { b.finish(finished, "") }

// Fail marks the loop as stopped by err (which may be nil) and always
// redraws, showing the error. Later calls to Done or Fail do nothing.
func (b *Bar) Fail(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	b.finish(failed, msg)
}

func (b *Bar) finish(s state, msg string) {
	b.mu.Lock()
	if b.state != running {
		b.mu.Unlock()
		return
	}
	now := b.now()
	b.state, b.errMsg, b.end = s, msg, now
	f := b.frame(now)
	b.mu.Unlock()
	b.emit(f)
}

// update is called with b.mu held and releases it; it redraws when a redraw
// is due. This is the path every Add takes, so it does no work beyond a
// clock read unless it draws.
func (b *Bar) update() {
	if b.state != running {
		b.mu.Unlock()
		return
	}
	now := b.now()
	if b.drawn && now.Before(b.next) {
		b.mu.Unlock()
		return
	}
	f := b.frame(now)
	b.mu.Unlock()
	b.emit(f)
}

// frame is one redraw, made under b.mu and drawn after it is released.
type frame struct {
	seq    uint64
	kernel bool
	bundle display.Bundle // kernel: the output
	line   string         // terminal: the line, without newline
	out    io.Writer
}

// frame makes the redraw for the state at now, with b.mu held, and schedules
// the next regular one.
func (b *Bar) frame(now time.Time) frame {
	if !b.drawn {
		b.drawn = true
		b.kernel = display.HasFrontend()
	}
	b.fold(now)
	interval := b.TerminalInterval
	if interval <= 0 {
		interval = DefaultTerminalInterval
	}
	if b.kernel {
		interval = b.MinInterval
		if interval <= 0 {
			interval = DefaultMinInterval
		}
	}
	b.next = now.Add(interval)
	b.seq++
	s := b.snapshot(now)
	f := frame{seq: b.seq, kernel: b.kernel}
	if b.kernel {
		f.bundle = s.bundle()
	} else {
		f.line = s.text()
		f.out = b.Out
		if f.out == nil {
			f.out = os.Stderr
		}
	}
	return f
}

// emit draws f unless a newer frame was drawn already (two goroutines that
// update the bar may reach here out of order).
func (b *Bar) emit(f frame) {
	b.outMu.Lock()
	defer b.outMu.Unlock()
	if f.seq <= b.emitted {
		return
	}
	b.emitted = f.seq
	if !f.kernel {
		io.WriteString(f.out, f.line+"\n")
		return
	}
	if b.handle == nil {
		b.handle = display.Show(f.bundle)
		return
	}
	b.handle.Update(f.bundle)
}

// fold brings the smoothed rate up to now.
func (b *Bar) fold(now time.Time) {
	b.rateNum, b.rateDen = b.rateAt(now)
	b.foldAt, b.foldCnt = now, b.done
}

// rateAt returns the weighted steps and seconds of the smoothed rate at now,
// without changing b: the sums at foldAt decay by exp(-dt/RateWindow) and the
// interval since then is added with full weight. With a steady rate r the
// ratio is r exactly. A count that went down (Set to a smaller value) starts
// the smoothing afresh.
func (b *Bar) rateAt(now time.Time) (num, den float64) {
	dt := now.Sub(b.foldAt).Seconds()
	dn := b.done - b.foldCnt
	if dn < 0 {
		return 0, 0
	}
	if dt <= 0 {
		return b.rateNum + float64(dn), b.rateDen
	}
	d := math.Exp(-dt / RateWindow.Seconds())
	return b.rateNum*d + float64(dn), b.rateDen*d + dt
}

// snapshot copies the state at now into a value the renderers read, with
// b.mu held.
func (b *Bar) snapshot(now time.Time) snapshot {
	s := snapshot{
		desc:   b.Description,
		unit:   b.Unit,
		total:  b.total,
		done:   b.done,
		names:  append([]string(nil), b.names...),
		values: append([]float64(nil), b.values...),
		state:  b.state,
		errMsg: b.errMsg,
	}
	if s.unit == "" {
		s.unit = "it"
	}
	if b.state != running {
		now = b.end
	}
	s.elapsed = now.Sub(b.start)
	if b.state != running {
		if sec := s.elapsed.Seconds(); sec > 0 {
			s.rate = float64(b.done) / sec
		}
		return s
	}
	if num, den := b.rateAt(now); den > 0 {
		s.rate = num / den
	}
	if s.total > 0 && s.done < s.total && s.rate > 0 {
		s.eta = time.Duration(float64(s.total-s.done) / s.rate * float64(time.Second))
		s.hasETA = true
	}
	return s
}

// Status is a bar's state at one moment, for a display of its own.
type Status struct {
	// Description is the bar's label.
	Description string
	// Done and Total count steps (Total 0: unknown).
	Done, Total int
	// Elapsed is the time since New, up to Done or Fail once finished.
	Elapsed time.Duration
	// Rate is steps per second: smoothed while running, the mean over the
	// run once finished; 0 before it is known.
	Rate float64
	// Finished reports that Done or Fail was called.
	Finished bool
}

// Status returns the bar's current state.
func (b *Bar) Status() Status {
	b.mu.Lock()
	s := b.snapshot(b.now())
	b.mu.Unlock()
	return Status{Description: s.desc, Done: s.done, Total: s.total, Elapsed: s.elapsed, Rate: s.rate, Finished: s.state != running}
}

// String returns the bar's current state as one line, fields separated by
// two spaces, for example
//
//	training  340/1000  34%  [######..............]  50.0 it/s  elapsed 0:07  ETA 0:13  loss 0.312
//
// and once finished
//
//	training  1000/1000  100%  [####################]  48.7 it/s  done in 0:21  loss 0.107
func (b *Bar) String() string {
	b.mu.Lock()
	s := b.snapshot(b.now())
	b.mu.Unlock()
	return s.text()
}

// Display returns the bar's current state as HTML with String's line as the
// text/plain fallback, so a Bar can be shown like any display value.
func (b *Bar) Display() display.Bundle {
	b.mu.Lock()
	s := b.snapshot(b.now())
	b.mu.Unlock()
	return s.bundle()
}
