package tokenizer

import (
	"fmt"
	"strings"
)

// postProcessor adds special tokens around the encoded sequences (one, or two
// for a pair) and sets their type ids.
type postProcessor interface {
	// process returns the encodings after processing; the tokenizer joins
	// what it returns. texts are the sequences' texts (offsets point into
	// them); addSpecial false asks for no special tokens.
	process(encs []*Encoding, texts []string, addSpecial bool) []*Encoding
	// added is the number of tokens process adds for one or two sequences.
	added(pair bool) int
	jsonValue() any
}

// templatePiece is one item of a template: a special token or sequence A/B.
type templatePiece struct {
	special string // name of the special token, or ""
	seq     string // "A" or "B" when special is ""
	typeID  int
}

// templateSpecial is a special token of a template: one or more ids.
type templateSpecial struct {
	ID     string   `json:"id"`
	IDs    []int    `json:"ids"`
	Tokens []string `json:"tokens"`
}

// templateProcessing is the general post-processor: templates for one and for
// two sequences, such as "[CLS] $A [SEP]" and "[CLS] $A [SEP] $B:1 [SEP]:1".
type templateProcessing struct {
	single, pair []templatePiece
	specials     map[string]templateSpecial
	order        []string // special token names in the order they were given
}

// newTemplate checks that every special token a template names is defined.
func newTemplate(single, pair []templatePiece, specials []templateSpecial) (*templateProcessing, error) {
	p := &templateProcessing{single: single, pair: pair, specials: map[string]templateSpecial{}}
	for _, s := range specials {
		if len(s.IDs) != len(s.Tokens) {
			return nil, fmt.Errorf("special token %q has %d ids but %d tokens", s.ID, len(s.IDs), len(s.Tokens))
		}
		p.specials[s.ID] = s
		p.order = append(p.order, s.ID)
	}
	for _, tpl := range [][]templatePiece{single, pair} {
		for _, it := range tpl {
			if it.special != "" {
				if _, ok := p.specials[it.special]; !ok {
					return nil, fmt.Errorf("template names special token %q, which special_tokens does not define", it.special)
				}
			} else if it.seq != "A" && it.seq != "B" {
				return nil, fmt.Errorf("template sequence %q, want A or B", it.seq)
			}
		}
	}
	return p, nil
}

func (p *templateProcessing) added(pair bool) int {
	tpl := p.single
	if pair {
		tpl = p.pair
	}
	n := 0
	for _, it := range tpl {
		if it.special != "" {
			n += len(p.specials[it.special].IDs)
		}
	}
	return n
}

func (p *templateProcessing) process(encs []*Encoding, _ []string, addSpecial bool) []*Encoding {
	tpl := p.single
	if len(encs) > 1 {
		tpl = p.pair
	}
	n := p.added(len(encs) > 1)
	for _, e := range encs {
		n += e.Len()
	}
	out := newEncoding(n)
	for _, it := range tpl {
		if it.special != "" {
			if !addSpecial {
				continue
			}
			s := p.specials[it.special]
			for k, id := range s.IDs {
				out.push(id, s.Tokens[k], [2]int{}, it.typeID)
			}
			continue
		}
		k := 0
		if it.seq == "B" {
			k = 1
		}
		if k >= len(encs) {
			continue
		}
		e := encs[k]
		for i := range e.IDs {
			out.push(e.IDs[i], e.Tokens[i], e.Offsets[i], it.typeID)
		}
	}
	return []*Encoding{out}
}

// templateItemJSON is a template item as tokenizer.json writes it.
type templateItemJSON struct {
	SpecialToken *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"SpecialToken,omitempty"`
	Sequence *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"Sequence,omitempty"`
}

func templateToJSON(tpl []templatePiece) []templateItemJSON {
	out := make([]templateItemJSON, len(tpl))
	for i, it := range tpl {
		v := &struct {
			ID     string `json:"id"`
			TypeID int    `json:"type_id"`
		}{it.special, it.typeID}
		if it.special != "" {
			out[i].SpecialToken = v
		} else {
			v.ID = it.seq
			out[i].Sequence = v
		}
	}
	return out
}

func templateFromJSON(items []templateItemJSON) ([]templatePiece, error) {
	out := make([]templatePiece, len(items))
	for i, it := range items {
		switch {
		case it.SpecialToken != nil:
			out[i] = templatePiece{special: it.SpecialToken.ID, typeID: it.SpecialToken.TypeID}
		case it.Sequence != nil:
			out[i] = templatePiece{seq: it.Sequence.ID, typeID: it.Sequence.TypeID}
		default:
			return nil, fmt.Errorf("template item %d is neither SpecialToken nor Sequence", i)
		}
	}
	return out, nil
}

