package tokenizer

import (
	"fmt"

	"github.com/graftml/graft/tensor"
)

// Truncation limits the number of tokens of an encoding, special tokens
// included. The names of strategies and directions are those of
// tokenizer.json.
type Truncation struct {
	MaxLength int // at most this many tokens, special tokens included
	// Strategy says which text of a pair loses tokens: "LongestFirst" (the
	// default: one token at a time from the longer), "OnlyFirst" or
	// "OnlySecond".
	Strategy string
	// Direction is "Right" (the default: the end is cut) or "Left".
	Direction string
	// Stride is kept for tokenizer.json; overflowing windows are not made.
	Stride int
}

// Padding makes encodings equally long with a padding token whose attention
// mask is 0.
type Padding struct {
	// Length pads every encoding to this many tokens; 0 pads a batch to its
	// longest encoding.
	Length int
	// MultipleOf, when above 0, rounds the padded length up to a multiple.
	MultipleOf int
	// Direction is "Right" (the default: padding at the end) or "Left".
	Direction string
	PadID     int    // id of the padding token
	PadTypeID int    // type id of padding
	PadToken  string // string of the padding token
}

func (tr *Truncation) check() error {
	if tr.MaxLength < 0 {
		return fmt.Errorf("truncation MaxLength is %d, want ≥ 0", tr.MaxLength)
	}
	switch tr.Strategy {
	case "", "LongestFirst", "OnlyFirst", "OnlySecond":
	default:
		return fmt.Errorf("truncation Strategy %q, want LongestFirst, OnlyFirst or OnlySecond", tr.Strategy)
	}
	switch tr.Direction {
	case "", "Right", "Left":
	default:
		return fmt.Errorf("truncation Direction %q, want Right or Left", tr.Direction)
	}
	if tr.Stride < 0 {
		return fmt.Errorf("truncation Stride is %d, want ≥ 0", tr.Stride)
	}
	return nil
}

func (p *Padding) check() error {
	if p.Length < 0 || p.MultipleOf < 0 {
		return fmt.Errorf("padding Length %d and MultipleOf %d, want ≥ 0", p.Length, p.MultipleOf)
	}
	switch p.Direction {
	case "", "Right", "Left":
	default:
		return fmt.Errorf("padding Direction %q, want Right or Left", p.Direction)
	}
	return nil
}

// SetTruncation sets how encodings are truncated; nil turns truncation off.
func (t *Tokenizer) SetTruncation(tr *Truncation) error {
	if tr == nil {
		t.truncation = nil
		return nil
	}
	if err := tr.check(); err != nil {
		return fmt.Errorf("tokenizer: SetTruncation: %w", err)
	}
	c := *tr
	if c.Strategy == "" {
		c.Strategy = "LongestFirst"
	}
	if c.Direction == "" {
		c.Direction = "Right"
	}
	t.truncation = &c
	return nil
}

// Truncation returns a copy of the truncation settings, or nil.
func (t *Tokenizer) Truncation() *Truncation {
	if t.truncation == nil {
		return nil
	}
	c := *t.truncation
	return &c
}

// SetPadding sets how encodings are padded (by Encode, EncodePair and
// EncodeBatch); nil turns padding off.
func (t *Tokenizer) SetPadding(p *Padding) error {
	if p == nil {
		t.padding = nil
		return nil
	}
	if err := p.check(); err != nil {
		return fmt.Errorf("tokenizer: SetPadding: %w", err)
	}
	c := *p
	if c.Direction == "" {
		c.Direction = "Right"
	}
	t.padding = &c
	return nil
}

// Padding returns a copy of the padding settings, or nil.
func (t *Tokenizer) Padding() *Padding {
	if t.padding == nil {
		return nil
	}
	c := *t.padding
	return &c
}

// DefaultPadding is the padding EncodeBatch uses when asked to pad without
// SetPadding: to the longest, on the right, with the first of [PAD], <pad>
// and <|endoftext|> the tokenizer knows (GPT-2 pads with its end-of-text
// token), or id 0.
func (t *Tokenizer) DefaultPadding() *Padding {
	for _, name := range []string{"[PAD]", "<pad>", "<|endoftext|>"} {
		if id, ok := t.TokenToID(name); ok {
			return &Padding{PadID: id, PadToken: name}
		}
	}
	tok, _ := t.IDToToken(0)
	return &Padding{PadID: 0, PadToken: tok}
}

