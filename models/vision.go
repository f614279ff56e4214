package models

import (
	"fmt"

	"github.com/graftml/graft/nn"
	"github.com/graftml/graft/tensor"
)

// PatchTokens embeds images (N, C, H, W) as a sequence of patch tokens
// (N, P, D), the input of a vision transformer: proj is a convolution whose
// kernel and stride are the patch size, and its P = (H/patch)·(W/patch)
// outputs are read row by row. With imageSize > 0 it panics unless H and W
// equal imageSize, the size the position embeddings were made for.
func PatchTokens(proj nn.Layer, images *tensor.Tensor, imageSize int) *tensor.Tensor {
	s := images.Shape()
	if len(s) != 4 || (imageSize > 0 && (s[2] != imageSize || s[3] != imageSize)) {
		panic(fmt.Sprintf("patch embedding: images %s must be (batch, channels, %d, %d)", tensor.FormatShape(s), imageSize, imageSize))
	}
	return proj.Forward(images).Flatten(2, 3).Permute(0, 2, 1)
}

// PrependToken puts token (D values in any shape, such as ViT's (1, 1, D)
// class token) in front of each sequence of x (N, L, D), giving (N, L+1, D).
func PrependToken(token, x *tensor.Tensor) *tensor.Tensor {
	n, d := x.Dim(0), x.Dim(2)
	return tensor.Concat(1, token.Reshape(1, 1, d).BroadcastTo(n, 1, d), x)
}
