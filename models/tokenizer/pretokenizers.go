package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// preTokenizer cuts normalised text into the pieces the model tokenizes one
// by one (and, for the byte-level one, rewrites them to its alphabet).
type preTokenizer interface {
	split(pieces []ntext) []ntext
	jsonValue() any
}

// byteLevel is GPT-2's pre-tokenizer: an optional leading space, the split of
// GPT-2's pattern (see splitGPT2), then each piece's UTF-8 bytes mapped to
// printable characters (see byteToRune).
type byteLevel struct {
	Type           string `json:"type"`
	AddPrefixSpace bool   `json:"add_prefix_space"`
	TrimOffsets    bool   `json:"trim_offsets"`
	UseRegex       bool   `json:"use_regex"`
}

func newByteLevel(addPrefixSpace bool) *byteLevel {
	return &byteLevel{Type: "ByteLevel", AddPrefixSpace: addPrefixSpace, TrimOffsets: true, UseRegex: true}
}

func (p *byteLevel) jsonValue() any { return p }

func (p *byteLevel) split(pieces []ntext) []ntext {
	var out []ntext
	for _, t := range pieces {
		if len(t.runes) == 0 {
			continue
		}
		if p.AddPrefixSpace && t.runes[0] != ' ' {
			u := ntext{runes: make([]rune, 0, len(t.runes)+1), spans: make([]span, 0, len(t.runes)+1)}
			u.push(' ', span{t.spans[0][0], t.spans[0][0]})
			u.runes = append(u.runes, t.runes...)
			u.spans = append(u.spans, t.spans...)
			t = u
		}
		bl := toByteLevel(t)
		if !p.UseRegex {
			out = append(out, bl)
			continue
		}
		// Cut the byte-level text where the pattern cuts the runes: a rune
		// of n UTF-8 bytes is n byte-level characters.
		pos := 0
		for _, r := range splitGPT2(t.runes) {
			n := 0
			for _, c := range t.runes[r[0]:r[1]] {
				n += byteLen(c)
			}
			out = append(out, bl.slice(pos, pos+n))
			pos += n
		}
	}
	return out
}

// byteLen is the number of bytes rune r stands for.
func byteLen(r rune) int {
	if isEscaped(r) {
		return 1
	}
	return utf8.RuneLen(r)
}

// toByteLevel rewrites t's UTF-8 bytes as byte-level characters. Each byte
// gets its own one-byte span when its rune maps one to one onto the input
// (so a character split across tokens gives each token its own bytes), and
// the rune's whole span otherwise.
func toByteLevel(t ntext) ntext {
	n := 0
	for _, r := range t.runes {
		n += byteLen(r)
	}
	u := ntext{runes: make([]rune, 0, n), spans: make([]span, 0, n)}
	var buf [4]byte
	for i, r := range t.runes {
		sp := t.spans[i]
		var bs []byte
		if isEscaped(r) {
			buf[0] = byte(r - escapeBase)
			bs = buf[:1]
		} else {
			bs = buf[:utf8.EncodeRune(buf[:], r)]
		}
		exact := int(sp[1]-sp[0]) == len(bs)
		for k, b := range bs {
			s := sp
			if exact {
				s = span{sp[0] + int32(k), sp[0] + int32(k) + 1}
			}
			u.push(byteToRune[b], s)
		}
	}
	return u
}

