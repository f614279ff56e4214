// Package models holds graft's ready architectures: a multilayer perceptron,
// a LeNet-5-style convolutional network and the CIFAR-style residual networks
// of He et al. (2016), with parameter names in PyTorch's style (conv1, bn1,
// layer1.0.conv1, fc …) so that weights exchange with PyTorch state dicts.
// The transformer families loadable from Hugging Face checkpoints live in
// the sub-packages (models/vit, models/clip, models/gpt2, models/bert).
//
// Every classifier here splits its forward pass into Features, the
// representation the head sees, and Classify, the head itself (see
// Classifier), so domain adaptation methods can attach a domain discriminator
// or a discrepancy loss to the features while the head keeps classifying.
package models

import (
	"fmt"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// Classifier is a model whose forward pass is a feature extractor followed by
// a head: Forward(x) = Classify(Features(x)). The models of this package, and
// the image classifiers of its sub-packages, implement it.
type Classifier interface {
	// Forward returns the class logits (N, classes) of the batch x.
	Forward(x *tensor.Tensor) *tensor.Tensor
	// Features returns the representation (N, FeatureDim()) the head sees.
	Features(x *tensor.Tensor) *tensor.Tensor
	// Classify applies the head to features (N, FeatureDim()).
	Classify(features *tensor.Tensor) *tensor.Tensor
	// FeatureDim returns the width of the features.
	FeatureDim() int
	// Head returns the head module, e.g. to give it its own parameter group
	// or to find its name for nn.Replace.
	Head() nn.Layer
}

// checkActivation returns an error when nn.Activate does not know fn.
func checkActivation(what, fn string) (err error) {
	defer func() {
		if recover() != nil {
			err = fmt.Errorf("%s: unknown activation %q (want relu, leaky_relu, gelu, gelu_tanh, quick_gelu, sigmoid, tanh, softplus, silu or identity)", what, fn)
		}
	}()
	nn.Activate(fn, tensor.Zeros(1), 0.01)
	return nil
}
