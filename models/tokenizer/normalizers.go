package tokenizer

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites text before it is split, keeping every rune tied to the
// span of the input it came from.
type normalizer interface {
	normalize(t ntext) ntext
	// jsonValue is the component as tokenizer.json writes it.
	jsonValue() any
}

// bertNormalizer is the normaliser of BERT: control characters removed,
// whitespace made plain spaces, spaces put around CJK ideographs, accents
// stripped and text lowercased.
type bertNormalizer struct {
	Type               string `json:"type"`
	CleanText          bool   `json:"clean_text"`
	HandleChineseChars bool   `json:"handle_chinese_chars"`
	StripAccents       *bool  `json:"strip_accents"`
	Lowercase          bool   `json:"lowercase"`
}

func newBertNormalizer(lowercase bool) *bertNormalizer {
	return &bertNormalizer{Type: "BertNormalizer", CleanText: true, HandleChineseChars: true, Lowercase: lowercase}
}

func (n *bertNormalizer) jsonValue() any { return n }

func (n *bertNormalizer) normalize(t ntext) ntext {
	strip := n.Lowercase
	if n.StripAccents != nil {
		strip = *n.StripAccents
	}
	// One pass, in the reference's order for each character: clean, pad
	// CJK, decompose and drop nonspacing marks, lowercase.
	u := ntext{runes: make([]rune, 0, len(t.runes)+8), spans: make([]span, 0, len(t.runes)+8)}
	var dec []rune
	reorder := false
	for i, r := range t.runes {
		sp := t.spans[i]
		if n.CleanText {
			switch {
			case r == 0 || r == 0xFFFD || isEscaped(r) || isControl(r):
				continue
			case isBertWhitespace(r):
				r = ' '
			}
		}
		cjk := n.HandleChineseChars && isChineseChar(r)
		if cjk {
			u.push(' ', sp)
		}
		switch {
		case r < 0x80:
			if n.Lowercase && r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
			u.push(r, sp)
		case strip:
			dec = appendNFD(dec[:0], r, norm.NFD)
			for _, q := range dec {
				if unicode.Is(unicode.Mn, q) {
					continue
				}
				if q >= 0x300 && combiningClass(q) != 0 {
					reorder = true
				}
				if n.Lowercase {
					q = unicode.ToLower(q)
				}
				u.push(q, sp)
			}
		case n.Lowercase:
			if r == 0x130 {
				u.push('i', sp)
				u.push(0x307, sp)
			} else {
				u.push(unicode.ToLower(r), sp)
			}
		default:
			u.push(r, sp)
		}
		if cjk {
			u.push(' ', sp)
		}
	}
	if reorder {
		canonicalOrder(u)
	}
	return u
}

// isBertWhitespace is BERT's whitespace: tab, newline, carriage return and
// Unicode White_Space.
func isBertWhitespace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r)
}

// isControl is BERT's control character: categories Cc, Cf and Co, except the
// tab, newline and carriage return that count as whitespace.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co)
}

// isChineseChar reports whether r lies in a CJK Unified Ideographs block (the
// ranges BERT's tokenizer pads with spaces).
func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

// lowercase lowercases rune by rune with Unicode's full mapping (İ becomes i
// followed by a combining dot), without context-dependent rules such as the
// Greek final sigma.
func lowercase(t ntext) ntext {
	return t.mapRunes(func(r rune, out []rune) []rune {
		if r == 0x130 {
			return append(out, 'i', 0x307)
		}
		return append(out, unicode.ToLower(r))
	})
}

// stripAccents removes the runes of the given mark category.
func stripAccents(t ntext, marks *unicode.RangeTable) ntext {
	return t.mapRunes(func(r rune, out []rune) []rune {
		if unicode.Is(marks, r) {
			return out
		}
		return append(out, r)
	})
}

// nfd decomposes t with form (norm.NFD or norm.NFKD): each rune is decomposed
// on its own, then runs of combining marks are put in canonical order, so the
// result is the form's text with each rune tied to the rune it came from.
func nfd(t ntext, form norm.Form) ntext {
	u := t.mapRunes(func(r rune, out []rune) []rune { return appendNFD(out, r, form) })
	canonicalOrder(u)
	return u
}

// Hangul syllables decompose by arithmetic (Unicode §3.12).
const (
	hangulBase  = 0xAC00
	hangulCount = 11172
	jamoL       = 0x1100
	jamoV       = 0x1161
	jamoT       = 0x11A7
	jamoVCount  = 21
	jamoTCount  = 28
)