// apply truncates encs (one, or two for a pair) so that, with the added
// special tokens, they hold at most MaxLength tokens.
func (tr *Truncation) apply(encs []*Encoding, added int) {
	budget := tr.MaxLength - added
	if budget < 0 {
		budget = 0
	}
	lens := make([]int, len(encs))
	total := 0
	for i, e := range encs {
		lens[i] = e.Len()
		total += lens[i]
	}
	if total <= budget {
		return
	}
	switch {
	case len(encs) == 1:
		lens[0] = budget
	case tr.Strategy == "OnlyFirst" || tr.Strategy == "OnlySecond":
		k, other := 0, 1
		if tr.Strategy == "OnlySecond" {
			k, other = 1, 0
		}
		if lens[other] > budget {
			return // cannot fit by cutting only the one text, as the reference leaves it
		}
		lens[k] = budget - lens[other]
	default: // LongestFirst: shorten the longer text until they fit (ties: the second)
		for lens[0]+lens[1] > budget {
			if lens[0] > lens[1] {
				lens[0]--
			} else {
				lens[1]--
			}
		}
	}
	for i, e := range encs {
		if lens[i] >= e.Len() {
			continue
		}
		if tr.Direction == "Left" {
			e.keep(e.Len()-lens[i], e.Len())
		} else {
			e.keep(0, lens[i])
		}
	}
}

// apply pads encs to the padding's length (or their longest).
func (p *Padding) apply(encs []*Encoding) {
	target := p.Length
	if target == 0 {
		for _, e := range encs {
			if e.Len() > target {
				target = e.Len()
			}
		}
	}
	if p.MultipleOf > 0 && target%p.MultipleOf != 0 {
		target += p.MultipleOf - target%p.MultipleOf
	}
	for _, e := range encs {
		n := target - e.Len()
		if n <= 0 {
			continue
		}
		pad := &Encoding{}
		for i := 0; i < n; i++ {
			pad.push(p.PadID, p.PadToken, [2]int{}, p.PadTypeID)
			pad.AttentionMask[i] = 0
		}
		if p.Direction == "Left" {
			pad.appendEnc(e)
			*e = *pad
		} else {
			e.appendEnc(pad)
		}
	}
}

// IntsTensor returns rows of equal length as a float32 tensor of shape
// (len(rows), len(rows[0])) — the form graft's models take ids and masks in.
// Rows of different lengths (an unpadded batch) are an error.
func IntsTensor(rows [][]int) (*tensor.Tensor, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("tokenizer: IntsTensor: no rows")
	}
	n := len(rows[0])
	data := make([]float32, 0, len(rows)*n)
	for i, r := range rows {
		if len(r) != n {
			return nil, fmt.Errorf("tokenizer: IntsTensor: row %d has %d entries, row 0 has %d (pad the batch)", i, len(r), n)
		}
		for _, v := range r {
			data = append(data, float32(v))
		}
	}
	return tensor.New(data, len(rows), n), nil
}

// IDsTensor returns the batch's ids as a (batch, length) tensor; the batch
// must be padded.
func (b *Batch) IDsTensor() (*tensor.Tensor, error) { return IntsTensor(b.IDs) }

// MaskTensor returns the batch's attention mask as a (batch, length) tensor
// of 1s and 0s; the batch must be padded.
func (b *Batch) MaskTensor() (*tensor.Tensor, error) { return IntsTensor(b.AttentionMask) }

// TypeIDsTensor returns the batch's type ids as a (batch, length) tensor; the
// batch must be padded.
func (b *Batch) TypeIDsTensor() (*tensor.Tensor, error) { return IntsTensor(b.TypeIDs) }

// Lengths returns the number of real (unpadded) tokens of each row.
func (b *Batch) Lengths() []int {
	out := make([]int, len(b.AttentionMask))
	for i, m := range b.AttentionMask {
		for _, v := range m {
			out[i] += v
		}
	}
	return out
}
