package viz

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
)

// MIMEFigure is the MIME type of a figure's data for graft's notebook
// extension: the series, points or cells with the axes and notes, as JSON,
// which the extension draws interactively (hover, zoom, legend toggles, log
// scale, live appends). A figure's display carries it beside the PNG and SVG,
// never instead of them: a frontend without the extension shows the image.
//
// The JSON is one object. Every figure has "version" (FigureJSONVersion),
// "kind", "width" and "height" (CSS pixels), and may have "title", "notes"
// (caption lines), "frame" (the update number of a live figure, from 0) and
// "final" (true on the last frame, whose axes need no room to grow), the
// axes "x" and "y" ({"label", "log", "min", "max"}; min and max only
// when fixed). Numbers that are NaN or infinite are null. By kind:
//
//   - "lines": "series", each {"name", "x", "y", "color" (#RRGGBB or
//     #RRGGBBAA), "dash", "band" (half-widths of a shaded band)}; smoothed
//     series come with their raw values as a translucent series "NAME (raw)".
//   - "scatter": "points" {"x", "y", "class", "domain", "label" (a name per
//     point), "index" (each point's row in the user's data, when it is not
//     its position)}, "classes" and "colors" (a name and colour per class
//     id), "domains" (a name per domain id).
//   - "heatmap": "cells" {"rows", "cols", "values" (row by row), "rowLabels",
//     "colLabels", "colormap" (its name), "stops" (nine evenly spaced colours
//     of the map), "min", "max", "annotate"}.
//   - "grid": "panels" (figures) in "cols" columns.
//   - "dashboard": a training dashboard: "panels" and "cols" as a grid,
//     "metrics" (latest values, [{"name", "value"}]) and "progress" {"step",
//     "total", "elapsed" (seconds), "rate" (steps per second), "done",
//     "description"}.
//
// A renderer takes whatever it gets: it draws what it understands of a newer
// version or a broken object and says what it left out.
const MIMEFigure = "application/vnd.graft.figure+json"

// FigureJSONVersion is the version of the JSON under MIMEFigure. A renderer
// that meets a higher version draws what it understands and says so.
const FigureJSONVersion = 1

// MaxInteractivePoints bounds the points of one figure's JSON: a larger
// scatter is sent as an evenly spaced sample of this many points, with a
// note, so that a notebook file and the browser stay responsive. The PNG
// still draws every point.
const MaxInteractivePoints = 200_000

// figureJSON is the JSON under MIMEFigure. Common fields (version, title,
// size, axes, notes, frame) are filled when the figure is displayed; the
// constructors fill their kind's data.
type figureJSON struct {
	Version  int           `json:"version"`
	Kind     string        `json:"kind"`
	Title    string        `json:"title,omitempty"`
	Width    int           `json:"width,omitempty"`
	Height   int           `json:"height,omitempty"`
	Frame    *int          `json:"frame,omitempty"`
	Final    bool          `json:"final,omitempty"`
	Notes    []string      `json:"notes,omitempty"`
	X        *axisJSON     `json:"x,omitempty"`
	Y        *axisJSON     `json:"y,omitempty"`
	Series   []seriesJSON  `json:"series,omitempty"`
	Points   *pointsJSON   `json:"points,omitempty"`
	Classes  []string      `json:"classes,omitempty"`
	Domains  []string      `json:"domains,omitempty"`
	Colors   []string      `json:"colors,omitempty"`
	Cells    *cellsJSON    `json:"cells,omitempty"`
	Panels   []*figureJSON `json:"panels,omitempty"`
	Cols     int           `json:"cols,omitempty"`
	Metrics  []metricJSON  `json:"metrics,omitempty"`
	Progress *progressJSON `json:"progress,omitempty"`
}

type axisJSON struct {
	Label string   `json:"label,omitempty"`
	Log   bool     `json:"log,omitempty"`
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
}

type seriesJSON struct {
	Name  string  `json:"name"`
	X     numbers `json:"x"`
	Y     numbers `json:"y"`
	Color string  `json:"color"`
	Dash  bool    `json:"dash,omitempty"`
	Band  numbers `json:"band,omitempty"`
}

