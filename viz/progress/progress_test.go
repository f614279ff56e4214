package progress

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graftml/graft/display"
)

// clock is a fake clock that moves only when a test says so.
type clock struct{ t time.Time }

func (c *clock) now() time.Time       { return c.t }
func (c *clock) tick(d time.Duration) { c.t = c.t.Add(d) }

// published is one call to the recording frontend.
type published struct {
	bundle display.Bundle
	id     string
	update bool
	at     time.Time // the fake time of the call, when a clock is attached
}

// recorder is a display.Frontend that keeps what it is given.
type recorder struct {
	mu    sync.Mutex
	clock *clock
	pubs  []published
}

func (r *recorder) Publish(b display.Bundle, id string, update bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := published{bundle: b, id: id, update: update}
	if r.clock != nil {
		p.at = r.clock.t
	}
	r.pubs = append(r.pubs, p)
}

func (r *recorder) Clear(bool) {}

func (r *recorder) all() []published {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]published(nil), r.pubs...)
}

// inKernel installs a recording frontend for the test and restores the
// previous one afterwards.
func inKernel(t testing.TB, c *clock) *recorder {
	r := &recorder{clock: c}
	prev := display.SetFrontend(r)
	t.Cleanup(func() { display.SetFrontend(prev) })
	return r
}

// inTerminal removes any frontend for the test.
func inTerminal(t testing.TB) {
	prev := display.SetFrontend(nil)
	t.Cleanup(func() { display.SetFrontend(prev) })
}

func fakeBar(total int) (*Bar, *clock) {
	c := &clock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	return newBar(total, c.now), c
}

func htmlOf(p published) string {
	s, _ := p.bundle.Data[display.MIMEHTML].(string)
	return s
}

// checkOneID asserts that pubs are one output: shown once, then updated,
// always under the same non-empty display id.
func checkOneID(t *testing.T, pubs []published) {
	t.Helper()
	if len(pubs) == 0 {
		t.Fatal("nothing published")
	}
	id := pubs[0].id
	if id == "" {
		t.Fatal("first publish has no display id")
	}
	for i, p := range pubs {
		if p.id != id {
			t.Fatalf("publish %d has display id %q, want %q", i, p.id, id)
		}
		if want := i > 0; p.update != want {
			t.Fatalf("publish %d has update=%v, want %v", i, p.update, want)
		}
	}
}

