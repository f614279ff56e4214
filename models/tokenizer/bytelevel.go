package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// byteToRune is GPT-2's table from bytes to printable characters: the bytes
// of printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves and
// the other 68 bytes, in increasing order, take the characters from U+0100 on.
// A space is thus 'Ġ' (U+0120) and a newline 'Ċ' (U+010A).
var byteToRune [256]rune

// runeToByte inverts byteToRune.
var runeToByte = map[rune]byte{}

func init() {
	next := rune(256)
	for b := 0; b < 256; b++ {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = next
			next++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// byteLevelDecode turns byte-level tokens back into text. A token with a
// character outside the table is taken as it is written. Bytes that do not
// form valid UTF-8 become U+FFFD (see lossyUTF8).
func byteLevelDecode(tokens []string) string {
	var bs []byte
	for _, tok := range tokens {
		start := len(bs)
		ok := true
		for _, r := range tok {
			b, in := runeToByte[r]
			if !in {
				ok = false
				break
			}
			bs = append(bs, b)
		}
		if !ok {
			bs = append(bs[:start], tok...)
		}
	}
	return lossyUTF8(bs)
}

// lossyUTF8 converts bs to a string, replacing each maximal prefix of a
// UTF-8 sequence that cannot be completed (or each lone bad byte) by one
// U+FFFD — the rule of the WHATWG decoder and of Rust's from_utf8_lossy.
func lossyUTF8(bs []byte) string {
	if utf8.Valid(bs) {
		return string(bs)
	}
	var b strings.Builder
	b.Grow(len(bs) + 8)
	for i := 0; i < len(bs); {
		r, n := utf8.DecodeRune(bs[i:])
		if r != utf8.RuneError || n > 1 {
			b.Write(bs[i : i+n])
			i += n
			continue
		}
		b.WriteRune(utf8.RuneError)
		i += invalidPrefixLen(bs[i:])
	}
	return b.String()
}

// invalidPrefixLen returns how many bytes at the start of bs (which does not
// start with a valid sequence) form the longest prefix of some valid UTF-8
// sequence, at least 1.
func invalidPrefixLen(bs []byte) int {
	lead := bs[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		need = 1
	case lead >= 0xE0 && lead <= 0xEF:
		need = 2
		if lead == 0xE0 {
			lo = 0xA0
		} else if lead == 0xED {
			hi = 0x9F
		}
	case lead >= 0xF0 && lead <= 0xF4:
		need = 3
		if lead == 0xF0 {
			lo = 0x90
		} else if lead == 0xF4 {
			hi = 0x8F
		}
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(bs); k++ {
		c := bs[n]
		if k > 0 {
			lo, hi = 0x80, 0xBF
		}
		if c < lo || c > hi {
			break
		}
		n++
	}
	return n
}
