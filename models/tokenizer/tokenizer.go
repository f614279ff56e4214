// Package tokenizer turns text into the token ids that language models read,
// and back, with the tokenizers of GPT-2 (byte-level BPE) and BERT
// (WordPiece). It loads Hugging Face tokenizer.json files — normaliser,
// pre-tokenizer, model, post-processor, decoder, added tokens, truncation and
// padding — and writes them back in the same format (the tests load graft's
// files with the JavaScript port of the tokenizers library). It also
// builds tokenizers from the files the classic models shipped: GPT-2's
// encoder.json and vocab.bpe (NewGPT2) and BERT's vocab.txt (NewWordPiece).
//
// Offsets in an Encoding are byte offsets into the text that was encoded.
// Encoding is deterministic and safe for concurrent use; nothing is
// downloaded.
package tokenizer

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Tokenizer encodes text into token ids and decodes ids into text. Make one
// with Load, NewGPT2 or NewWordPiece.
type Tokenizer struct {
	normalizer normalizer    // nil: none
	preTok     preTokenizer  // nil: the whole text is one piece
	model      model         // never nil
	post       postProcessor // nil: sequences are joined as they are
	decoder    decoder       // nil: tokens joined by spaces

	added     []AddedToken
	addedByID map[int]int    // id → index in added
	addedIDs  map[string]int // content → id
	raw, nrm  *matcher       // added tokens matched before / after normalising

	truncation *Truncation
	padding    *Padding
	source     string // where the tokenizer came from, for messages
}

// Encoding is the result of encoding one text (or a pair of texts). All
// slices have one entry per token.
type Encoding struct {
	IDs     []int    // token ids
	Tokens  []string // token strings
	Offsets [][2]int // byte range [start, end) of each token in its text; [0, 0] for added special tokens and padding
	// AttentionMask is 1 for tokens and 0 for padding.
	AttentionMask []int
	// TypeIDs are the segment ids: 0 for the first text, 1 for the second of
	// a pair (as the post-processor sets them).
	TypeIDs []int
}

// Len returns the number of tokens.
func (e *Encoding) Len() int { return len(e.IDs) }

// newEncoding returns an empty encoding with room for n tokens.
func newEncoding(n int) *Encoding {
	return &Encoding{IDs: make([]int, 0, n), Tokens: make([]string, 0, n), Offsets: make([][2]int, 0, n),
		AttentionMask: make([]int, 0, n), TypeIDs: make([]int, 0, n)}
}

func (e *Encoding) push(id int, tok string, off [2]int, typeID int) {
	e.IDs = append(e.IDs, id)
	e.Tokens = append(e.Tokens, tok)
	e.Offsets = append(e.Offsets, off)
	e.TypeIDs = append(e.TypeIDs, typeID)
	e.AttentionMask = append(e.AttentionMask, 1)
}

// appendEnc appends all of f to e.
func (e *Encoding) appendEnc(f *Encoding) {
	e.IDs = append(e.IDs, f.IDs...)
	e.Tokens = append(e.Tokens, f.Tokens...)
	e.Offsets = append(e.Offsets, f.Offsets...)
	e.TypeIDs = append(e.TypeIDs, f.TypeIDs...)
	e.AttentionMask = append(e.AttentionMask, f.AttentionMask...)
}

// keep cuts e to tokens [i, j).
func (e *Encoding) keep(i, j int) {
	e.IDs = e.IDs[i:j]
	e.Tokens = e.Tokens[i:j]
	e.Offsets = e.Offsets[i:j]
	e.TypeIDs = e.TypeIDs[i:j]
	e.AttentionMask = e.AttentionMask[i:j]
}

// newTokenizer assembles a tokenizer and indexes its added tokens.
func newTokenizer(n normalizer, p preTokenizer, m model, post postProcessor, d decoder, added []AddedToken, source string) (*Tokenizer, error) {
	t := &Tokenizer{normalizer: n, preTok: p, model: m, post: post, decoder: d, source: source}
	if err := t.setAdded(added); err != nil {
		return nil, err
	}
	return t, nil
}

// setAdded replaces the added tokens and rebuilds the matchers; on error the
// tokenizer is left as it was.
func (t *Tokenizer) setAdded(added []AddedToken) error {
	list := append([]AddedToken(nil), added...)
	byID, ids := map[int]int{}, map[string]int{}
	raw, nrm := newMatcher(), newMatcher()
	for i, a := range list {
		if a.ID < 0 {
			return fmt.Errorf("added token %q has negative id %d", a.Content, a.ID)
		}
		if a.Content == "" {
			return fmt.Errorf("added token %d has empty content", a.ID)
		}
		if j, dup := byID[a.ID]; dup {
			return fmt.Errorf("added tokens %q and %q share id %d", list[j].Content, a.Content, a.ID)
		}
		if mid, ok := t.model.voc().id(a.Content); ok && mid != a.ID {
			return fmt.Errorf("added token %q has id %d but the model's vocabulary gives it id %d", a.Content, a.ID, mid)
		}
		if tok, ok := t.model.voc().token(a.ID); ok && tok != a.Content {
			return fmt.Errorf("added token %q has id %d, which the model's vocabulary gives to %q", a.Content, a.ID, tok)
		}
		byID[a.ID] = i
		ids[a.Content] = a.ID
		if a.Normalized && t.normalizer != nil {
			nrm.add(a, t.normalizer.normalize(newNText(a.Content, 0)).String())
		} else {
			raw.add(a, a.Content)
		}
	}
	t.added, t.addedByID, t.addedIDs, t.raw, t.nrm = list, byID, ids, raw, nrm
	return nil
}

