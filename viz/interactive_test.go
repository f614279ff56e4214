package viz

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/internal/displaytest"
	"github.com/graftml/graft/tensor"
)

// decodeFigureJSON returns the figure's interactive JSON as generic values.
func decodeFigureJSON(t *testing.T, f *Figure) map[string]any {
	t.Helper()
	raw := f.interactiveJSON()
	if raw == nil {
		t.Fatal("the figure has no interactive JSON")
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("interactive JSON does not parse: %v\n%s", err, raw)
	}
	return m
}

func TestNumbersAreShortFloat32AndNullForNonFinite(t *testing.T) {
	got, err := json.Marshal(numbers{0.1, 1, -2.5e-8, math.NaN(), math.Inf(1), 1e300, 123456789})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[0.1,1,-2.5e-08,null,null,null,1.2345679e+08]"; string(got) != want {
		t.Errorf("numbers marshal to %s, want %s", got, want)
	}
	if got, _ := json.Marshal(numbers(nil)); string(got) != "null" {
		t.Errorf("nil numbers marshal to %s", got)
	}
}

func TestLinesCarryTheirSeriesAxesAndNotes(t *testing.T) {
	f, err := Lines([]Series{
		{Name: "train", Y: []float64{3, 2, math.NaN(), 1}},
		{Name: "eval", X: []float64{2, 4}, Y: []float64{2.5, 1.5}, Dashed: true},
	}, LineOptions{Options: Options{Title: "loss <b>", XLabel: "step", LogY: true, XMin: 1, XMax: 4}})
	if err != nil {
		t.Fatal(err)
	}
	m := decodeFigureJSON(t, f)
	if m["version"] != 1.0 || m["kind"] != "lines" || m["title"] != "loss <b>" || m["width"] != 624.0 {
		t.Fatalf("header: version %v kind %v title %v width %v", m["version"], m["kind"], m["title"], m["width"])
	}
	x, y := m["x"].(map[string]any), m["y"].(map[string]any)
	if x["label"] != "step" || x["min"] != 1.0 || x["max"] != 4.0 || x["log"] != nil || y["log"] != true {
		t.Errorf("axes: x %v, y %v", x, y)
	}
	series := m["series"].([]any)
	train, eval := series[0].(map[string]any), series[1].(map[string]any)
	if train["name"] != "train" || train["color"] != "#0072B2" || eval["color"] != "#D55E00" || eval["dash"] != true {
		t.Errorf("series: %v / %v", train, eval)
	}
	wantY := []any{3.0, 2.0, nil, 1.0}
	gotY := train["y"].([]any)
	for i := range wantY {
		if gotY[i] != wantY[i] {
			t.Errorf("train y = %v, want %v", gotY, wantY)
			break
		}
	}
	if xs := train["x"].([]any); xs[0] != 1.0 || xs[3] != 4.0 {
		t.Errorf("train x = %v, want 1…4 (Lines' default)", xs)
	}
	notes, _ := m["notes"].([]any)
	if len(notes) != 1 || !strings.Contains(notes[0].(string), "train") {
		t.Errorf("notes = %v, want the skipped NaN counted for train", notes)
	}
}

