package tta_test

import (
	"strings"
	"testing"

	"github.com/graftml/graft/da/tta"
	"github.com/graftml/graft/data"
	"github.com/graftml/graft/display"
	"github.com/graftml/graft/tensor"
)

// TestStream checks the batches of a stream and its errors.
func TestStream(t *testing.T) {
	x := tensor.Arange(0, 2*1*2*2*65, 1).Reshape(130, 1, 2, 2)
	labels := make([]int, 130)
	for i := range labels {
		labels[i] = i % 3
	}
	ds, _ := data.New("tiny", x, labels, nil)
	s, err := tta.NewStream(ds, []tta.Corruption{tta.Clean(), tta.Brightness(1), tta.Contrast(0)}, tta.StreamOptions{BatchSize: 32, Samples: 65, Seed: 3, ByClass: true})
	if err != nil {
		t.Fatal(err)
	}
	// 65 = 32 + 33: the last single example joins the batch before it.
	if len(s.Batches) != 6 || s.Batches[1].X.Dim(0) != 33 || strings.Join(s.Corruptions, ",") != "clean,brightness +1,contrast 0" {
		t.Fatalf("stream %v with batches of %d and %d", s, s.Batches[0].X.Dim(0), s.Batches[1].X.Dim(0))
	}
	for bi, b := range s.Batches {
		prev := -1
		for i, l := range b.Labels {
			if l < prev && bi%2 == 0 {
				t.Errorf("batch %d is not in class order: %v", bi, b.Labels)
			}
			prev = l
			// Each row is its dataset example, corrupted: clean rows hold 4 consecutive values.
			row := b.X.Data()[i*4 : i*4+4]
			switch b.Corruption {
			case "clean":
				if row[1] != row[0]+1 || int(row[0])/4%3 != l {
					t.Errorf("clean row %v with label %d is not a dataset example", row, l)
				}
			case "brightness +1":
				if int(row[0]-1)/4%3 != l {
					t.Errorf("brightened row %v with label %d", row, l)
				}
			case "contrast 0":
				if row[0] != row[3] {
					t.Errorf("contrast 0 leaves row %v unequal", row)
				}
			}
		}
	}
	vec, _ := data.New("vec", tensor.Zeros(10, 3), make([]int, 10), nil)
	for _, c := range []struct {
		ds   *data.Dataset
		cs   []tta.Corruption
		want string
	}{
		{vec, []tta.Corruption{tta.Blur(1)}, `"blur 1" needs images`},
		{vec, nil, "no corruptions"},
		{&data.Dataset{Name: "unlabelled", X: tensor.Zeros(4, 2)}, []tta.Corruption{tta.Clean()}, "0 labels for 4 examples"},
		{vec, []tta.Corruption{{Name: "odd"}}, `("odd") has no Apply`},
	} {
		if _, err := tta.NewStream(c.ds, c.cs, tta.StreamOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
}

// TestReport checks the table, the figure and the display of a report.
func TestReport(t *testing.T) {
	r := &tta.Report{Title: "demo"}
	r.Add(&tta.Result{Method: "Source", Mode: tta.Episodic, Corruptions: []string{"a", "b"}, Accuracy: []float64{0.5, 0.25}, Mean: 0.375,
		BatchAccuracy: []float64{0.5, 0.5, 0.25}, BatchCorruption: []string{"a", "a", "b"}})
	r.Add(&tta.Result{Method: "Tent", Mode: tta.Continual, Corruptions: []string{"a", "b"}, Accuracy: []float64{0.75, 1}, Mean: 0.875,
		BatchAccuracy: []float64{0.5, 1, 1}, BatchCorruption: []string{"a", "a", "b"}})
	text := r.String()
	for _, want := range []string{"demo — accuracy %", "method", "mean", "Source", "episodic", "37.5", "Tent", "continual", "87.5", "100"} {
		if !strings.Contains(text, want) {
			t.Errorf("report text lacks %q:\n%s", want, text)
		}
	}
	if r.Find("Tent", tta.Continual) != r.Results[1] || r.Find("Tent", tta.Episodic) != nil {
		t.Error("Find picks the wrong result")
	}
	if a, err := r.Results[1].AccuracyOn("b"); err != nil || a != 1 {
		t.Errorf("AccuracyOn(b) = %g, %v", a, err)
	}
	if _, err := r.Results[1].AccuracyOn("c"); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("AccuracyOn(c): %v", err)
	}
	b := r.Display()
	htm, _ := b.Data[display.MIMEHTML].(string)
	if !strings.Contains(htm, "<table") || !strings.Contains(htm, "data:image/png;base64,") || b.Text() != text {
		t.Errorf("display bundle: html %.200q…, text %q", htm, b.Text())
	}
	if f, err := r.Figure(); err != nil || f.Marks() == 0 {
		t.Errorf("figure: %v", err)
	}
}
