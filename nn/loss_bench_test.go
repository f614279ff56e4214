package nn

import (
	"fmt"
	"testing"

	"github.com/graftml/graft/tensor"
)

// BenchmarkCrossEntropy times forward+backward of the default cross-entropy
// (class labels, mean) for a small and a large classifier head.
func BenchmarkCrossEntropy(b *testing.B) {
	for _, s := range [][2]int{{128, 10}, {2048, 1000}} {
		r := tensor.NewRNG(1)
		logits := tensor.Randn(r, s[0], s[1]).SetRequiresGrad(true)
		labels := make([]int, s[0])
		for i := range labels {
			labels[i] = (i * 7) % s[1]
		}
		b.Run(fmt.Sprintf("%dx%d", s[0], s[1]), func(b *testing.B) {
			for b.Loop() {
				CrossEntropy(logits, labels).Backward()
			}
		})
	}
}