type pointsJSON struct {
	X      numbers  `json:"x"`
	Y      numbers  `json:"y"`
	Class  []int    `json:"class,omitempty"`
	Domain []int    `json:"domain,omitempty"`
	Label  []string `json:"label,omitempty"`
	Index  []int    `json:"index,omitempty"`
}

type cellsJSON struct {
	Rows      int      `json:"rows"`
	Cols      int      `json:"cols"`
	Values    numbers  `json:"values"`
	RowLabels []string `json:"rowLabels,omitempty"`
	ColLabels []string `json:"colLabels,omitempty"`
	Colormap  string   `json:"colormap"`
	Stops     []string `json:"stops,omitempty"`
	Min       float64  `json:"min"`
	Max       float64  `json:"max"`
	Annotate  bool     `json:"annotate,omitempty"`
}

type metricJSON struct {
	Name  string  `json:"name"`
	Value *number `json:"value"`
}

type progressJSON struct {
	Step        int     `json:"step"`
	Total       int     `json:"total,omitempty"`
	Elapsed     float64 `json:"elapsed"`
	Rate        float64 `json:"rate"`
	Done        bool    `json:"done"`
	Description string  `json:"description,omitempty"`
}

// numbers marshals as a JSON array with null for NaN and ±Inf (JSON has no
// such numbers), each value in the shortest form that reads back as the
// same float32: a figure needs no more, and the JSON stays about half the
// size.
type numbers []float64

// MarshalJSON implements json.Marshaler.
func (v numbers) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 2+len(v)*10)
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendNumber(b, x)
	}
	return append(b, ']'), nil
}

// number is one value of numbers, for a field that may be NaN.
type number float64

// MarshalJSON implements json.Marshaler.
func (x number) MarshalJSON() ([]byte, error) { return appendNumber(nil, float64(x)), nil }

func appendNumber(b []byte, x float64) []byte {
	if !finite(x) || math.Abs(x) > math.MaxFloat32 {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, float64(float32(x)), 'g', -1, 32)
}

// hexColour is c as #RRGGBB, or #RRGGBBAA when it is translucent.
func hexColour(c color.NRGBA) string {
	if c.A == 0xFF {
		return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B)
	}
	return fmt.Sprintf("#%02X%02X%02X%02X", c.R, c.G, c.B, c.A)
}

// interactiveJSON returns the figure's JSON for MIMEFigure, or nil for a
// figure that has none (a kind the extension does not draw, or a grid with
// such a tile).
func (f *Figure) interactiveJSON() []byte {
	j := f.fullJSON()
	if j == nil {
		return nil
	}
	j.Frame, j.Final = f.frame, f.final
	b, err := json.Marshal(j)
	if err != nil {
		return nil
	}
	return b
}

// fullJSON is the figure's kind data completed with the common fields.
func (f *Figure) fullJSON() *figureJSON {
	var j figureJSON
	switch {
	case f.tiles != nil:
		j = figureJSON{Kind: "grid", Cols: f.cols, Title: f.opt.Title}
		for _, t := range f.tiles {
			p := t.fullJSON()
			if p == nil {
				return nil
			}
			j.Panels = append(j.Panels, p)
		}
	case f.data != nil:
		j = *f.data
		if f.plot != nil {
			j.Title = f.plot.Title.Text
			j.X, j.Y = axisOf(&f.plot.X, f.opt.LogX, f.opt.XMin, f.opt.XMax), axisOf(&f.plot.Y, f.opt.LogY, f.opt.YMin, f.opt.YMax)
		}
	default:
		return nil
	}
	j.Version = FigureJSONVersion
	w, h := f.inches()
	j.Width, j.Height = int(math.Round(w*96)), int(math.Round(h*96))
	j.Notes = append(append([]string(nil), j.Notes...), f.notes...)
	if f.board == nil {
		return &j
	}
	board := *f.board
	board.Version, board.Kind, board.Width, board.Height = j.Version, "dashboard", j.Width, j.Height
	board.Title, board.Notes = j.Title, j.Notes
	if j.Kind == "grid" {
		board.Panels, board.Cols = j.Panels, j.Cols
	} else {
		j.Notes = nil
		board.Panels, board.Cols = []*figureJSON{&j}, 1
	}
	// With the run's length known, the panels' step axes span all of it:
	// each update then only adds points to what is drawn.
	if p := board.Progress; p != nil && p.Total > 0 {
		end := float64(p.Total)
		for _, panel := range board.Panels {
			if panel.X != nil && panel.X.Max == nil && !panel.X.Log {
				panel.X.Max = &end
			}
		}
	}
	return &board
}

