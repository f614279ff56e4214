package tokenizer

import "unicode"

// AddedToken is a token matched in the text before the model sees it, such
// as GPT-2's <|endoftext|> or BERT's [CLS]: wherever its content appears, the
// text is cut and the token's id used.
type AddedToken struct {
	ID      int    // the token's id
	Content string // the text it matches
	// SingleWord matches the content only where it is not part of a longer
	// word (no letter, digit or underscore right before or after it).
	SingleWord bool
	// LStrip and RStrip make the match take the whitespace to its left or
	// right along with it.
	LStrip, RStrip bool
	// Normalized matches the content in the normalised text (after
	// lowercasing, say) rather than in the text as given.
	Normalized bool
	// Special marks tokens that Decode leaves out when asked to skip special
	// tokens (the markers of sequence starts, ends and padding).
	Special bool
}

// addedTokenJSON is an added token as tokenizer.json writes it.
type addedTokenJSON struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// trieNode is a node of the matcher's trie over runes.
type trieNode struct {
	next map[rune]*trieNode
	tok  int // index into matcher.tokens of the token ending here, or -1
}

// matcher finds added tokens in text, leftmost first and, among matches that
// start at the same place, longest first.
type matcher struct {
	root   *trieNode
	tokens []AddedToken
}

func newMatcher() *matcher { return &matcher{root: &trieNode{tok: -1}} }

func (m *matcher) add(t AddedToken, content string) {
	if content == "" {
		return
	}
	n := m.root
	for _, r := range content {
		if n.next == nil {
			n.next = map[rune]*trieNode{}
		}
		c, ok := n.next[r]
		if !ok {
			c = &trieNode{tok: -1}
			n.next[r] = c
		}
		n = c
	}
	n.tok = len(m.tokens)
	m.tokens = append(m.tokens, t)
}

func (m *matcher) empty() bool { return len(m.tokens) == 0 }

// match is an added token found at runes [start, end) (with any whitespace
// it strips).
type match struct {
	tok        int
	start, end int
}

// find returns the matches in t, in order and not overlapping.
func (m *matcher) find(rs []rune) []match {
	if m.empty() {
		return nil
	}
	var out []match
	prevEnd := 0
	for i := 0; i < len(rs); {
		n, best, bestEnd := m.root, -1, 0
		for j := i; j < len(rs); j++ {
			n = n.next[rs[j]]
			if n == nil {
				break
			}
			if n.tok >= 0 {
				best, bestEnd = n.tok, j+1
			}
		}
		if best < 0 {
			i++
			continue
		}
		t := m.tokens[best]
		if t.SingleWord && (i > 0 && isWordRune(rs[i-1]) || bestEnd < len(rs) && isWordRune(rs[bestEnd])) {
			i = bestEnd // the longest match is discarded, not replaced by a shorter one
			continue
		}
		start, end := i, bestEnd
		if t.LStrip {
			for start > prevEnd && unicode.IsSpace(rs[start-1]) {
				start--
			}
		}
		if t.RStrip {
			for end < len(rs) && unicode.IsSpace(rs[end]) {
				end++
			}
		}
		out = append(out, match{tok: best, start: start, end: end})
		prevEnd = end
		i = end
	}
	return out
}

// isWordRune is a character that continues a word, for SingleWord.
func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