func TestLinesKeepTheirValuesWhenTheCallerReusesItsSlices(t *testing.T) {
	ys := []float64{1, 2, 3}
	f, err := Lines([]Series{{Name: "loss", Y: ys}}, LineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ys[0] = 99 // a loop overwriting its buffer while a live frame is encoded
	if got := decodeFigureJSON(t, f)["series"].([]any)[0].(map[string]any)["y"].([]any); got[0] != 1.0 {
		t.Errorf("y[0] = %v after the caller changed its slice, want 1", got[0])
	}
}

func TestSmoothedLinesSendTheRawValuesAsAFaintSeries(t *testing.T) {
	f, err := Lines([]Series{{Name: "loss", Y: []float64{4, 2, 3, 1}}}, LineOptions{Smooth: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	series := decodeFigureJSON(t, f)["series"].([]any)
	raw, smooth := series[0].(map[string]any), series[1].(map[string]any)
	if raw["name"] != "loss (raw)" || raw["color"] != "#0072B240" || raw["y"].([]any)[1] != 2.0 {
		t.Errorf("raw series %v", raw)
	}
	// The debiased EMA: 4, (0.5·4·0.5+0.5·2)/(0.75) = 2.6666667.
	if smooth["name"] != "loss" || smooth["y"].([]any)[1] != 2.6666667 {
		t.Errorf("smoothed series %v", smooth)
	}
}

func TestScatterCarriesClassesDomainsNamesAndIndices(t *testing.T) {
	pts := tensor.New([]float32{0, 0, 1, 1, 2, 0.5, float32(math.NaN()), 1}, 4, 2)
	f, err := Scatter(pts, ScatterOptions{Labels: []int{0, 1, 1, 0}, Domains: []int{0, 0, 1, 1},
		ClassNames: []string{"cat", "dog"}, PointNames: []string{"a.png", "b.png", "<img src=x>", "d.png"}})
	if err != nil {
		t.Fatal(err)
	}
	m := decodeFigureJSON(t, f)
	p := m["points"].(map[string]any)
	if got := p["x"].([]any); len(got) != 4 || got[2] != 2.0 || got[3] != nil {
		t.Errorf("points x = %v", got)
	}
	if got := p["label"].([]any); got[2] != "<img src=x>" {
		t.Errorf("labels = %v", got)
	}
	if got, ok := p["index"]; ok {
		t.Errorf("index = %v, want it left out: each point is its own row", got)
	}
	if c, d := m["classes"].([]any), m["domains"].([]any); c[1] != "dog" || d[0] != "source" || d[1] != "target" {
		t.Errorf("classes %v, domains %v", c, d)
	}
	if _, err := Scatter(pts, ScatterOptions{PointNames: []string{"one"}}); err == nil || !strings.Contains(err.Error(), "1 point names for 4 points") {
		t.Errorf("mismatched names: %v", err)
	}
}

func TestEmbeddingIndicesPointAtTheUsersRows(t *testing.T) {
	x := tensor.New([]float32{0, 0, float32(math.Inf(1)), 1, 2, 2, 3, 1}, 4, 2)
	f, err := Embedding(x, EmbeddingOptions{Method: "none", ScatterOptions: ScatterOptions{PointNames: []string{"a", "b", "c", "d"}}})
	if err != nil {
		t.Fatal(err)
	}
	p := decodeFigureJSON(t, f)["points"].(map[string]any)
	idx, names := p["index"].([]any), p["label"].([]any)
	if len(idx) != 3 || idx[1] != 2.0 || names[1] != "c" {
		t.Errorf("index %v names %v, want rows 0, 2, 3", idx, names)
	}
}

func TestLargeScattersAreSampledForTheExtension(t *testing.T) {
	n := MaxInteractivePoints + MaxInteractivePoints/2
	xs, ys := make([]float64, n), make([]float64, n)
	for i := range xs {
		xs[i] = float64(i)
	}
	j := scatterJSON(xs, ys, nil, nil, nil, nil, ScatterOptions{})
	if len(j.Points.X) != MaxInteractivePoints || len(j.Points.Index) != MaxInteractivePoints {
		t.Fatalf("%d points sent, want %d", len(j.Points.X), MaxInteractivePoints)
	}
	// Evenly spaced: point i is row ⌊i·n/max⌋ = ⌊1.5·i⌋.
	if j.Points.X[3] != 4 || j.Points.Index[3] != 4 || j.Points.Index[MaxInteractivePoints-1] != n-2 {
		t.Errorf("sample rows %v … %v", j.Points.Index[:4], j.Points.Index[MaxInteractivePoints-1])
	}
	if len(j.Notes) != 1 || !strings.Contains(j.Notes[0], "200000 of 300000") {
		t.Errorf("notes %v", j.Notes)
	}
}

func TestHeatmapCarriesCellsRangeAndColourStops(t *testing.T) {
	f, err := Heatmap(tensor.New([]float32{1, 2, 3, float32(math.NaN()), 5, 6}, 2, 3),
		HeatmapOptions{RowLabels: []string{"r0", "r1"}, Values: true})
	if err != nil {
		t.Fatal(err)
	}
	m := decodeFigureJSON(t, f)
	c := m["cells"].(map[string]any)
	if c["rows"] != 2.0 || c["cols"] != 3.0 || c["min"] != 1.0 || c["max"] != 6.0 || c["colormap"] != "viridis" || c["annotate"] != true {
		t.Errorf("cells header %v", c)
	}
	if v := c["values"].([]any); v[3] != nil || v[5] != 6.0 {
		t.Errorf("values %v", v)
	}
	stops := c["stops"].([]any)
	if len(stops) != 9 || stops[0] != hexColour(viridis.at(0)) || stops[8] != hexColour(viridis.at(1)) {
		t.Errorf("stops %v", stops)
	}
}

func TestGridsNestTheirPanelsAndBarsHaveNone(t *testing.T) {
	a, _ := Lines([]Series{{Name: "a", Y: []float64{1, 2}}}, LineOptions{})
	b, _ := Lines([]Series{{Name: "b", Y: []float64{2, 1}}}, LineOptions{})
	g, err := Grid(2, a, b)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeFigureJSON(t, g)
	if panels := m["panels"].([]any); m["kind"] != "grid" || m["cols"] != 2.0 || len(panels) != 2 || panels[1].(map[string]any)["kind"] != "lines" {
		t.Errorf("grid %v cols %v panels %v", m["kind"], m["cols"], m["panels"])
	}
	bars, err := Bars([]string{"x"}, []BarGroup{{Values: []float64{1}}}, BarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if bars.interactiveJSON() != nil {
		t.Error("bars carry interactive JSON, which the extension does not draw")
	}
	mixed, err := Grid(2, a, bars)
	if err != nil {
		t.Fatal(err)
	}
	if mixed.interactiveJSON() != nil {
		t.Error("a grid with a bar chart carries interactive JSON")
	}
	bundle := a.Display()
	if _, ok := bundle.Data[MIMEFigure].(json.RawMessage); !ok || bundle.Data[display.MIMEPNG] == nil || bundle.Data[display.MIMESVG] == nil {
		t.Errorf("a line plot's bundle has %d entries, without the interactive JSON, PNG or SVG", len(bundle.Data))
	}
	a.opt.Formats = []string{"png"}
	if _, ok := a.Display().Data[MIMEFigure]; ok {
		t.Error("Formats png still carries the interactive JSON")
	}
}

func TestLiveFramesAreNumberedFromZero(t *testing.T) {
	rec := displaytest.Install(t)
	live := &Live{MinInterval: time.Millisecond, Budget: 1}
	var ys []float64
	deadline := time.Now().Add(20 * time.Second)
	for live.Redraws() < 3 && time.Now().Before(deadline) {
		ys = append(ys, float64(len(ys)))
		if live.Due() {
			live.Show(Lines([]Series{{Name: "loss", Y: ys}}, LineOptions{}))
		}
		time.Sleep(time.Millisecond)
	}
	live.Close(Lines([]Series{{Name: "loss", Y: ys}}, LineOptions{}))
	frames := figureFrames(t, rec)
	if len(frames) < 4 || len(frames) != live.Redraws() {
		t.Fatalf("%d frames carried the JSON after %d redraws", len(frames), live.Redraws())
	}
	for i, f := range frames {
		if f["frame"] != float64(i) || (f["final"] == true) != (i == len(frames)-1) {
			t.Fatalf("frame %d is numbered %v, final %v", i, f["frame"], f["final"])
		}
	}
	if got := frames[len(frames)-1]["series"].([]any)[0].(map[string]any)["y"].([]any); len(got) != len(ys) {
		t.Errorf("the final frame has %d points, want %d", len(got), len(ys))
	}
}

// figureFrames returns the interactive JSON of every output published.
func figureFrames(t *testing.T, rec *displaytest.Recorder) []map[string]any {
	t.Helper()
	bundles, _, _ := rec.Outputs()
	var frames []map[string]any
	for _, b := range bundles {
		raw, ok := b.Data[MIMEFigure].(json.RawMessage)
		if !ok {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, m)
	}
	return frames
}

func TestTheTrackerIsADashboard(t *testing.T) {
	rec := displaytest.Install(t)
	tr := NewTracker(TrackerOptions{Total: 40, Description: "dann"})
	for s := 1; s <= 40; s++ {
		tr.Log(s, map[string]float64{"loss": 1 / float64(s), "acc": float64(s) / 40})
	}
	time.Sleep(5 * time.Millisecond) // a measurable elapsed time
	tr.Done()
	frames := figureFrames(t, rec)
	if len(frames) == 0 {
		t.Fatal("no frame carried the JSON")
	}
	last := frames[len(frames)-1]
	if last["kind"] != "dashboard" || len(last["panels"].([]any)) != 2 || last["cols"] != 2.0 {
		t.Fatalf("final frame kind %v with panels %v", last["kind"], last["panels"])
	}
	metrics := last["metrics"].([]any)
	acc := metrics[0].(map[string]any)
	if acc["name"] != "acc" || acc["value"] != 1.0 || metrics[1].(map[string]any)["value"] != 0.025 {
		t.Errorf("metrics %v", metrics)
	}
	for _, p := range last["panels"].([]any) {
		if x := p.(map[string]any)["x"].(map[string]any); x["max"] != 40.0 || x["label"] != "step" {
			t.Errorf("a panel's step axis is %v, want it to end at the run's 40 steps", x)
		}
	}
	prog := last["progress"].(map[string]any)
	if prog["step"] != 40.0 || prog["total"] != 40.0 || prog["done"] != true || prog["description"] != "dann" || prog["elapsed"].(float64) < 0.005 {
		t.Errorf("progress %v", prog)
	}
}

func TestLargeScattersLeaveOutSVGUnlessAsked(t *testing.T) {
	pts := tensor.Randn(tensor.NewRNG(1), MaxSVGPoints+1, 2)
	f, err := Scatter(pts, ScatterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.wants("svg") || !f.wants("png") || !f.wants("interactive") {
		t.Errorf("a scatter of %d points wants svg %v, png %v, interactive %v; want png and interactive only", MaxSVGPoints+1, f.wants("svg"), f.wants("png"), f.wants("interactive"))
	}
	if f, _ := Scatter(pts, ScatterOptions{Options: Options{Formats: []string{"svg"}}}); !f.wants("svg") {
		t.Error("Formats svg was overridden")
	}
	if f, _ := Scatter(tensor.Randn(tensor.NewRNG(1), MaxSVGPoints, 2), ScatterOptions{}); !f.wants("svg") {
		t.Errorf("a scatter of %d points leaves out svg", MaxSVGPoints)
	}
}
