package prompt

import (
	"fmt"
	"strings"

	"github.com/graftml/graft/models/clip"
	"github.com/graftml/graft/tensor"
)

// Tokenizer turns text into token ids without begin- and end-of-text tokens
// (the model's config supplies those); shapes.Vocab is one.
type Tokenizer interface {
	Encode(text string) ([]int, error)
}

// Classifier scores images against classes named in text: the zero-shot
// classifier and every prompt-learning method.
type Classifier interface {
	// Name labels the method in reports ("CoOp (M=4, end)").
	Name() string
	// Logits returns the logits (N, len(classes)) of images (N, C, H, W)
	// against the class names.
	Logits(images *tensor.Tensor, classes []string) (*tensor.Tensor, error)
}

// Evaluate returns the accuracy of c on images whose labels index classes,
// scoring batches of at most 256 images without gradients.
func Evaluate(c Classifier, images *tensor.Tensor, labels []int, classes []string) (float64, error) {
	if images == nil || images.Dims() == 0 || images.Dim(0) != len(labels) || len(labels) == 0 {
		n := -1
		if images != nil && images.Dims() > 0 {
			n = images.Dim(0)
		}
		return 0, fmt.Errorf("prompt: %d labels for %d images (need the same positive number)", len(labels), n)
	}
	for i, l := range labels {
		if l < 0 || l >= len(classes) {
			return 0, fmt.Errorf("prompt: label %d of image %d is outside the %d classes", l, i, len(classes))
		}
	}
	correct := 0
	var err error
	tensor.WithNoGrad(func() {
		for s := 0; s < len(labels) && err == nil; s += 256 {
			e := min(s+256, len(labels))
			var logits *tensor.Tensor
			logits, err = c.Logits(images.Slice(0, s, e), classes)
			if err != nil {
				return
			}
			for i, p := range logits.Argmax(1).Ints() {
				if p == labels[s+i] {
					correct++
				}
			}
		}
	})
	if err != nil {
		return 0, err
	}
	return float64(correct) / float64(len(labels)), nil
}

// ZeroShot is CLIP's zero-shot classifier: each class's weight is the mean
// of the normalised text features of Templates filled with its name.
type ZeroShot struct {
	Model     *clip.Model
	Tokenizer Tokenizer
	// Templates hold "{}" where the class name goes (nil: "a photo of a
	// {}").
	Templates []string
}

// Name returns "zero-shot".
func (z *ZeroShot) Name() string { return "zero-shot" }

// TextFeatures returns the normalised class weights (len(classes),
// projection_dim).
func (z *ZeroShot) TextFeatures(classes []string) (*tensor.Tensor, error) {
	if z.Model == nil || z.Tokenizer == nil {
		return nil, fmt.Errorf("prompt: zero-shot classifier without a model or a tokenizer")
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("prompt: empty class list")
	}
	templates := z.Templates
	if len(templates) == 0 {
		templates = []string{"a photo of a {}"}
	}
	tc := z.Model.Config.TextConfig
	var sum *tensor.Tensor
	for _, tmpl := range templates {
		if !strings.Contains(tmpl, "{}") {
			return nil, fmt.Errorf("prompt: template %q has no {} for the class name", tmpl)
		}
		ids := make([][]int, len(classes))
		for k, c := range classes {
			words, err := z.Tokenizer.Encode(strings.ReplaceAll(tmpl, "{}", c))
			if err != nil {
				return nil, err
			}
			ids[k] = append(append([]int{tc.BosTokenID}, words...), tc.EosTokenID)
			if len(ids[k]) > tc.MaxPositionEmbeddings {
				return nil, fmt.Errorf("prompt: %q is %d tokens with begin and end of text; the text encoder takes at most %d (max_position_embeddings)", strings.ReplaceAll(tmpl, "{}", c), len(ids[k]), tc.MaxPositionEmbeddings)
			}
		}
		f, err := z.Model.EncodeText(ids)
		if err != nil {
			return nil, err
		}
		f = normalize(f)
		if sum == nil {
			sum = f
		} else {
			sum = sum.Add(f)
		}
	}
	return normalize(sum), nil
}

// Logits returns the zero-shot logits (N, len(classes)) of images.
func (z *ZeroShot) Logits(images *tensor.Tensor, classes []string) (*tensor.Tensor, error) {
	if z.Model == nil {
		return nil, fmt.Errorf("prompt: zero-shot classifier without a model")
	}
	if err := checkImages(z.Model, images); err != nil {
		return nil, err
	}
	w, err := z.TextFeatures(classes)
	if err != nil {
		return nil, err
	}
	return z.Model.Logits(z.Model.EncodeImage(images), w), nil
}

// normalize scales each row of x (…, D) to unit length.
func normalize(x *tensor.Tensor) *tensor.Tensor {
	return x.Div(x.Square().SumKeep(x.Dims() - 1).Sqrt())
}
