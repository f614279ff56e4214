package project

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkTSNE2000x64 times one whole t-SNE (1000 iterations, perplexity
// 30, PCA init) of 2,000 points in 64-D drawn around 10 centres, like the
// 8×8 digits, with each method.
func BenchmarkTSNE2000x64(b *testing.B) {
	x, _ := blobs(2000, 64, 10, 1.5, 1)
	for _, method := range []string{MethodExact, MethodBarnesHut} {
		b.Run(method, func(b *testing.B) {
			var kl float64
			for b.Loop() {
				r, err := TSNEWithInfo(context.Background(), x, TSNEOptions{Method: method})
				if err != nil {
					b.Fatal(err)
				}
				kl = r.KL
			}
			b.ReportMetric(kl, "KL")
		})
	}
}

// BenchmarkTSNEMethods times both methods at the sizes around the point
// where Method "auto" switches from exact to Barnes-Hut (autoExactMax).
func BenchmarkTSNEMethods(b *testing.B) {
	for _, n := range []int{300, 400, 500, 600, 1000} {
		x, _ := blobs(n, 64, 10, 1.5, 1)
		for _, method := range []string{MethodExact, MethodBarnesHut} {
			b.Run(fmt.Sprintf("%s/%d", method, n), func(b *testing.B) {
				for b.Loop() {
					if _, err := TSNE(context.Background(), x, TSNEOptions{Method: method}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPCA times FitPCA and the projection of the data onto 2
// components, for a tall and a wide data set.
func BenchmarkPCA(b *testing.B) {
	for _, s := range []struct{ n, d int }{{2000, 64}, {5000, 256}, {300, 2000}} {
		x, _ := blobs(s.n, s.d, 10, 1.5, 1)
		b.Run(fmt.Sprintf("%dx%d", s.n, s.d), func(b *testing.B) {
			for b.Loop() {
				if _, err := PCA(x, 2); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
