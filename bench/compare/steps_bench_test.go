package main

import (
	"testing"

	"github.com/graftml/graft/tensor"
)

// The graft sides of the mlp, cnn and transformer comparisons as Go
// benchmarks, for profiles and allocation counts:
//
//	go test ./bench/compare -run - -bench Step -benchmem -cpuprofile cpu.prof
//
// A step releases its graph (tensor.Release), so once warm it should
// allocate no large buffers: B/op stays far below the activations' size.

// benchStep times one benchmark's training step after three warm-up steps.
func benchStep(b *testing.B, build func(r *tensor.RNG) (func() float32, error)) {
	step, err := build(tensor.NewRNG(1))
	if err != nil {
		b.Fatal(err)
	}
	for range 3 {
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		step()
	}
}

func BenchmarkMLPStep(b *testing.B)         { benchStep(b, graftMLP) }
func BenchmarkCNNStep(b *testing.B)         { benchStep(b, graftCNN) }
func BenchmarkTransformerStep(b *testing.B) { benchStep(b, graftTransformer) }