// templateString renders a template as "[CLS] $A [SEP]" (for messages).
func templateString(tpl []templatePiece) string {
	parts := make([]string, len(tpl))
	for i, it := range tpl {
		if it.special != "" {
			parts[i] = fmt.Sprintf("%s:%d", it.special, it.typeID)
		} else {
			parts[i] = fmt.Sprintf("$%s:%d", it.seq, it.typeID)
		}
	}
	return strings.Join(parts, " ")
}

// orderedSpecials writes special_tokens as an object in the given order.
type orderedSpecials struct {
	order []string
	m     map[string]templateSpecial
}

// MarshalJSON writes the special tokens as an object, keys in order.
func (o orderedSpecials) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range o.order {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := marshalNoEscape(k)
		if err != nil {
			return nil, err
		}
		vb, err := marshalNoEscape(o.m[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func (p *templateProcessing) jsonValue() any {
	return struct {
		Type          string             `json:"type"`
		Single        []templateItemJSON `json:"single"`
		Pair          []templateItemJSON `json:"pair"`
		SpecialTokens orderedSpecials    `json:"special_tokens"`
	}{"TemplateProcessing", templateToJSON(p.single), templateToJSON(p.pair), orderedSpecials{p.order, p.specials}}
}

// bertTemplate is BERT's post-processing as a template: [CLS] A [SEP] and
// [CLS] A [SEP] B [SEP] with B and its [SEP] of type 1.
func bertTemplate(cls string, clsID int, sep string, sepID int) *templateProcessing {
	sp := func(name string, t int) templatePiece { return templatePiece{special: name, typeID: t} }
	sq := func(name string, t int) templatePiece { return templatePiece{seq: name, typeID: t} }
	p, _ := newTemplate(
		[]templatePiece{sp(cls, 0), sq("A", 0), sp(sep, 0)},
		[]templatePiece{sp(cls, 0), sq("A", 0), sp(sep, 0), sq("B", 1), sp(sep, 1)},
		[]templateSpecial{{ID: cls, IDs: []int{clsID}, Tokens: []string{cls}}, {ID: sep, IDs: []int{sepID}, Tokens: []string{sep}}})
	return p
}

// bertProcessing is the older form of BERT's post-processor in
// tokenizer.json; it behaves as bertTemplate.
type bertProcessing struct {
	*templateProcessing
	sep, cls [2]any
}

func (p *bertProcessing) jsonValue() any {
	return struct {
		Type string `json:"type"`
		Sep  [2]any `json:"sep"`
		Cls  [2]any `json:"cls"`
	}{"BertProcessing", p.sep, p.cls}
}

// byteLevelPost is the ByteLevel post-processor: it adds no tokens and, with
// trim_offsets, narrows offsets so they leave out leading and trailing spaces.
type byteLevelPost struct {
	byteLevel
}

func (p *byteLevelPost) added(bool) int { return 0 }

func (p *byteLevelPost) process(encs []*Encoding, texts []string, _ bool) []*Encoding {
	if !p.TrimOffsets {
		return encs
	}
	for k, e := range encs {
		text := texts[k]
		for i, off := range e.Offsets {
			s, t := off[0], off[1]
			for s < t && s < len(text) && text[s] == ' ' {
				s++
			}
			for t > s && t <= len(text) && text[t-1] == ' ' {
				t--
			}
			e.Offsets[i] = [2]int{s, t}
		}
	}
	return encs
}

// sequencePost applies its post-processors one after the other.
type sequencePost struct {
	list []postProcessor
}

func (p *sequencePost) added(pair bool) int {
	n := 0
	for _, q := range p.list {
		n += q.added(pair)
	}
	return n
}

func (p *sequencePost) process(encs []*Encoding, texts []string, addSpecial bool) []*Encoding {
	for _, q := range p.list {
		encs = q.process(encs, texts, addSpecial)
	}
	return encs
}

func (p *sequencePost) jsonValue() any {
	vals := make([]any, len(p.list))
	for i, q := range p.list {
		vals[i] = q.jsonValue()
	}
	return struct {
		Type       string `json:"type"`
		Processors []any  `json:"processors"`
	}{"Sequence", vals}
}
