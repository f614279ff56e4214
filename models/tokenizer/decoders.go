package tokenizer

import "strings"

// decoder turns tokens back into text. decodeChain returns pieces whose
// concatenation is the text, so that decoders can be chained; isAdded tells
// the tokens the tokenizer added to the model's vocabulary.
type decoder interface {
	decodeChain(tokens []string, isAdded func(string) bool) []string
	jsonValue() any
}

// byteLevelDecoder maps byte-level characters back to bytes. Tokens the
// tokenizer added (special or not) are written as they are.
type byteLevelDecoder struct {
	byteLevel
}

func (d *byteLevelDecoder) decodeChain(tokens []string, isAdded func(string) bool) []string {
	var out []string
	run := 0
	for i, tok := range tokens {
		if isAdded != nil && isAdded(tok) {
			if run < i {
				out = append(out, byteLevelDecode(tokens[run:i]))
			}
			out = append(out, tok)
			run = i + 1
		}
	}
	if run < len(tokens) {
		out = append(out, byteLevelDecode(tokens[run:]))
	}
	return out
}

// wordPieceDecoder joins word pieces: a piece with the prefix is glued to the
// one before, others are preceded by a space; with cleanup, spaces before
// punctuation and English contractions are removed as BERT's tokenizer does.
type wordPieceDecoder struct {
	Type    string `json:"type"`
	Prefix  string `json:"prefix"`
	Cleanup bool   `json:"cleanup"`
}

func (d *wordPieceDecoder) jsonValue() any { return d }

func (d *wordPieceDecoder) decodeChain(tokens []string, _ func(string) bool) []string {
	out := make([]string, len(tokens))
	for i, tok := range tokens {
		if i > 0 {
			if d.Prefix != "" && strings.HasPrefix(tok, d.Prefix) {
				tok = tok[len(d.Prefix):]
			} else {
				tok = " " + tok
			}
		}
		if d.Cleanup {
			tok = cleanupTokenization(tok)
		}
		out[i] = tok
	}
	return out
}

// cleanupReplacer undoes the spaces a word-piece join leaves before
// punctuation and inside English contractions.
var cleanupReplacer = []string{
	" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'", " n't", "n't",
	" 'm", "'m", " do not", " don't", " 's", "'s", " 've", "'ve", " 're", "'re",
}

// cleanupTokenization applies the replacements one after the other, in order.
func cleanupTokenization(s string) string {
	for i := 0; i < len(cleanupReplacer); i += 2 {
		s = strings.ReplaceAll(s, cleanupReplacer[i], cleanupReplacer[i+1])
	}
	return s
}

// sequenceDecoder applies its decoders one after the other.
type sequenceDecoder struct {
	list []decoder
}

func (d *sequenceDecoder) decodeChain(tokens []string, isAdded func(string) bool) []string {
	for _, q := range d.list {
		tokens = q.decodeChain(tokens, isAdded)
	}
	return tokens
}

func (d *sequenceDecoder) jsonValue() any {
	vals := make([]any, len(d.list))
	for i, q := range d.list {
		vals[i] = q.jsonValue()
	}
	return struct {
		Type     string `json:"type"`
		Decoders []any  `json:"decoders"`
	}{"Sequence", vals}
}
