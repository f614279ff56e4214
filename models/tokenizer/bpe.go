package tokenizer

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// bpe is a byte-pair-encoding model: a piece starts as its characters and
// adjacent pairs are merged, lowest rank first (leftmost among equals), while
// a merge applies.
type bpe struct {
	vocab        *vocab
	merges       map[uint64]mergeRule // (left id, right id) → rule
	mergeList    [][2]string          // in rank order, for saving
	unk          *string
	contPrefix   string
	eowSuffix    string
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool

	mu    sync.RWMutex
	cache map[string][]cachedTok
}

type mergeRule struct {
	rank  int
	newID int
}

// cachedTok is a token of a cached piece: id and rune range.
type cachedTok struct {
	id         int
	start, end int
}

// cacheLimit bounds the pieces remembered; the cache is emptied when full.
const cacheLimit = 20000

func pairKey(a, b int) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// bpeOptions are the model settings of tokenizer.json besides vocabulary and
// merges.
type bpeOptions struct {
	unk          *string
	contPrefix   string
	eowSuffix    string
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
}

// newBPE checks the merges against the vocabulary: both parts and their
// concatenation (less the continuing prefix on the right part) must be tokens.
func newBPE(v *vocab, merges [][2]string, opt bpeOptions) (*bpe, error) {
	m := &bpe{vocab: v, merges: make(map[uint64]mergeRule, len(merges)), mergeList: merges,
		unk: opt.unk, contPrefix: opt.contPrefix, eowSuffix: opt.eowSuffix, fuseUnk: opt.fuseUnk,
		byteFallback: opt.byteFallback, ignoreMerges: opt.ignoreMerges, cache: map[string][]cachedTok{}}
	if m.unk != nil {
		if _, ok := v.id(*m.unk); !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocabulary", *m.unk)
		}
	}
	for rank, mg := range merges {
		a, okA := v.id(mg[0])
		b, okB := v.id(mg[1])
		if !okA || !okB {
			missing := mg[0]
			if okA {
				missing = mg[1]
			}
			return nil, fmt.Errorf("merge %d (%q %q): %q is not in the vocabulary", rank, mg[0], mg[1], missing)
		}
		joined := mg[0] + strings.TrimPrefix(mg[1], m.contPrefix)
		id, ok := v.id(joined)
		if !ok {
			return nil, fmt.Errorf("merge %d (%q %q): the merged token %q is not in the vocabulary", rank, mg[0], mg[1], joined)
		}
		// A repeated pair takes its last rank, as the reference tools do.
		m.merges[pairKey(a, b)] = mergeRule{rank: rank, newID: id}
	}
	return m, nil
}

func (m *bpe) voc() *vocab { return m.vocab }

func (m *bpe) tokenize(piece ntext, out []token) []token {
	if len(piece.runes) == 0 {
		return out
	}
	var kb [128]byte
	key := appendRunes(kb[:0], piece.runes)
	m.mu.RLock()
	toks, hit := m.cache[string(key)] // no allocation for the lookup
	m.mu.RUnlock()
	if !hit {
		s := string(key)
		toks = m.word(s, piece.runes)
		m.mu.Lock()
		if len(m.cache) >= cacheLimit {
			clear(m.cache)
		}
		m.cache[s] = toks
		m.mu.Unlock()
	}
	for _, t := range toks {
		out = append(out, token{id: t.id, offsets: piece.span(t.start, t.end)})
	}
	return out
}

