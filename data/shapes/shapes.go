// Package shapes is a synthetic image–text task for prompt learning on a
// dual encoder: small RGB images (3×16×16) of a square of random size and
// place filled with a coloured pattern on a dark, noisy background, whose
// class is the composition colour × pattern ("red stripes"), with captions
// over a small word-level vocabulary.
//
// The classes are split into BASE and NEW halves so that every colour and
// every pattern word occurs in both: a model pre-trained on captions of all
// classes has seen every word, while few-shot prompt learning sees images of
// the base classes only, and generalisation to new classes is measured on
// the other half (the base-to-new protocol of CoCoOp).
//
// Pre-training captions come from several templates, some naming only the
// colour or only the pattern — among them the only captions with the words
// "a photo of", which thus describe colour alone —, so that zero-shot
// classification with the hand-written prompt "a photo of a {}" works, but
// imperfectly, and prompt learning has room to improve.
package shapes

import (
	"fmt"
	"math"
	"strings"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/tensor"
)

// The special token ids of a Vocab. The end-of-text id is not 2 because
// CLIP configurations with eos_token_id 2 mean "the largest id in each
// sequence" (the legacy convention of OpenAI's tokenizer).
const (
	PadID = 0
	EosID = 1
	BosID = 2
)

// Vocab is a word-level tokenizer: every word has an id; PadID, EosID and
// BosID come first.
type Vocab struct {
	Words []string // Words[id] is the word of id; the first three are "<pad>", "<eos>", "<bos>"
	index map[string]int
}

// NewVocab returns the vocabulary of the special tokens followed by words
// (duplicates are kept once).
func NewVocab(words []string) *Vocab {
	v := &Vocab{Words: []string{"<pad>", "<eos>", "<bos>"}, index: map[string]int{}}
	for i, w := range v.Words {
		v.index[w] = i
	}
	for _, w := range words {
		if _, ok := v.index[w]; !ok {
			v.index[w] = len(v.Words)
			v.Words = append(v.Words, w)
		}
	}
	return v
}

// Size is the number of ids.
func (v *Vocab) Size() int { return len(v.Words) }

// Encode returns the ids of text's space-separated words, without the
// begin- and end-of-text tokens; an unknown word is an error naming it.
func (v *Vocab) Encode(text string) ([]int, error) {
	fields := strings.Fields(text)
	ids := make([]int, len(fields))
	for i, w := range fields {
		id, ok := v.index[w]
		if !ok {
			return nil, fmt.Errorf("shapes: word %q of %q is not in the vocabulary", w, text)
		}
		ids[i] = id
	}
	return ids, nil
}

// Tokenize returns BosID, the ids of text's words and EosID.
func (v *Vocab) Tokenize(text string) ([]int, error) {
	ids, err := v.Encode(text)
	if err != nil {
		return nil, err
	}
	return append(append([]int{BosID}, ids...), EosID), nil
}

// Decode writes ids back as words separated by spaces.
func (v *Vocab) Decode(ids []int) string {
	words := make([]string, len(ids))
	for i, id := range ids {
		if id >= 0 && id < len(v.Words) {
			words[i] = v.Words[id]
		} else {
			words[i] = fmt.Sprintf("<%d?>", id)
		}
	}
	return strings.Join(words, " ")
}

// Colours and Patterns are the attribute values whose products are the
// classes. The patterns have period 2 and are aligned to the pixel grid.
var (
	Colours  = []string{"red", "green", "blue", "yellow", "magenta", "cyan"}
	Patterns = []string{"stripes", "columns", "checks", "dots"}
)

var rgb = [][3]float64{{1, 0.1, 0.1}, {0.1, 0.9, 0.1}, {0.15, 0.3, 1}, {1, 1, 0.1}, {1, 0.1, 1}, {0.1, 1, 1}}

// The caption templates of pre-training; {c} is the colour and {s} the
// pattern. The partial ones name only one attribute.
var (
	fullTemplates    = []string{"{c} {s}", "some {c} {s}", "the {s} are {c}", "{s} in {c}", "{c} {s} on black", "the {c} {s}"}
	partialTemplates = []string{"a {c} thing", "something {c}", "some {s}", "the {s}", "a photo of a {c} thing", "a photo of something {c}", "a photo of {c}"}
	// ZeroShotTemplate is the hand-written prompt of zero-shot
	// classification; its words "photo" and "of" never occur in
	// pre-training captions.
	ZeroShotTemplate = "a photo of a {}"
	extraWords       = []string{"a", "the", "some", "are", "in", "on", "black", "thing", "something", "photo", "of", "picture", "drawing"}
)

// Task is the colour × pattern task: its classes, the base/new split and the
// vocabulary.
type Task struct {
	Classes []string // "red stripes", … colour-major
	Base    []int    // indices into Classes of the base classes
	New     []int    // the held-out new classes
	Vocab   *Vocab
	// Noise is the standard deviation of the pixel noise (default 0.15 from
	// NewTask).
	Noise float64
	// Background is the brightness of the background pixels, every channel
	// (default 0.1 from NewTask).
	Background float64
	// PartialCaptions is the fraction of pre-training captions that name
	// only the colour or only the pattern (default 0.3 from NewTask).
	PartialCaptions float64
}