// Encode encodes text, with the special tokens the post-processor adds (such
// as BERT's [CLS] and [SEP]), truncated and padded as set.
func (t *Tokenizer) Encode(text string) *Encoding {
	return t.encode([]string{text}, true)
}

// EncodePair encodes two texts as one input (a question and a passage, two
// sentences), the second with type id 1 where the post-processor says so.
func (t *Tokenizer) EncodePair(first, second string) *Encoding {
	return t.encode([]string{first, second}, true)
}

// EncodeOptions encodes one text, or a pair when second is not empty, with
// the special tokens only when addSpecial is true.
func (t *Tokenizer) EncodeOptions(first, second string, addSpecial bool) *Encoding {
	texts := []string{first}
	if second != "" {
		texts = append(texts, second)
	}
	return t.encode(texts, addSpecial)
}

func (t *Tokenizer) encode(texts []string, addSpecial bool) *Encoding {
	encs := make([]*Encoding, len(texts))
	for k, s := range texts {
		encs[k] = t.encodeSeq(s, k)
	}
	if t.truncation != nil {
		n := 0
		if addSpecial && t.post != nil {
			n = t.post.added(len(texts) == 2)
		}
		t.truncation.apply(encs, n)
	}
	if t.post != nil {
		encs = t.post.process(encs, texts, addSpecial)
	}
	out := encs[0]
	for _, e := range encs[1:] {
		out.appendEnc(e)
	}
	if t.padding != nil {
		t.padding.apply([]*Encoding{out})
	}
	return out
}

// encodeSeq runs one text through added-token matching, normalisation,
// pre-tokenization and the model.
func (t *Tokenizer) encodeSeq(text string, typeID int) *Encoding {
	toks := make([]token, 0, len(text)/3+4)
	raw := newNText(text, 0)
	prev := 0
	for _, m := range t.raw.find(raw.runes) {
		toks = t.encodeSpan(raw.slice(prev, m.start), toks)
		a := t.raw.tokens[m.tok]
		toks = append(toks, token{id: a.ID, offsets: raw.span(m.start, m.end)})
		prev = m.end
	}
	toks = t.encodeSpan(raw.slice(prev, len(raw.runes)), toks)
	e := newEncoding(len(toks))
	for _, tk := range toks {
		s, _ := t.IDToToken(tk.id)
		e.push(tk.id, s, tk.offsets, typeID)
	}
	return e
}

// encodeSpan normalises a stretch of text free of raw added tokens, then
// matches the normalised added tokens and tokenizes what lies between.
func (t *Tokenizer) encodeSpan(s ntext, out []token) []token {
	if len(s.runes) == 0 {
		return out
	}
	if t.normalizer != nil {
		s = t.normalizer.normalize(s)
	}
	prev := 0
	for _, m := range t.nrm.find(s.runes) {
		out = t.tokenizePieces(s.slice(prev, m.start), out)
		a := t.nrm.tokens[m.tok]
		out = append(out, token{id: a.ID, offsets: s.span(m.start, m.end)})
		prev = m.end
	}
	return t.tokenizePieces(s.slice(prev, len(s.runes)), out)
}

func (t *Tokenizer) tokenizePieces(s ntext, out []token) []token {
	if len(s.runes) == 0 {
		return out
	}
	pieces := []ntext{s}
	if t.preTok != nil {
		pieces = t.preTok.split(pieces)
	}
	for _, p := range pieces {
		out = t.model.tokenize(p, out)
	}
	return out
}

// Batch is the result of EncodeBatch: one Encoding per text, and their ids,
// masks and type ids as rows (all of one length when padded).
type Batch struct {
	Encodings     []*Encoding
	IDs           [][]int
	AttentionMask [][]int
	TypeIDs       [][]int
}