// appendRunes appends the UTF-8 form of rs (escaped bytes as themselves).
func appendRunes(b []byte, rs []rune) []byte {
	for _, r := range rs {
		if isEscaped(r) {
			b = append(b, byte(r-escapeBase))
		} else {
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

// symbol is a part of a word during merging; dead once merged into its left
// neighbour.
type symbol struct {
	id         int
	start, end int // rune range
	prev, next int
	dead       bool
}

// word tokenizes one piece (s is its text, rs its runes).
func (m *bpe) word(s string, rs []rune) []cachedTok {
	if m.ignoreMerges {
		if id, ok := m.vocab.id(s); ok {
			return []cachedTok{{id, 0, len(rs)}}
		}
	}
	syms := make([]symbol, 0, len(rs))
	add := func(id, start, end int) {
		syms = append(syms, symbol{id: id, start: start, end: end})
	}
	unkID := -1
	if m.unk != nil {
		unkID, _ = m.vocab.id(*m.unk)
	}
	pendingUnk := -1 // start rune of an unknown run not yet added
	flushUnk := func(end int) {
		if pendingUnk >= 0 {
			add(unkID, pendingUnk, end)
			pendingUnk = -1
		}
	}
	buf := make([]byte, 0, 32)
	for i, r := range rs {
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, m.contPrefix...)
		}
		buf = appendRunes(buf, rs[i:i+1])
		if i == len(rs)-1 {
			buf = append(buf, m.eowSuffix...)
		}
		if id, ok := m.vocab.ids[string(buf)]; ok { // no allocation for the lookup
			flushUnk(i)
			add(id, i, i+1)
			continue
		}
		if m.byteFallback {
			var ids []int
			for _, b := range []byte(string(r)) {
				id, ok := m.vocab.id(fmt.Sprintf("<0x%02X>", b))
				if !ok {
					ids = nil
					break
				}
				ids = append(ids, id)
			}
			if ids != nil {
				flushUnk(i)
				for _, id := range ids {
					add(id, i, i+1)
				}
				continue
			}
		}
		if unkID < 0 {
			continue // no unknown token: the character is dropped
		}
		if pendingUnk >= 0 && !m.fuseUnk {
			flushUnk(i)
		}
		if pendingUnk < 0 {
			pendingUnk = i
		}
	}
	flushUnk(len(rs))
	for i := range syms {
		syms[i].prev, syms[i].next = i-1, i+1
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	m.merge(syms)
	toks := make([]cachedTok, 0, len(syms))
	for _, sy := range syms {
		if !sy.dead {
			toks = append(toks, cachedTok{sy.id, sy.start, sy.end})
		}
	}
	return toks
}

// merge applies the merges to syms in place.
func (m *bpe) merge(syms []symbol) {
	q := make(mergeQueue, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if r, ok := m.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			q.push(mergeItem{rank: r.rank, pos: i, newID: r.newID})
		}
	}
	for len(q) > 0 {
		top := q.pop()
		cur := &syms[top.pos]
		if cur.dead || cur.next < 0 {
			continue
		}
		right := &syms[cur.next]
		if r, ok := m.merges[pairKey(cur.id, right.id)]; !ok || r.newID != top.newID {
			continue // stale entry
		}
		cur.id = top.newID
		cur.end = right.end
		cur.next = right.next
		right.dead = true
		if cur.next >= 0 {
			syms[cur.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if r, ok := m.merges[pairKey(syms[cur.prev].id, cur.id)]; ok {
				q.push(mergeItem{rank: r.rank, pos: cur.prev, newID: r.newID})
			}
		}
		if cur.next >= 0 {
			if r, ok := m.merges[pairKey(cur.id, syms[cur.next].id)]; ok {
				q.push(mergeItem{rank: r.rank, pos: top.pos, newID: r.newID})
			}
		}
	}
}

type mergeItem struct {
	rank, pos, newID int
}

// before orders merges: lower rank first, then leftmost.
func (a mergeItem) before(b mergeItem) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.pos < b.pos
}

// mergeQueue is a binary min-heap of merges (container/heap would box each
// item in an interface).
type mergeQueue []mergeItem

func (q *mergeQueue) push(x mergeItem) {
	h := append(*q, x)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	*q = h
}

func (q *mergeQueue) pop() mergeItem {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h[l].before(h[m]) {
			m = l
		}
		if r < n && h[r].before(h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}

// bpeJSON is the BPE model as tokenizer.json writes it.
type bpeJSON struct {
	Type                    string   `json:"type"`
	Dropout                 *float64 `json:"dropout"`
	UnkToken                *string  `json:"unk_token"`
	ContinuingSubwordPrefix *string  `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string  `json:"end_of_word_suffix"`
	FuseUnk                 bool     `json:"fuse_unk"`
	ByteFallback            bool     `json:"byte_fallback"`
	IgnoreMerges            bool     `json:"ignore_merges,omitempty"` // left out when false, for older readers
	Vocab                   *vocab   `json:"vocab"`
	Merges                  any      `json:"merges"`
}

func (m *bpe) jsonValue() any {
	j := bpeJSON{Type: "BPE", UnkToken: m.unk, FuseUnk: m.fuseUnk, ByteFallback: m.byteFallback,
		IgnoreMerges: m.ignoreMerges, Vocab: m.vocab}
	if m.contPrefix != "" {
		j.ContinuingSubwordPrefix = &m.contPrefix
	}
	if m.eowSuffix != "" {
		j.EndOfWordSuffix = &m.eowSuffix
	}
	// "a b" strings are read by every version of the reference library; pairs
	// are needed only when a token holds a space.
	spaced := false
	for _, mg := range m.mergeList {
		if strings.Contains(mg[0], " ") || strings.Contains(mg[1], " ") {
			spaced = true
			break
		}
	}
	if spaced {
		j.Merges = m.mergeList
	} else {
		list := make([]string, len(m.mergeList))
		for i, mg := range m.mergeList {
			list[i] = mg[0] + " " + mg[1]
		}
		j.Merges = list
	}
	return j
}
