package tokenizer

import "unicode/utf8"

// ntext is text on its way through the pipeline: one rune at a time, each
// carrying the byte range [start, end) of the caller's original text it came
// from. Normalisers rewrite runes but keep each one tied to its source, so
// that the offsets of the final tokens point into the text the caller gave.
type ntext struct {
	runes []rune
	spans []span
}

// span is a byte range [start, end) of the original text.
type span = [2]int32

// escapeBase is where bytes that are not valid UTF-8 are kept: byte b becomes
// the (otherwise unused) rune escapeBase+b, so byte-level models can still
// encode the original byte.
const escapeBase = 0xDC00

// isEscaped reports whether r stands for an invalid input byte.
func isEscaped(r rune) bool { return r >= escapeBase+0x80 && r <= escapeBase+0xFF }

// newNText splits s into runes whose spans are their byte ranges in s, shifted
// by base (the position of s inside the caller's text).
func newNText(s string, base int) ntext {
	t := ntext{runes: make([]rune, 0, len(s)), spans: make([]span, 0, len(s))}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			r = escapeBase + rune(s[i])
		}
		t.runes = append(t.runes, r)
		t.spans = append(t.spans, span{int32(base + i), int32(base + i + n)})
		i += n
	}
	return t
}

// String returns the runes as a string; escaped bytes come back as themselves.
func (t ntext) String() string {
	return string(appendRunes(make([]byte, 0, len(t.runes)), t.runes))
}

// slice returns runes [i, j) sharing storage with t.
func (t ntext) slice(i, j int) ntext {
	return ntext{runes: t.runes[i:j:j], spans: t.spans[i:j:j]}
}

// push appends rune r coming from span sp.
func (t *ntext) push(r rune, sp span) {
	t.runes = append(t.runes, r)
	t.spans = append(t.spans, sp)
}

// span returns the original byte range covered by runes [i, j): from the start
// of the first to the end of the last.
func (t ntext) span(i, j int) [2]int {
	if i >= j {
		if i < len(t.spans) {
			return [2]int{int(t.spans[i][0]), int(t.spans[i][0])}
		}
		if len(t.spans) > 0 {
			e := int(t.spans[len(t.spans)-1][1])
			return [2]int{e, e}
		}
		return [2]int{}
	}
	return [2]int{int(t.spans[i][0]), int(t.spans[j-1][1])}
}

// mapRunes returns a new text where every rune is replaced by f's runes, all
// tied to the span of the rune they came from.
func (t ntext) mapRunes(f func(r rune, out []rune) []rune) ntext {
	u := ntext{runes: make([]rune, 0, len(t.runes)), spans: make([]span, 0, len(t.runes))}
	var buf []rune
	for i, r := range t.runes {
		buf = f(r, buf[:0])
		for _, q := range buf {
			u.push(q, t.spans[i])
		}
	}
	return u
}
