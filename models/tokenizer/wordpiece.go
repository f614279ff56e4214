package tokenizer

import "fmt"

// wordPiece is BERT's model: each word is cut greedily into the longest
// vocabulary entries from the left, pieces after the first carrying the
// continuing prefix ("##"); a word that cannot be cut, or is longer than
// maxChars characters, becomes the unknown token.
type wordPiece struct {
	vocab    *vocab
	unk      string
	unkID    int
	prefix   string
	maxChars int
}

func newWordPiece(v *vocab, unk, prefix string, maxChars int) (*wordPiece, error) {
	id, ok := v.id(unk)
	if !ok {
		return nil, fmt.Errorf("unk_token %q is not in the vocabulary", unk)
	}
	if maxChars <= 0 {
		return nil, fmt.Errorf("max_input_chars_per_word is %d, want a positive number", maxChars)
	}
	return &wordPiece{vocab: v, unk: unk, unkID: id, prefix: prefix, maxChars: maxChars}, nil
}

func (m *wordPiece) voc() *vocab { return m.vocab }

func (m *wordPiece) tokenize(piece ntext, out []token) []token {
	n := len(piece.runes)
	if n == 0 {
		return out
	}
	unk := token{id: m.unkID, offsets: piece.span(0, n)}
	if n > m.maxChars {
		return append(out, unk)
	}
	s := piece.String()
	// at[i] is the byte position of rune i in s.
	at := make([]int, n+1)
	pos := 0
	for i, r := range piece.runes {
		at[i] = pos
		if isEscaped(r) {
			pos++
		} else {
			pos += len(string(r))
		}
	}
	at[n] = len(s)
	mark := len(out)
	buf := make([]byte, 0, len(m.prefix)+len(s))
	for start := 0; start < n; {
		found := false
		for end := n; end > start; end-- {
			buf = buf[:0]
			if start > 0 {
				buf = append(buf, m.prefix...)
			}
			buf = append(buf, s[at[start]:at[end]]...)
			if id, ok := m.vocab.ids[string(buf)]; ok {
				out = append(out, token{id: id, offsets: piece.span(start, end)})
				start = end
				found = true
				break
			}
		}
		if !found {
			return append(out[:mark], unk)
		}
	}
	return out
}

// wordPieceJSON is the WordPiece model as tokenizer.json writes it.
type wordPieceJSON struct {
	Type                    string `json:"type"`
	UnkToken                string `json:"unk_token"`
	ContinuingSubwordPrefix string `json:"continuing_subword_prefix"`
	MaxInputCharsPerWord    int    `json:"max_input_chars_per_word"`
	Vocab                   *vocab `json:"vocab"`
}

func (m *wordPiece) jsonValue() any {
	return wordPieceJSON{Type: "WordPiece", UnkToken: m.unk, ContinuingSubwordPrefix: m.prefix,
		MaxInputCharsPerWord: m.maxChars, Vocab: m.vocab}
}
