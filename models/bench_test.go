package models_test

import (
	"testing"

	"github.com/graftml/graft/models"
	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// BenchmarkResNet20Step is one training step of ResNet-20 (option A) on a
// batch of 32 CIFAR-sized images: forward, cross-entropy, backward.
func BenchmarkResNet20Step(b *testing.B) {
	r := tensor.NewRNG(1)
	m, _ := models.NewResNet(models.ResNetConfig{}, r)
	x := tensor.Randn(r, 32, 3, 32, 32)
	labels := make([]int, 32)
	for i := range labels {
		labels[i] = i % 10
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		nn.ZeroGrad(m)
		nn.CrossEntropy(m.Forward(x), labels).Backward()
	}
}

// BenchmarkLeNetStep is one training step of LeNet-5 on 64 MNIST-sized
// images (28×28, padding 2).
func BenchmarkLeNetStep(b *testing.B) {
	r := tensor.NewRNG(2)
	m, _ := models.NewLeNet(models.LeNetConfig{ImageSize: 28, Padding: 2}, r)
	x := tensor.Randn(r, 64, 1, 28, 28)
	labels := make([]int, 64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		nn.ZeroGrad(m)
		nn.CrossEntropy(m.Forward(x), labels).Backward()
	}
}
