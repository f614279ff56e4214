package viz

import (
	"math"
	"testing"

	"github.com/graftml/graft/tensor"
)

// benchScatter is a 10,000-point scatter in 4 classes and 2 domains.
func benchScatter(b *testing.B) *Figure {
	n := 10000
	data := make([]float32, 2*n)
	labels, domains := make([]int, n), make([]int, n)
	for i := range n {
		labels[i], domains[i] = i%4, (i/4)%2
		a := float64(i) * 2.39996
		r := math.Sqrt(float64(i) / float64(n))
		data[2*i] = float32(r*math.Cos(a) + float64(labels[i]))
		data[2*i+1] = float32(r*math.Sin(a) + float64(domains[i]))
	}
	f, err := Scatter(tensor.New(data, n, 2), ScatterOptions{Labels: labels, Domains: domains})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// benchHeatmap is a 200×200 heatmap.
func benchHeatmap(b *testing.B) *Figure {
	n := 200
	data := make([]float32, n*n)
	for i := range data {
		data[i] = float32(math.Sin(float64(i%n)*0.05) * math.Cos(float64(i/n)*0.03))
	}
	f, err := Heatmap(tensor.New(data, n, n), HeatmapOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func benchPNG(b *testing.B, make func(*testing.B) *Figure) {
	for b.Loop() {
		if _, err := make(b).PNG(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSVG(b *testing.B, make func(*testing.B) *Figure) {
	size := 0
	for b.Loop() {
		svg, err := make(b).SVG()
		if err != nil {
			b.Fatal(err)
		}
		size = len(svg)
	}
	b.ReportMetric(float64(size), "svg-bytes")
}

// BenchmarkScatter10kPNG builds and renders a 10,000-point scatter as PNG.
func BenchmarkScatter10kPNG(b *testing.B) { benchPNG(b, benchScatter) }

// BenchmarkScatter10kSVG builds and renders a 10,000-point scatter as SVG.
func BenchmarkScatter10kSVG(b *testing.B) { benchSVG(b, benchScatter) }

// BenchmarkHeatmap200PNG builds and renders a 200×200 heatmap as PNG.
func BenchmarkHeatmap200PNG(b *testing.B) { benchPNG(b, benchHeatmap) }

// BenchmarkHeatmap200SVG builds and renders a 200×200 heatmap as SVG.
func BenchmarkHeatmap200SVG(b *testing.B) { benchSVG(b, benchHeatmap) }