// NewTask returns the task of len(Colours)·len(Patterns) = 24 classes, the
// class (colour c, pattern s) in Base when c+s is even and in New otherwise,
// so both halves hold every colour and every pattern.
func NewTask() *Task {
	t := &Task{Noise: 0.08, Background: 0.1, PartialCaptions: 0.3}
	words := append(append([]string{}, extraWords...), Colours...)
	words = append(words, Patterns...)
	t.Vocab = NewVocab(words)
	for c, cn := range Colours {
		for s, sn := range Patterns {
			k := len(t.Classes)
			t.Classes = append(t.Classes, cn+" "+sn)
			if (c+s)%2 == 0 {
				t.Base = append(t.Base, k)
			} else {
				t.New = append(t.New, k)
			}
		}
	}
	return t
}

// Shifted returns a copy of t whose images have the given background
// brightness: a domain shift from pre-training (downstream "photos" on a
// grey background where pre-training saw dark ones), under which zero-shot
// classification degrades and prompt learning has more to recover.
func (t *Task) Shifted(background float64) *Task {
	c := *t
	c.Background = background
	return &c
}

// Names returns the names of the classes with the given indices.
func (t *Task) Names(classes []int) []string {
	out := make([]string, len(classes))
	for i, k := range classes {
		out[i] = t.Classes[k]
	}
	return out
}

// BaseNames and NewNames are the names of the base and of the new classes.
func (t *Task) BaseNames() []string { return t.Names(t.Base) }

// NewNames returns the names of the new classes.
func (t *Task) NewNames() []string { return t.Names(t.New) }

// render draws one image (3, 16, 16) of class k.
func (t *Task) render(k int, r *tensor.RNG, dst []float32) {
	const size = 16
	c, s := k/len(Patterns), k%len(Patterns)
	cx := 7.5 + (r.Float64()*2-1)*1.5
	cy := 7.5 + (r.Float64()*2-1)*1.5
	rad := 3.5 + r.Float64()*2.5 // half the side of the patterned square
	col := rgb[c]
	var tint [3]float64
	for i := range tint {
		tint[i] = math.Min(1, math.Max(0, col[i]+(r.Float64()*2-1)*0.15))
	}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			in := math.Abs(dx) <= rad && math.Abs(dy) <= rad
			if in {
				u, v := x%2, y%2
				switch Patterns[s] {
				case "stripes":
					in = v == 0
				case "columns":
					in = u == 0
				case "checks":
					in = u == v
				case "dots":
					in = u == 0 && v == 0
				}
			}
			for ch := 0; ch < 3; ch++ {
				v := t.Background
				if in {
					v = tint[ch]
				}
				v += r.NormFloat64() * t.Noise
				dst[ch*size*size+y*size+x] = float32(v)
			}
		}
	}
}

// ImageShape is the shape of one image: channels, height, width.
var ImageShape = []int{3, 16, 16}

// Images returns perClass images of each of the classes (indices into
// t.Classes), drawn from seed, as a dataset whose labels index classes (0 …
// len(classes)-1) and whose Classes are their names.
func (t *Task) Images(name string, classes []int, perClass int, seed uint64) (*data.Dataset, error) {
	if len(classes) == 0 {
		return nil, fmt.Errorf("shapes: no classes")
	}
	if perClass <= 0 {
		return nil, fmt.Errorf("shapes: perClass %d, must be positive", perClass)
	}
	for _, k := range classes {
		if k < 0 || k >= len(t.Classes) {
			return nil, fmt.Errorf("shapes: class %d is outside 0…%d", k, len(t.Classes)-1)
		}
	}
	r := tensor.NewRNG(seed)
	n := len(classes) * perClass
	px := ImageShape[0] * ImageShape[1] * ImageShape[2]
	x := make([]float32, n*px)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		labels[i] = i % len(classes)
		t.render(classes[labels[i]], r, x[i*px:(i+1)*px])
	}
	return data.New(name, tensor.New(x, n, ImageShape[0], ImageShape[1], ImageShape[2]), labels, t.Names(classes))
}

// Pairs returns n pre-training pairs drawn from seed over all classes:
// images (n, 3, 16, 16), their captions as token ids (BosID … EosID, unpadded)
// from the varied templates, and the class of each image.
func (t *Task) Pairs(n int, seed uint64) (*tensor.Tensor, [][]int, []int, error) {
	if n <= 0 {
		return nil, nil, nil, fmt.Errorf("shapes: %d pairs, must be positive", n)
	}
	r := tensor.NewRNG(seed)
	px := ImageShape[0] * ImageShape[1] * ImageShape[2]
	x := make([]float32, n*px)
	caps := make([][]int, n)
	labels := make([]int, n)
	for i := range n {
		k := r.IntN(len(t.Classes))
		labels[i] = k
		t.render(k, r, x[i*px:(i+1)*px])
		c, s := Colours[k/len(Patterns)], Patterns[k%len(Patterns)]
		tmpl := fullTemplates[r.IntN(len(fullTemplates))]
		if r.Float64() < t.PartialCaptions {
			tmpl = partialTemplates[r.IntN(len(partialTemplates))]
		}
		ids, err := t.Vocab.Tokenize(strings.NewReplacer("{c}", c, "{s}", s).Replace(tmpl))
		if err != nil {
			return nil, nil, nil, err
		}
		caps[i] = ids
	}
	return tensor.New(x, n, ImageShape[0], ImageShape[1], ImageShape[2]), caps, labels, nil
}