// appendNFD appends the full decomposition of r under form.
func appendNFD(out []rune, r rune, form norm.Form) []rune {
	if r < 0xC0 && form == norm.NFD || r < 0x80 || isEscaped(r) {
		return append(out, r)
	}
	if s := r - hangulBase; s >= 0 && s < hangulCount {
		out = append(out, jamoL+s/(jamoVCount*jamoTCount), jamoV+s%(jamoVCount*jamoTCount)/jamoTCount)
		if t := s % jamoTCount; t != 0 {
			out = append(out, jamoT+t)
		}
		return out
	}
	var b [utf8.UTFMax]byte
	d := form.Properties(b[:utf8.EncodeRune(b[:], r)]).Decomposition()
	if d == nil {
		return append(out, r)
	}
	for len(d) > 0 {
		q, n := utf8.DecodeRune(d)
		out = append(out, q)
		d = d[n:]
	}
	return out
}

// combiningClass is the canonical combining class of r.
func combiningClass(r rune) uint8 {
	if r < 0x300 || isEscaped(r) {
		return 0
	}
	var b [utf8.UTFMax]byte
	return norm.NFD.Properties(b[:utf8.EncodeRune(b[:], r)]).CCC()
}

// canonicalOrder sorts, stably and in place, each run of runes whose
// combining class is not zero by that class (spans move with their runes).
func canonicalOrder(u ntext) {
	for i := 1; i < len(u.runes); i++ {
		c := combiningClass(u.runes[i])
		if c == 0 {
			continue
		}
		for j := i; j > 0; j-- {
			p := combiningClass(u.runes[j-1])
			if p == 0 || p <= c {
				break
			}
			u.runes[j], u.runes[j-1] = u.runes[j-1], u.runes[j]
			u.spans[j], u.spans[j-1] = u.spans[j-1], u.spans[j]
		}
	}
}

// nfc composes t with form (norm.NFC or norm.NFKC). Text is cut where the
// form allows a boundary; each piece is normalised on its own and its runes
// keep their spans when the piece keeps its length, or all take the piece's
// whole span when it does not.
func nfc(t ntext, form norm.Form) ntext {
	u := ntext{runes: make([]rune, 0, len(t.runes)), spans: make([]span, 0, len(t.runes))}
	start := 0
	flush := func(end int) {
		if start >= end {
			return
		}
		seg := t.slice(start, end)
		out := []rune(form.String(seg.String()))
		if len(out) == end-start {
			for k, r := range out {
				u.push(r, seg.spans[k])
			}
		} else {
			sp := span{seg.spans[0][0], seg.spans[len(seg.spans)-1][1]}
			for _, r := range out {
				u.push(r, sp)
			}
		}
		start = end
	}
	for i, r := range t.runes {
		if i > 0 && (r < 0x80 || isEscaped(r) || form.PropertiesString(string(r)).BoundaryBefore()) {
			flush(i)
		}
	}
	flush(len(t.runes))
	return u
}

// simpleNormalizer is a normaliser without options: Lowercase, StripAccents,
// NFD, NFKD, NFC or NFKC.
type simpleNormalizer struct {
	Type string `json:"type"`
}

func (n *simpleNormalizer) jsonValue() any { return n }

func (n *simpleNormalizer) normalize(t ntext) ntext {
	switch n.Type {
	case "Lowercase":
		return lowercase(t)
	case "StripAccents":
		return stripAccents(t, unicode.M)
	case "NFD":
		return nfd(t, norm.NFD)
	case "NFKD":
		return nfd(t, norm.NFKD)
	case "NFC":
		return nfc(t, norm.NFC)
	case "NFKC":
		return nfc(t, norm.NFKC)
	}
	panic("tokenizer: unknown simple normalizer " + n.Type)
}

// stripNormalizer removes whitespace at the start and/or end.
type stripNormalizer struct {
	Type       string `json:"type"`
	StripLeft  bool   `json:"strip_left"`
	StripRight bool   `json:"strip_right"`
}

func (n *stripNormalizer) jsonValue() any { return n }

func (n *stripNormalizer) normalize(t ntext) ntext {
	i, j := 0, len(t.runes)
	if n.StripLeft {
		for i < j && unicode.IsSpace(t.runes[i]) {
			i++
		}
	}
	if n.StripRight {
		for j > i && unicode.IsSpace(t.runes[j-1]) {
			j--
		}
	}
	return t.slice(i, j)
}

// sequenceNormalizer applies its normalisers in order.
type sequenceNormalizer struct {
	list []normalizer
}

func (n *sequenceNormalizer) normalize(t ntext) ntext {
	for _, m := range n.list {
		t = m.normalize(t)
	}
	return t
}

func (n *sequenceNormalizer) jsonValue() any {
	vals := make([]any, len(n.list))
	for i, m := range n.list {
		vals[i] = m.jsonValue()
	}
	return struct {
		Type        string `json:"type"`
		Normalizers []any  `json:"normalizers"`
	}{"Sequence", vals}
}