// splitGPT2 cuts runes as GPT-2's pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// does, trying the alternatives in order at each position, and returns the
// [start, end) rune ranges of the matches, which cover the whole input.
// \s is Unicode's White_Space.
func splitGPT2(rs []rune) [][2]int {
	var out [][2]int
	n := len(rs)
	for i := 0; i < n; {
		j := matchGPT2(rs, i)
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

// matchGPT2 returns the end of GPT-2's pattern's match at position i (always
// past i: every rune is matched by one alternative or another).
func matchGPT2(rs []rune, i int) int {
	n := len(rs)
	c := rs[i]
	if c == '\'' && i+1 < n {
		switch rs[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < n && rs[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < n && rs[i+2] == 'l' {
				return i + 3
			}
		}
	}
	// " ?X+" for the three classes X: letters, numbers, and neither (nor space).
	start := i
	if c == ' ' && i+1 < n {
		start = i + 1
	}
	for _, class := range [3]func(rune) bool{isLetter, isNumber, isOther} {
		k := start
		if !class(rs[k]) {
			if k == i || !class(rs[i]) {
				continue
			}
			k = i // the optional space matched nothing; X+ from i
		}
		for k < n && class(rs[k]) {
			k++
		}
		return k
	}
	// Whitespace: the run, less its last rune when a non-space follows and
	// the run is longer than one (\s+(?!\S)); otherwise the whole run (\s+).
	k := i
	for k < n && unicode.IsSpace(rs[k]) {
		k++
	}
	if k < n && k-i > 1 {
		return k - 1
	}
	return k
}

func isLetter(r rune) bool { return unicode.IsLetter(r) }
func isNumber(r rune) bool { return unicode.IsNumber(r) }

// isOther is [^\s\p{L}\p{N}].
func isOther(r rune) bool { return !unicode.IsSpace(r) && !unicode.IsLetter(r) && !unicode.IsNumber(r) }

// bertPreTokenizer splits on whitespace (dropped) and isolates each
// punctuation character, as BERT's basic tokenizer does.
type bertPreTokenizer struct {
	Type string `json:"type"`
}

func (p *bertPreTokenizer) jsonValue() any { return p }

func (p *bertPreTokenizer) split(pieces []ntext) []ntext {
	var out []ntext
	for _, t := range pieces {
		start := -1
		for i, r := range t.runes {
			switch {
			case unicode.IsSpace(r):
				if start >= 0 {
					out = append(out, t.slice(start, i))
					start = -1
				}
			case isBertPunct(r):
				if start >= 0 {
					out = append(out, t.slice(start, i))
					start = -1
				}
				out = append(out, t.slice(i, i+1))
			default:
				if start < 0 {
					start = i
				}
			}
		}
		if start >= 0 {
			out = append(out, t.slice(start, len(t.runes)))
		}
	}
	return out
}

// isBertPunct is BERT's punctuation: every ASCII character that is neither a
// letter, a digit, a space nor a control, and Unicode category P.
func isBertPunct(r rune) bool {
	if r >= 33 && r <= 47 || r >= 58 && r <= 64 || r >= 91 && r <= 96 || r >= 123 && r <= 126 {
		return true
	}
	return unicode.IsPunct(r)
}

// whitespacePreTokenizer is `\w+|[^\w\s]+` (Whitespace) or a split on
// whitespace alone (WhitespaceSplit).
type whitespacePreTokenizer struct {
	Type string `json:"type"`
}

func (p *whitespacePreTokenizer) jsonValue() any { return p }

func (p *whitespacePreTokenizer) split(pieces []ntext) []ntext {
	splitOnly := p.Type == "WhitespaceSplit"
	class := func(r rune) int {
		switch {
		case unicode.IsSpace(r):
			return 0
		case splitOnly || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.M, unicode.Pc):
			return 1
		}
		return 2
	}
	var out []ntext
	for _, t := range pieces {
		start, cur := 0, 0
		for i, r := range t.runes {
			c := class(r)
			if c != cur {
				if cur != 0 {
					out = append(out, t.slice(start, i))
				}
				start, cur = i, c
			}
		}
		if cur != 0 {
			out = append(out, t.slice(start, len(t.runes)))
		}
	}
	return out
}

// sequencePreTokenizer applies its pre-tokenizers one after the other, each to
// the pieces the previous one made.
type sequencePreTokenizer struct {
	list []preTokenizer
}

func (p *sequencePreTokenizer) split(pieces []ntext) []ntext {
	for _, q := range p.list {
		pieces = q.split(pieces)
	}
	return pieces
}

func (p *sequencePreTokenizer) jsonValue() any {
	vals := make([]any, len(p.list))
	for i, q := range p.list {
		vals[i] = q.jsonValue()
	}
	return struct {
		Type          string `json:"type"`
		PreTokenizers []any  `json:"pretokenizers"`
	}{"Sequence", vals}
}
