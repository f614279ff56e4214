package progress

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/graftml/graft/display"
)

// snapshot is a bar's state at one moment, as the renderers read it.
type snapshot struct {
	desc, unit  string
	total, done int
	names       []string
	values      []float64
	state       state
	errMsg      string
	elapsed     time.Duration
	rate        float64 // steps per second; 0 when not known yet
	eta         time.Duration
	hasETA      bool
}

// Bar colours (Okabe–Ito, safe for colour-blind readers).
const (
	colourRunning  = "#0072B2"
	colourFinished = "#009E73"
	colourFailed   = "#D55E00"
)

// text renders the one-line form, fields separated by two spaces.
func (s snapshot) text() string {
	var parts []string
	if s.desc != "" {
		parts = append(parts, s.desc)
	}
	parts = append(parts, s.count())
	if s.total > 0 {
		filled := s.filled(barWidth)
		parts = append(parts, strconv.Itoa(s.percent())+"%",
			"["+strings.Repeat("#", filled)+strings.Repeat(".", barWidth-filled)+"]")
	}
	parts = append(parts, formatRate(s.rate, s.unit))
	parts = append(parts, s.times()...)
	for i, name := range s.names {
		parts = append(parts, name+" "+formatValue(s.values[i]))
	}
	if s.state == failed && s.errMsg != "" {
		parts = append(parts, "error: "+s.errMsg)
	}
	return strings.Join(parts, "  ")
}

// bundle renders the HTML form with the text form as fallback.
func (s snapshot) bundle() display.Bundle {
	return display.NewBundle(s.text(), display.MIMEHTML, s.html())
}

func (s snapshot) html() string {
	colour := colourRunning
	switch s.state {
	case finished:
		colour = colourFinished
	case failed:
		colour = colourFailed
	}
	var b strings.Builder
	b.WriteString(`<div class="graft-progress" style="font-family:monospace;font-size:13px;line-height:1.8">`)
	if s.desc != "" {
		fmt.Fprintf(&b, `<b>%s</b>&emsp;`, html.EscapeString(s.desc))
	}
	if s.total > 0 {
		frac := math.Max(0, math.Min(1, float64(s.done)/float64(s.total)))
		fmt.Fprintf(&b, `<span role="progressbar" aria-valuemin="0" aria-valuemax="%d" aria-valuenow="%d" `+
			`style="display:inline-block;width:16em;height:0.9em;vertical-align:middle;border:1px solid #888;border-radius:3px;background:#eee;overflow:hidden">`+
			`<span style="display:block;height:100%%;width:%.1f%%;background:%s"></span></span>&emsp;`,
			s.total, s.done, 100*frac, colour)
		fmt.Fprintf(&b, `<span>%s (%d%%)</span>`, s.count(), s.percent())
	} else {
		fmt.Fprintf(&b, `<span>%s</span>`, s.count())
	}
	item := func(text string) {
		fmt.Fprintf(&b, `&emsp;<span>%s</span>`, html.EscapeString(text))
	}
	item(formatRate(s.rate, s.unit))
	for _, t := range s.times() {
		item(t)
	}
	for i, name := range s.names {
		fmt.Fprintf(&b, `&emsp;<span>%s <b>%s</b></span>`, html.EscapeString(name), formatValue(s.values[i]))
	}
	if s.state == failed && s.errMsg != "" {
		fmt.Fprintf(&b, `&emsp;<span style="color:%s">error: %s</span>`, colourFailed, html.EscapeString(s.errMsg))
	}
	b.WriteString(`</div>`)
	return b.String()
}

func (s snapshot) count() string {
	if s.total > 0 {
		return strconv.Itoa(s.done) + "/" + strconv.Itoa(s.total)
	}
	return strconv.Itoa(s.done)
}

// percent is the whole percentage done, rounded down so that 100% means all
// steps are done.
func (s snapshot) percent() int {
	if s.total <= 0 {
		return 0
	}
	return int(int64(s.done) * 100 / int64(s.total))
}

// filled is how many of width cells of the text bar are full, rounded down.
func (s snapshot) filled(width int) int {
	if s.total <= 0 || s.done <= 0 {
		return 0
	}
	return int(min(int64(width), int64(s.done)*int64(width)/int64(s.total)))
}

// times returns the time fields: elapsed and ETA while running, the total
// time once finished or failed.
func (s snapshot) times() []string {
	switch s.state {
	case finished:
		return []string{"done in " + formatDuration(s.elapsed)}
	case failed:
		return []string{"failed after " + formatDuration(s.elapsed)}
	}
	out := []string{"elapsed " + formatDuration(s.elapsed)}
	if s.hasETA {
		out = append(out, "ETA "+formatDuration(s.eta))
	}
	return out
}

// formatDuration writes d rounded to whole seconds as m:ss under an hour and
// h:mm:ss from an hour on, for example "0:05", "12:34", "1:02:03". Negative
// durations read as "0:00".
func formatDuration(d time.Duration) string {
	sec := int64(d.Round(time.Second) / time.Second)
	if sec < 0 {
		sec = 0
	}
	h, m, s := sec/3600, sec/60%60, sec%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

// formatRate writes a rate with three significant digits (no more than the
// units digit for big rates): "57.1 it/s", "1234 it/s", and below one step a
// second as seconds per step, "2.50 s/it". An unknown rate is "? it/s".
func formatRate(r float64, unit string) string {
	if !(r > 0) || math.IsInf(r, 0) {
		return "? " + unit + "/s"
	}
	if r < 1 {
		return threeDigits(1/r) + " s/" + unit
	}
	return threeDigits(r) + " " + unit + "/s"
}

func threeDigits(x float64) string {
	switch {
	case x < 9.995:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case x < 99.95:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 0, 64)
}

// formatValue writes a metric with four significant digits ("0.3124",
// "2.303", "1.235e+04", "NaN").
func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', 4, 64)
}