// EncodeBatch encodes texts (in parallel). With pad, the encodings are padded
// to a common length: as SetPadding says if it was called, otherwise to the
// longest with DefaultPadding's token.
func (t *Tokenizer) EncodeBatch(texts []string, pad bool) *Batch {
	encs := make([]*Encoding, len(texts))
	workers := runtime.GOMAXPROCS(0)
	if workers > len(texts) {
		workers = len(texts)
	}
	var wg sync.WaitGroup
	next := make(chan int, len(texts))
	for i := range texts {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				encs[i] = t.encode(texts[i:i+1], true)
			}
		}()
	}
	wg.Wait()
	if pad {
		p := t.padding
		if p == nil {
			p = t.DefaultPadding()
		}
		p.apply(encs)
	}
	b := &Batch{Encodings: encs}
	for _, e := range encs {
		b.IDs = append(b.IDs, e.IDs)
		b.AttentionMask = append(b.AttentionMask, e.AttentionMask)
		b.TypeIDs = append(b.TypeIDs, e.TypeIDs)
	}
	return b
}

// Decode turns ids back into text. With skipSpecial, the special added tokens
// ([CLS], <|endoftext|>, padding …) are left out. Ids the tokenizer does not
// know are skipped.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if i, ok := t.addedByID[id]; ok {
			if skipSpecial && t.added[i].Special {
				continue
			}
			toks = append(toks, t.added[i].Content)
			continue
		}
		if s, ok := t.model.voc().token(id); ok {
			toks = append(toks, s)
		}
	}
	if t.decoder == nil {
		return strings.Join(toks, " ")
	}
	isAdded := func(s string) bool { _, ok := t.addedIDs[s]; return ok }
	return strings.Join(t.decoder.decodeChain(toks, isAdded), "")
}

// VocabSize returns the number of token ids: the model's vocabulary and the
// added tokens it does not hold.
func (t *Tokenizer) VocabSize() int {
	n := t.model.voc().size()
	for _, a := range t.added {
		if _, ok := t.model.voc().id(a.Content); !ok {
			n++
		}
	}
	return n
}

// TokenToID returns the id of a token string.
func (t *Tokenizer) TokenToID(tok string) (int, bool) {
	if id, ok := t.addedIDs[tok]; ok {
		return id, true
	}
	return t.model.voc().id(tok)
}

// IDToToken returns the token string of an id.
func (t *Tokenizer) IDToToken(id int) (string, bool) {
	if i, ok := t.addedByID[id]; ok {
		return t.added[i].Content, true
	}
	return t.model.voc().token(id)
}

// AddedTokens returns the added tokens, in id order.
func (t *Tokenizer) AddedTokens() []AddedToken {
	out := append([]AddedToken(nil), t.added...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// AddTokens adds tokens matched before the model (see AddedToken) and
// returns their ids: a content already in the vocabulary keeps its id, a new
// one gets the next free id. Tokens already added are left as they are.
// Special tokens are matched in the text as given, others after
// normalisation. Do not call it while other goroutines encode.
func (t *Tokenizer) AddTokens(contents []string, special bool) ([]int, error) {
	added := append([]AddedToken(nil), t.added...)
	next := t.model.voc().size()
	if n := len(t.model.voc().toks); n > next {
		next = n
	}
	for _, a := range added {
		if a.ID >= next {
			next = a.ID + 1
		}
	}
	ids := make([]int, len(contents))
	seen := map[string]int{}
	for i, c := range contents {
		if c == "" {
			return nil, fmt.Errorf("tokenizer: AddTokens: token %d is empty", i)
		}
		if id, ok := t.addedIDs[c]; ok {
			ids[i] = id
			continue
		}
		if id, ok := seen[c]; ok {
			ids[i] = id
			continue
		}
		id, ok := t.model.voc().id(c)
		if !ok {
			id = next
			next++
		}
		added = append(added, AddedToken{ID: id, Content: c, Special: special, Normalized: !special})
		ids[i] = id
		seen[c] = id
	}
	if err := t.setAdded(added); err != nil {
		return nil, fmt.Errorf("tokenizer: AddTokens: %w", err)
	}
	return ids, nil
}

// SetAddPrefixSpace turns on or off the space the byte-level pre-tokenizer
// puts before text that does not start with one (so that the first word is
// encoded as it would be mid-sentence). It is an error for a tokenizer that
// is not byte-level.
func (t *Tokenizer) SetAddPrefixSpace(on bool) error {
	found := false
	var walk func(p preTokenizer)
	walk = func(p preTokenizer) {
		switch q := p.(type) {
		case *byteLevel:
			q.AddPrefixSpace = on
			found = true
		case *sequencePreTokenizer:
			for _, r := range q.list {
				walk(r)
			}
		}
	}
	walk(t.preTok)
	if !found {
		return fmt.Errorf("tokenizer: SetAddPrefixSpace: %s has no ByteLevel pre-tokenizer", t.describe())
	}
	return nil
}

// String describes the tokenizer in one line.
func (t *Tokenizer) String() string {
	return fmt.Sprintf("Tokenizer(%s, %d ids, %d added tokens)", t.describe(), t.VocabSize(), len(t.added))
}

func (t *Tokenizer) describe() string {
	kind := "BPE"
	if _, ok := t.model.(*wordPiece); ok {
		kind = "WordPiece"
	}
	if t.source != "" {
		return kind + " from " + t.source
	}
	return kind
}
