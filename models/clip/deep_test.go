package clip_test

import (
	"slices"
	"testing"

	"github.com/graftml/graft/models/clip"
	"github.com/graftml/graft/tensor"
)

// The deep forwards with a nil hook, or one that returns its input, are the
// plain forwards bit for bit; a hook sees every layer once, in order; tokens
// appended to the image sequence change the pooled class state; replacing a
// text position after the first layer changes the later positions only.
func TestDeepHooks(t *testing.T) {
	m, err := clip.New(small(), tensor.NewRNG(3))
	if err != nil {
		t.Fatal(err)
	}
	images := tensor.Randn(tensor.NewRNG(4), 2, 3, 16, 16)
	ids := [][]int{{48, 5, 6, 7, 49}, {48, 8, 9, 10, 49}}
	embeds, err := m.TokenEmbeddings(ids)
	if err != nil {
		t.Fatal(err)
	}
	eot := []int{4, 4}
	var seen []int
	identity := func(layer int, h *tensor.Tensor) *tensor.Tensor { seen = append(seen, layer); return h }
	if !slices.Equal(m.EncodeImageDeep(images, nil).Data(), m.EncodeImage(images).Data()) ||
		!slices.Equal(m.EncodeImageDeep(images, identity).Data(), m.EncodeImage(images).Data()) {
		t.Error("the deep image forward with a nil or identity hook differs from EncodeImage")
	}
	if !slices.Equal(seen, []int{0, 1}) {
		t.Errorf("hook saw layers %v, want [0 1]", seen)
	}
	plain := m.EncodeTextEmbeddings(embeds, eot).Data()
	if !slices.Equal(m.EncodeTextEmbeddingsDeep(embeds, eot, nil).Data(), plain) ||
		!slices.Equal(m.EncodeTextEmbeddingsDeep(embeds, eot, identity).Data(), plain) {
		t.Error("the deep text forward with a nil or identity hook differs from EncodeTextEmbeddings")
	}
	appendTok := func(layer int, h *tensor.Tensor) *tensor.Tensor {
		if layer > 0 {
			return h
		}
		return tensor.Concat(1, h, tensor.Ones(h.Dim(0), 2, h.Dim(2)))
	}
	if h := m.VisionModel.ForwardDeep(images, appendTok); h.Dim(1) != 17+2 {
		t.Errorf("appended tokens: hidden states %v, want 19 positions", h.Shape())
	}
	if slices.Equal(m.EncodeImageDeep(images, appendTok).Data(), m.EncodeImage(images).Data()) {
		t.Error("appended tokens left the image embedding unchanged")
	}
	// Replace position 3 before layer 1: positions 0…2 of the output keep
	// their values (causal attention), positions 3… change.
	replace := func(layer int, h *tensor.Tensor) *tensor.Tensor {
		if layer != 1 {
			return h
		}
		n, d := h.Dim(0), h.Dim(2)
		return tensor.Concat(1, h.Slice(1, 0, 3), tensor.Ones(n, 1, d), h.Slice(1, 4, h.Dim(1)))
	}
	a, b := m.TextModel.ForwardEmbeddings(embeds), m.TextModel.ForwardEmbeddingsDeep(embeds, replace)
	if !slices.Equal(a.Slice(1, 0, 3).Data(), b.Slice(1, 0, 3).Data()) {
		t.Error("replacing position 3 changed earlier positions of the causal text encoder")
	}
	if slices.Equal(a.Slice(1, 3, 5).Data(), b.Slice(1, 3, 5).Data()) {
		t.Error("replacing position 3 left it and later positions unchanged")
	}
}
