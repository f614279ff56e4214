package prompt

import (
	"fmt"
	"strings"

	"github.com/graftml/graft/models/clip"
	"github.com/graftml/graft/tensor"
)

// Where the class name goes relative to the learned context (CoOp's
// class_token_position).
const (
	PositionEnd    = "end"    // [BOS] v_1 … v_M [CLASS] [EOS]
	PositionMiddle = "middle" // [BOS] v_1 … v_M/2 [CLASS] v_M/2+1 … v_M [EOS]
	PositionFront  = "front"  // [BOS] [CLASS] v_1 … v_M [EOS]
)

// layout is the frozen part of the prompts of one list of classes: for class
// k the token embeddings before the context (pre), between its two parts
// (mid) and after it (post: end-of-text and padding), all to one length.
type layout struct {
	m, split       int // context vectors; how many come before mid
	length         int
	pre, mid, post []*tensor.Tensor // per class, (len, width) or nil when empty
	eot            []int
	ctxStart       int // position of the first context vector (PositionEnd and PositionMiddle)
}

// newLayout tokenises classes and lays out their prompts around m context
// vectors at position.
func newLayout(model *clip.Model, tok Tokenizer, classes []string, m int, position string) (*layout, error) {
	if len(classes) == 0 {
		return nil, fmt.Errorf("prompt: empty class list")
	}
	if m <= 0 {
		return nil, fmt.Errorf("prompt: %d context vectors, must be positive", m)
	}
	switch position {
	case PositionEnd, PositionMiddle, PositionFront:
	default:
		return nil, fmt.Errorf("prompt: class token position %q, want %q, %q or %q", position, PositionEnd, PositionMiddle, PositionFront)
	}
	if tok == nil {
		return nil, fmt.Errorf("prompt: no tokenizer")
	}
	tc := model.Config.TextConfig
	names := make([][]int, len(classes))
	longest := 0
	for k, c := range classes {
		ids, err := tok.Encode(c)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("prompt: class %d %q has no tokens", k, c)
		}
		names[k] = ids
		longest = max(longest, len(ids))
	}
	l := &layout{m: m, length: 2 + m + longest, ctxStart: 1}
	if l.length > tc.MaxPositionEmbeddings {
		return nil, fmt.Errorf("prompt: %d context vectors with the longest class name (%d tokens) and begin and end of text take %d positions; the text encoder takes at most %d (max_position_embeddings)",
			m, longest, l.length, tc.MaxPositionEmbeddings)
	}
	switch position {
	case PositionEnd, PositionFront:
		l.split = m
	case PositionMiddle:
		l.split = m / 2
	}
	var err error
	tensor.WithNoGrad(func() {
		for _, ids := range names {
			seq := []int{tc.BosTokenID}
			pad := make([]int, 0, longest)
			for len(pad) < longest-len(ids) {
				pad = append(pad, tc.PadTokenID)
			}
			var pre, mid []int
			switch position {
			case PositionFront:
				pre, mid = append(seq, ids...), nil
			default:
				pre, mid = seq, ids
			}
			post := append([]int{tc.EosTokenID}, pad...)
			l.pre = append(l.pre, l.embed(model, pre, &err))
			l.mid = append(l.mid, l.embed(model, mid, &err))
			l.post = append(l.post, l.embed(model, post, &err))
			l.eot = append(l.eot, len(pre)+m+len(mid))
		}
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// embed looks up ids' token embeddings (len, width), nil for none.
func (l *layout) embed(model *clip.Model, ids []int, err *error) *tensor.Tensor {
	if len(ids) == 0 || *err != nil {
		return nil
	}
	e, e2 := model.TokenEmbeddings([][]int{ids})
	if e2 != nil {
		*err = e2
		return nil
	}
	return e.Reshape(len(ids), e.Dim(2)).Detach()
}

// classSeqs returns the prompts (G, length, width) of class k around each
// of the G context sets ctx (G, m, width).
func (l *layout) classSeqs(k int, ctx *tensor.Tensor) *tensor.Tensor {
	g, d := ctx.Dim(0), ctx.Dim(2)
	wide := func(t *tensor.Tensor) *tensor.Tensor {
		return t.Unsqueeze(0).BroadcastTo(g, t.Dim(0), d)
	}
	parts := []*tensor.Tensor{wide(l.pre[k]), ctx.Slice(1, 0, l.split)}
	if l.mid[k] != nil {
		parts = append(parts, wide(l.mid[k]))
	}
	if l.split < l.m {
		parts = append(parts, ctx.Slice(1, l.split, l.m))
	}
	return tensor.Concat(1, append(parts, wide(l.post[k]))...)
}

// sequences returns the prompts of every context set ctx (G, m, width) with
// every class, (G·K, length, width) with class k of set g at row g·K+k, and
// their end-of-text positions.
func (l *layout) sequences(ctx *tensor.Tensor) (*tensor.Tensor, []int) {
	g, k := ctx.Dim(0), len(l.eot)
	per := make([]*tensor.Tensor, k)
	for c := range per {
		per[c] = l.classSeqs(c, ctx)
	}
	eot := make([]int, 0, g*k)
	for range g {
		eot = append(eot, l.eot...)
	}
	return tensor.Stack(1, per...).Reshape(g*k, l.length, ctx.Dim(2)), eot
}

// paired returns the prompts (K, length, width) of class k around context
// set k of ctx (K, m, width) — class-specific context.
func (l *layout) paired(ctx *tensor.Tensor) (*tensor.Tensor, []int) {
	per := make([]*tensor.Tensor, len(l.eot))
	for c := range per {
		per[c] = l.classSeqs(c, ctx.Slice(0, c, c+1))
	}
	return tensor.Concat(0, per...), l.eot
}

// layouts caches the layouts of class lists.
type layouts struct {
	model    *clip.Model
	tok      Tokenizer
	m        int
	position string
	cache    map[string]*layout
}

func (c *layouts) get(classes []string) (*layout, error) {
	key := strings.Join(classes, "\x00")
	if l, ok := c.cache[key]; ok {
		return l, nil
	}
	l, err := newLayout(c.model, c.tok, classes, c.m, c.position)
	if err != nil {
		return nil, err
	}
	if c.cache == nil {
		c.cache = map[string]*layout{}
	}
	c.cache[key] = l
	return l, nil
}

// initContext returns m context vectors (m, width): the token embeddings of
// phrase's m words when phrase is set, otherwise drawn from N(0, std²).
func initContext(model *clip.Model, tok Tokenizer, phrase string, m int, std float64, r *tensor.RNG) (*tensor.Tensor, error) {
	d := model.Config.TextConfig.HiddenSize
	if phrase == "" {
		return tensor.Normal(r, 0, float32(std), m, d), nil
	}
	ids, err := tok.Encode(phrase)
	if err != nil {
		return nil, err
	}
	if len(ids) != m {
		return nil, fmt.Errorf("prompt: initial phrase %q has %d tokens for %d context vectors", phrase, len(ids), m)
	}
	e, err := model.TokenEmbeddings([][]int{ids})
	if err != nil {
		return nil, err
	}
	return e.Reshape(m, d).Detach().Clone(), nil
}