// axisOf describes a plot axis: its label, scale and a range fixed in the
// options (lo and hi differ).
func axisOf(a *plot.Axis, log bool, lo, hi float64) *axisJSON {
	ax := &axisJSON{Label: a.Label.Text, Log: log}
	if lo != hi {
		ax.Min, ax.Max = &lo, &hi
	}
	return ax
}

// linesJSON is the data of a line plot: the series as drawn (smoothed
// values, with the raw ones as a faint series of their own).
func linesJSON(series []seriesJSON) *figureJSON {
	return &figureJSON{Kind: "lines", Series: series}
}

// scatterJSON is the data of a scatter of xs, ys with optional classes,
// domains, per-point labels and rows in the user's data (nil: each point's
// position, which the JSON leaves out), sampled down to
// MaxInteractivePoints.
func scatterJSON(xs, ys []float64, classes, domains []int, labels []string, index []int, opt ScatterOptions) *figureJSON {
	n := len(xs)
	// The caller's slices are copied: a figure may be encoded later.
	pts := &pointsJSON{X: xs, Y: ys, Class: slices.Clone(classes), Domain: slices.Clone(domains), Label: slices.Clone(labels), Index: slices.Clone(index)}
	j := &figureJSON{Kind: "scatter", Points: pts}
	if n > MaxInteractivePoints {
		if index == nil {
			index = make([]int, n)
			for i := range index {
				index[i] = i
			}
		}
		keep := make([]int, MaxInteractivePoints)
		for i := range keep {
			keep[i] = int(int64(i) * int64(n) / MaxInteractivePoints)
		}
		pts.X, pts.Y = pickFloats(xs, keep), pickFloats(ys, keep)
		pts.Class, pts.Domain, pts.Index = pick(classes, keep), pick(domains, keep), pick(index, keep)
		if labels != nil {
			pts.Label = make([]string, len(keep))
			for i, k := range keep {
				pts.Label[i] = labels[k]
			}
		}
		j.Notes = []string{fmt.Sprintf("interactive view shows %d of %d points, evenly spaced; the image shows all", MaxInteractivePoints, n)}
	}
	if classes != nil {
		top := -1
		for _, c := range classes {
			top = max(top, c)
		}
		for k := 0; k <= top; k++ {
			j.Classes = append(j.Classes, nameOr(opt.ClassNames, k, fmt.Sprintf("class %d", k)))
			j.Colors = append(j.Colors, hexColour(classColour(k)))
		}
	}
	if domains != nil {
		top := -1
		for _, d := range domains {
			top = max(top, d)
		}
		for k := 0; k <= top; k++ {
			j.Domains = append(j.Domains, domainName(opt.DomainNames, k, top+1))
		}
	}
	return j
}

// nameOr returns names[k], or def when names has no such entry.
func nameOr(names []string, k int, def string) string {
	if k >= 0 && k < len(names) {
		return names[k]
	}
	return def
}

func pickFloats(v []float64, keep []int) []float64 {
	out := make([]float64, len(keep))
	for i, k := range keep {
		out[i] = v[k]
	}
	return out
}

// heatmapJSON is the data of a heatmap: the values row by row, their
// labels, and the colour scale as its range and evenly spaced stops.
func heatmapJSON(data []float64, rows, cols int, opt HeatmapOptions, cmap colormap, lo, hi float64) *figureJSON {
	name := opt.Colormap
	if name == "" {
		name = "viridis"
	}
	c := &cellsJSON{Rows: rows, Cols: cols, Values: data, RowLabels: slices.Clone(opt.RowLabels), ColLabels: slices.Clone(opt.ColLabels),
		Colormap: name, Min: lo, Max: hi, Annotate: opt.Values && rows <= maxValueCells && cols <= maxValueCells}
	const stops = 9
	for i := range stops {
		c.Stops = append(c.Stops, hexColour(cmap.at(float64(i)/(stops-1))))
	}
	return &figureJSON{Kind: "heatmap", Cells: c}
}
