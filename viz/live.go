package viz

import (
	"sync"
	"time"

	"github.com/graftml/graft/display"
)

// Default pacing of live figures.
const (
	// DefaultLiveInterval is the least time between two redraws of a live
	// figure: at most 2.5 redraws a second, whatever the loop's step rate.
	DefaultLiveInterval = 400 * time.Millisecond
	// DefaultLiveBudget is the largest share of wall time a live figure
	// spends rendering: after a redraw that took d, the next waits at least
	// d / DefaultLiveBudget.
	DefaultLiveBudget = 0.03
)

// Live is one notebook output that a loop redraws in place: the loop asks
// Due, builds a figure from its data when it is, and hands it to Show, which
// renders it in the background and replaces the output (update_display_data
// under one display id). Redraws are at most one per MinInterval and spend at
// most Budget of the wall time, so a fast loop is not slowed by its picture.
// Close shows the final figure and waits for it. Outside a kernel Live does
// nothing: a terminal cannot replace an image in place.
//
//	live := viz.NewLive()
//	for step := 1; step <= steps; step++ {
//		losses = append(losses, trainStep())
//		if live.Due() {
//			live.Show(viz.Lines([]viz.Series{{Name: "loss", Y: losses}}, viz.LineOptions{}))
//		}
//	}
//	live.Close(viz.Lines([]viz.Series{{Name: "loss", Y: losses}}, viz.LineOptions{}))
type Live struct {
	// MinInterval is the least time between redraws (0: DefaultLiveInterval).
	MinInterval time.Duration
	// Budget is the largest share of wall time spent rendering
	// (0: DefaultLiveBudget).
	Budget float64

	mu        sync.Mutex
	now       func() time.Time
	handle    *display.Handle
	next      time.Time // the earliest start of the next redraw
	rendering bool
	closed    bool
	redraws   int
	frames    int // frames handed to publish, numbered from 0 for the extension
	err       error
	wg        sync.WaitGroup
}

// NewLive returns a live figure with the default pacing; nothing is shown
// until the first Show.
func NewLive() *Live { return &Live{now: time.Now} }

func (l *Live) clock() time.Time {
	if l.now == nil {
		return time.Now()
	}
	return l.now()
}

// Due reports whether a figure handed to Show now would be drawn: inside a
// kernel, when no redraw is in flight and the pacing allows another. It is
// cheap enough to call on every step.
func (l *Live) Due() bool {
	if !display.HasFrontend() {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.closed && !l.rendering && !l.clock().Before(l.next)
}

// Show draws f in the live output in the background, as PNG only, if a
// redraw is due; otherwise it drops f. A non-nil err (from the function that
// built f) is kept for Err and f is dropped. Show takes ownership of f.
func (l *Live) Show(f *Figure, err error) {
	if err != nil {
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
		return
	}
	if f == nil || !l.Due() {
		return
	}
	l.mu.Lock()
	if l.rendering || l.closed {
		l.mu.Unlock()
		return
	}
	l.rendering = true
	l.wg.Add(1)
	f.frame = l.nextFrame()
	l.mu.Unlock()
	// Intermediate frames: the cheaper image and the extension's data.
	f.opt.Formats = []string{"png", "interactive"}
	go func() {
		defer l.wg.Done()
		start := l.clock()
		l.publish(f)
		took := l.clock().Sub(start)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.rendering = false
		l.redraws++
		wait := l.interval()
		if byBudget := time.Duration(float64(took) / l.budget()); byBudget > wait {
			wait = byBudget
		}
		l.next = start.Add(wait)
	}()
}

// nextFrame numbers a frame about to be published, with l.mu held: graft's
// notebook extension appends to what it drew when the numbers follow on.
func (l *Live) nextFrame() *int {
	n := l.frames
	l.frames++
	return &n
}

func (l *Live) interval() time.Duration {
	if l.MinInterval > 0 {
		return l.MinInterval
	}
	return DefaultLiveInterval
}

func (l *Live) budget() float64 {
	if l.Budget > 0 && l.Budget <= 1 {
		return l.Budget
	}
	return DefaultLiveBudget
}

// publish shows f as the live output, creating it on the first call.
func (l *Live) publish(f *Figure) {
	l.mu.Lock()
	h := l.handle
	l.mu.Unlock()
	if h != nil {
		h.Update(f)
		return
	}
	h = display.Show(f)
	l.mu.Lock()
	l.handle = h
	l.mu.Unlock()
}

// Close waits for a redraw in flight, then replaces the live output with
// final in all of its formats (or shows it, if nothing was shown yet).
// final may be nil to leave the last frame. Later Shows are ignored.
func (l *Live) Close(final *Figure, err error) {
	l.mu.Lock()
	l.closed = true
	if err != nil {
		l.err = err
	}
	l.mu.Unlock()
	l.wg.Wait()
	if final == nil || err != nil || !display.HasFrontend() {
		return
	}
	l.mu.Lock()
	final.frame, final.final = l.nextFrame(), true
	l.mu.Unlock()
	l.publish(final)
	l.mu.Lock()
	l.redraws++
	l.mu.Unlock()
}

// Redraws returns how many times the output has been drawn so far.
func (l *Live) Redraws() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.redraws
}

// Err returns the last error handed to Show or Close, if any.
func (l *Live) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// ID returns the display id of the live output, or "" before the first
// redraw.
func (l *Live) ID() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.handle == nil {
		return ""
	}
	return l.handle.ID()
}
