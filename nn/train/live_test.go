package train

import (
	"bytes"
	"context"
	"image/png"
	"strings"
	"testing"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/internal/displaytest"
)

func TestLiveRunShowsABarAndAFigureInPlace(t *testing.T) {
	rec := displaytest.Install(t)

	cfg, _ := baseConfig(t)
	cfg.Eval = regression(32, 2)
	cfg.EvalEvery = 4
	cfg.Epochs = 20 // 80 steps
	cfg.Live = true
	hist, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Two outputs, each under one display id: the progress bar (HTML) and
	// the figure (PNG).
	bundles, published, updates := rec.Outputs()
	byID := map[string][]int{}
	var order []string
	for i, id := range published {
		if _, ok := byID[id]; !ok {
			order = append(order, id)
		}
		byID[id] = append(byID[id], i)
	}
	if len(order) != 2 {
		t.Fatalf("%d display ids published, want 2 (bar and figure): %v", len(order), published)
	}
	var bar, fig []int
	for _, id := range order {
		if _, ok := bundles[byID[id][0]].Data[display.MIMEHTML]; ok {
			bar = byID[id]
		} else {
			fig = byID[id]
		}
	}
	if bar == nil || fig == nil {
		t.Fatal("no bar or no figure among the outputs")
	}
	for _, ix := range [][]int{bar, fig} {
		for k, i := range ix {
			if updates[i] != (k > 0) {
				t.Errorf("publish %d: update %v; an output is shown once and then updated", i, updates[i])
			}
		}
	}
	last := bundles[bar[len(bar)-1]].Text()
	if !strings.Contains(last, "80/80") || !strings.Contains(last, "100%") || !strings.Contains(last, "eval_loss") {
		t.Errorf("final bar %q", last)
	}
	final := bundles[fig[len(fig)-1]]
	if _, ok := final.Data[display.MIMESVG]; !ok {
		t.Error("the final figure lacks SVG")
	}
	img, err := png.Decode(bytes.NewReader(final.Data[display.MIMEPNG].([]byte)))
	if err != nil || img.Bounds().Dx() < 100 {
		t.Errorf("final figure PNG: %v", err)
	}
	if hist.Len() != 80 {
		t.Errorf("history of %d steps", hist.Len())
	}
}

func TestHistoryDisplaysAFigureWithItsTableAsText(t *testing.T) {
	cfg, _ := baseConfig(t)
	cfg.Eval = regression(32, 2)
	hist, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := hist.Display()
	if b.Text() != hist.String() {
		t.Errorf("text form %q, want the table", b.Text())
	}
	if _, err := png.Decode(bytes.NewReader(b.Data[display.MIMEPNG].([]byte))); err != nil {
		t.Errorf("PNG: %v", err)
	}
	if got := (&History{}).Display(); got.Data[display.MIMEPNG] != nil || got.Text() != (&History{}).String() {
		t.Errorf("an empty history shows %v", got.Data)
	}
}