func TestKernelRedrawsAreBoundedUnderOneID(t *testing.T) {
	bar, c := fakeBar(10000)
	rec := inKernel(t, c)
	var out bytes.Buffer
	bar.Out = &out
	// 10,000 steps of 200µs: 2 simulated seconds. Redraws at 0.0002 s and
	// then every 0.2 s from there: 0.2002, 0.4002, ..., 1.8002 — 10 in all.
	for range 10000 {
		c.tick(200 * time.Microsecond)
		bar.Add(1)
	}
	pubs := rec.all()
	if len(pubs) != 10 {
		t.Fatalf("%d publishes during 2 s at MinInterval 0.2 s, want 10", len(pubs))
	}
	for i := 1; i < len(pubs); i++ {
		if gap := pubs[i].at.Sub(pubs[i-1].at); gap < DefaultMinInterval {
			t.Errorf("publishes %d and %d are %v apart, want at least %v", i-1, i, gap, DefaultMinInterval)
		}
	}
	bar.Done()
	pubs = rec.all()
	if len(pubs) != 11 {
		t.Fatalf("%d publishes after Done, want 11", len(pubs))
	}
	checkOneID(t, pubs)
	if got, want := pubs[0].bundle.Text(), "1/10000  0%  [....................]  5000 it/s  elapsed 0:00  ETA 0:02"; got != want {
		t.Errorf("first text\n got %q\nwant %q", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("a bar in a kernel wrote %q to Out", out.String())
	}
}

func TestDoneAlwaysDrawsFinalState(t *testing.T) {
	bar, c := fakeBar(50)
	rec := inKernel(t, c)
	bar.Description = "epoch 1"
	// Steps of 100 ms: redraws at 0.1, 0.3, ..., 4.9 s; the 50th step at 5.0 s
	// is not due, so only Done shows 50/50.
	for range 50 {
		c.tick(100 * time.Millisecond)
		bar.Add(1)
	}
	before := len(rec.all())
	if last := rec.all()[before-1].bundle.Text(); !strings.HasPrefix(last, "epoch 1  49/50") {
		t.Fatalf("last redraw before Done is %q, want 49/50", last)
	}
	bar.Done()
	pubs := rec.all()
	if len(pubs) != before+1 {
		t.Fatalf("Done published %d outputs, want 1", len(pubs)-before)
	}
	final := pubs[len(pubs)-1]
	want := "epoch 1  50/50  100%  [####################]  10.0 it/s  done in 0:05"
	if got := final.bundle.Text(); got != want {
		t.Errorf("final text\n got %q\nwant %q", got, want)
	}
	h := htmlOf(final)
	for _, part := range []string{"width:100.0%", colourFinished, "50/50 (100%)", "done in 0:05", "10.0 it/s", `aria-valuenow="50"`} {
		if !strings.Contains(h, part) {
			t.Errorf("final HTML lacks %q:\n%s", part, h)
		}
	}
	checkOneID(t, pubs)

	// Finished: the state is frozen in time and nothing more is drawn.
	c.tick(time.Hour)
	bar.Add(1)
	bar.Done()
	bar.Fail(errors.New("late"))
	if n := len(rec.all()); n != len(pubs) {
		t.Errorf("%d publishes after the bar finished, want none", n-len(pubs))
	}
	if got, want := bar.String(), "epoch 1  51/50  102%  [####################]  10.2 it/s  done in 0:05"; got != want {
		t.Errorf("String after finishing\n got %q\nwant %q", got, want)
	}
}

func TestETAFromRate(t *testing.T) {
	bar, c := fakeBar(1000)
	rec := inKernel(t, c)
	bar.Description = "training"
	// 340 steps of 20 ms: 50 it/s, 6.8 s elapsed, 660 steps left = 13.2 s.
	for i := range 340 {
		c.tick(20 * time.Millisecond)
		bar.SetMetric("loss", 0.312+0.001*float64(339-i))
		bar.SetMetric("acc", 0.91)
		bar.Add(1)
	}
	want := "training  340/1000  34%  [######..............]  50.0 it/s  elapsed 0:07  ETA 0:13  loss 0.312  acc 0.91"
	if got := bar.String(); got != want {
		t.Errorf("String\n got %q\nwant %q", got, want)
	}
	b := bar.Display()
	if got := b.Text(); got != want {
		t.Errorf("Display text/plain\n got %q\nwant %q", got, want)
	}
	h, _ := b.Data[display.MIMEHTML].(string)
	for _, part := range []string{"<b>training</b>", "width:34.0%", colourRunning, "340/1000 (34%)", "50.0 it/s", "elapsed 0:07", "ETA 0:13", "loss <b>0.312</b>", "acc <b>0.91</b>"} {
		if !strings.Contains(h, part) {
			t.Errorf("HTML lacks %q:\n%s", part, h)
		}
	}
	// Display does not publish: only the update calls do.
	if n := len(rec.all()); n != 34 {
		t.Errorf("%d publishes over 6.8 s at 0.2 s, want 34", n)
	}
}

func TestRateIsSmoothed(t *testing.T) {
	bar, c := fakeBar(300)
	inKernel(t, c)
	bar.MinInterval = 10 * time.Second
	c.tick(10 * time.Second)
	bar.Set(100) // 10 it/s over the first 10 s
	c.tick(10 * time.Second)
	bar.Set(150) // 5 it/s over the next 10 s
	// Weighted: (100/e + 50) / (10/e + 10) = 86.788/13.679 = 6.345 it/s;
	// 150 steps left take 23.6 s.
	want := "150/300  50%  [##########..........]  6.34 it/s  elapsed 0:20  ETA 0:24"
	if got := bar.String(); got != want {
		t.Errorf("smoothed\n got %q\nwant %q", got, want)
	}
	// Going back starts the smoothing afresh.
	c.tick(10 * time.Second)
	bar.Set(10)
	if got, want := bar.String(), "10/300  3%  [....................]  ? it/s  elapsed 0:30"; got != want {
		t.Errorf("after Set back\n got %q\nwant %q", got, want)
	}
	c.tick(10 * time.Second)
	bar.Set(30)
	if got, want := bar.String(), "30/300  10%  [##..................]  2.00 it/s  elapsed 0:40  ETA 2:15"; got != want {
		t.Errorf("after restart\n got %q\nwant %q", got, want)
	}
	// The final line shows the mean over the run: 30 steps in 40 s.
	bar.Done()
	if got, want := bar.String(), "30/300  10%  [##..................]  1.33 s/it  done in 0:40"; got != want {
		t.Errorf("final\n got %q\nwant %q", got, want)
	}
}

func TestUnknownTotal(t *testing.T) {
	bar, c := fakeBar(0)
	rec := inKernel(t, c)
	for range 340 {
		c.tick(20 * time.Millisecond)
		bar.SetMetric("loss", 0.312)
		bar.Add(1)
	}
	if got, want := bar.String(), "340  50.0 it/s  elapsed 0:07  loss 0.312"; got != want {
		t.Errorf("running\n got %q\nwant %q", got, want)
	}
	bar.Done()
	pubs := rec.all()
	final := pubs[len(pubs)-1]
	if got, want := final.bundle.Text(), "340  50.0 it/s  done in 0:07  loss 0.312"; got != want {
		t.Errorf("final\n got %q\nwant %q", got, want)
	}
	for _, p := range pubs {
		h := htmlOf(p)
		if strings.Contains(h, "progressbar") || strings.Contains(h, "ETA") || strings.Contains(h, "(0%)") {
			t.Fatalf("HTML of a bar with unknown total shows a bar, percentage or ETA:\n%s", h)
		}
	}
	// SetTotal makes it known.
	bar2, c2 := fakeBar(-1)
	c2.tick(time.Second)
	bar2.Set(10)
	bar2.SetTotal(40)
	if got, want := bar2.String(), "10/40  25%  [#####...............]  10.0 it/s  elapsed 0:01  ETA 0:03"; got != want {
		t.Errorf("after SetTotal\n got %q\nwant %q", got, want)
	}
}

func TestUserTextIsEscapedInHTML(t *testing.T) {
	bar, c := fakeBar(10)
	rec := inKernel(t, c)
	const evil = "<script>alert(1)</script>"
	const escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
	bar.Description = evil
	bar.Unit = "<i>"
	for range 3 {
		c.tick(time.Second)
		bar.SetMetric(evil, 1)
		bar.Add(1)
	}
	bar.Fail(errors.New("<b>bad</b>"))
	pubs := rec.all()
	if len(pubs) != 4 {
		t.Fatalf("%d publishes, want 3 updates and the final one", len(pubs))
	}
	for i, p := range pubs {
		h := htmlOf(p)
		if strings.Contains(h, "<script") || strings.Contains(h, "<i>") || strings.Contains(h, "<b>bad") {
			t.Errorf("publish %d has unescaped user text:\n%s", i, h)
		}
		if n := strings.Count(h, escaped); n != 2 {
			t.Errorf("publish %d shows the escaped description and metric name %d times, want 2:\n%s", i, n, h)
		}
		if !strings.Contains(h, "&lt;i&gt;/s") {
			t.Errorf("publish %d lacks the escaped unit:\n%s", i, h)
		}
	}
	final := pubs[3]
	if h := htmlOf(final); !strings.Contains(h, "error: &lt;b&gt;bad&lt;/b&gt;") || !strings.Contains(h, colourFailed) {
		t.Errorf("failed HTML lacks the escaped error or the failure colour:\n%s", h)
	}
	want := evil + "  3/10  30%  [######..............]  1.00 <i>/s  failed after 0:03  " + evil + " 1  error: <b>bad</b>"
	if got := final.bundle.Text(); got != want {
		t.Errorf("failed text\n got %q\nwant %q", got, want)
	}
}

func TestFailWithoutError(t *testing.T) {
	bar, c := fakeBar(4)
	inKernel(t, c)
	c.tick(2 * time.Second)
	bar.Add(1)
	bar.Fail(nil)
	bar.Done()
	if got, want := bar.String(), "1/4  25%  [#####...............]  2.00 s/it  failed after 0:02"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestTerminalPrintsALineEveryFewSeconds(t *testing.T) {
	bar, c := fakeBar(600)
	inTerminal(t)
	var out bytes.Buffer
	bar.Out = &out
	// 600 steps of 100 ms = 60 s; lines at 0.1, 5.1, 10.1, ..., 55.1 s (12)
	// and the final one.
	for range 600 {
		c.tick(100 * time.Millisecond)
		bar.Add(1)
	}
	bar.Done()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 13 {
		t.Fatalf("%d lines over 60 s at TerminalInterval 5 s, want 13:\n%s", len(lines), out.String())
	}
	if got, want := lines[0], "1/600  0%  [....................]  10.0 it/s  elapsed 0:00  ETA 1:00"; got != want {
		t.Errorf("first line\n got %q\nwant %q", got, want)
	}
	if got, want := lines[1], "51/600  8%  [#...................]  10.0 it/s  elapsed 0:05  ETA 0:55"; got != want {
		t.Errorf("second line\n got %q\nwant %q", got, want)
	}
	if got, want := lines[12], "600/600  100%  [####################]  10.0 it/s  done in 1:00"; got != want {
		t.Errorf("final line\n got %q\nwant %q", got, want)
	}
}

func TestTerminalDefaultsToStderr(t *testing.T) {
	inTerminal(t)
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	prev := os.Stderr
	os.Stderr = f
	defer func() { os.Stderr = prev }()
	bar, _ := fakeBar(2)
	bar.Done()
	os.Stderr = prev
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if want := "0/2  0%  [....................]  ? it/s  done in 0:00\n"; string(got) != want {
		t.Errorf("stderr got %q, want %q", got, want)
	}
}

func TestSetMetricsOrder(t *testing.T) {
	bar, _ := fakeBar(0)
	bar.Out = io.Discard
	inTerminal(t)
	bar.SetMetric("loss", 1)
	bar.SetMetrics(map[string]float64{"f1": 0.25, "acc": 0.5, "loss": 0.75})
	bar.SetMetric("nan", math.NaN())
	bar.SetMetric("big", 12345.6)
	if got, want := bar.String(), "0  ? it/s  elapsed 0:00  loss 0.75  acc 0.5  f1 0.25  nan NaN  big 1.235e+04"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0:00"},
		{5 * time.Second, "0:05"},
		{4500 * time.Millisecond, "0:05"},
		{59600 * time.Millisecond, "1:00"},
		{62 * time.Second, "1:02"},
		{59*time.Minute + 59*time.Second, "59:59"},
		{time.Hour, "1:00:00"},
		{time.Hour + 2*time.Minute + 3*time.Second, "1:02:03"},
		{100 * time.Hour, "100:00:00"},
		{-3 * time.Second, "0:00"},
	} {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestFormatRate(t *testing.T) {
	for _, tc := range []struct {
		r    float64
		want string
	}{
		{57.14, "57.1 it/s"},
		{5000, "5000 it/s"},
		{1234.4, "1234 it/s"},
		{1, "1.00 it/s"},
		{9.996, "10.0 it/s"},
		{99.96, "100 it/s"},
		{0.4, "2.50 s/it"},
		{0, "? it/s"},
		{math.NaN(), "? it/s"},
		{math.Inf(1), "? it/s"},
	} {
		if got := formatRate(tc.r, "it"); got != tc.want {
			t.Errorf("formatRate(%v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}

// TestConcurrentUse updates the bar from one goroutine while another reads
// it; run with -race.
func TestConcurrentUse(t *testing.T) {
	rec := inKernel(t, nil)
	bar := New(2000)
	bar.MinInterval = time.Nanosecond // redraw on nearly every step
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if b := bar.Display(); !strings.Contains(b.Text(), "/2000") || !strings.Contains(bar.String(), "/2000") {
				t.Errorf("Display text %q is not a bar line", b.Text())
				return
			}
		}
	}()
	for i := range 2000 {
		bar.SetMetric("loss", float64(i))
		bar.SetMetrics(map[string]float64{"acc": 0.5})
		bar.Add(1)
	}
	bar.Done()
	close(stop)
	wg.Wait()
	pubs := rec.all()
	checkOneID(t, pubs)
	if got := pubs[len(pubs)-1].bundle.Text(); !strings.HasPrefix(got, "2000/2000  100%") || !strings.Contains(got, "loss 1999  acc 0.5") {
		t.Errorf("final text %q", got)
	}
}

func BenchmarkAdd(b *testing.B) {
	inTerminal(b)
	bar := New(0)
	bar.Out = io.Discard
	bar.TerminalInterval = time.Hour
	bar.Add(1) // the first line; after it no redraw is due for an hour
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		bar.Add(1)
	}
}

func BenchmarkAddWithMetrics(b *testing.B) {
	inTerminal(b)
	bar := New(0)
	bar.Out = io.Discard
	bar.TerminalInterval = time.Hour
	bar.SetMetric("loss", 0)
	bar.SetMetric("acc", 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		bar.SetMetric("loss", float64(i))
		bar.SetMetric("acc", 0.5)
		bar.Add(1)
	}
}

// BenchmarkRedraw measures one kernel redraw's formatting (text and HTML).
func BenchmarkRedraw(b *testing.B) {
	bar := New(1000)
	bar.Out = io.Discard
	bar.Description = "training"
	bar.SetMetric("loss", 0.312)
	bar.SetMetric("acc", 0.91)
	bar.Set(340)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		bar.Display()
	}
}
