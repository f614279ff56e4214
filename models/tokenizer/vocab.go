package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// token is one output of a model or an added token: its id and the byte
// range of the caller's text it covers. (It holds no pointer, so the garbage
// collector does not scan slices of them.)
type token struct {
	id      int
	offsets [2]int
}

// model turns one pre-tokenized piece into tokens.
type model interface {
	tokenize(piece ntext, out []token) []token
	voc() *vocab
	jsonValue() any
}

// vocab maps token strings to ids and back.
type vocab struct {
	ids  map[string]int
	toks []string // by id; "" where no token has the id (see has)
}

// newVocab builds a vocabulary from a map, checking ids are not negative and
// not shared.
func newVocab(m map[string]int) (*vocab, error) {
	v := &vocab{ids: make(map[string]int, len(m))}
	maxID := -1
	for tok, id := range m {
		if id < 0 {
			return nil, fmt.Errorf("token %q has negative id %d", tok, id)
		}
		if id > maxID {
			maxID = id
		}
	}
	if maxID > 4*len(m)+1024 {
		return nil, fmt.Errorf("vocabulary of %d tokens has id %d: ids must be nearly dense", len(m), maxID)
	}
	v.toks = make([]string, maxID+1)
	seen := make([]bool, maxID+1)
	for tok, id := range m {
		if seen[id] {
			return nil, fmt.Errorf("tokens %q and %q share id %d", tok, v.toks[id], id)
		}
		seen[id] = true
		v.toks[id] = tok
		v.ids[tok] = id
	}
	return v, nil
}

// vocabFromList gives token i of list the id i; a repeated token is an error.
func vocabFromList(list []string) (*vocab, error) {
	v := &vocab{ids: make(map[string]int, len(list)), toks: append([]string(nil), list...)}
	for i, tok := range list {
		if j, dup := v.ids[tok]; dup {
			return nil, fmt.Errorf("token %q appears twice (ids %d and %d)", tok, j, i)
		}
		v.ids[tok] = i
	}
	return v, nil
}

func (v *vocab) id(tok string) (int, bool) {
	id, ok := v.ids[tok]
	return id, ok
}

func (v *vocab) token(id int) (string, bool) {
	if id < 0 || id >= len(v.toks) {
		return "", false
	}
	t := v.toks[id]
	if t == "" {
		if j, ok := v.ids[""]; !ok || j != id {
			return "", false
		}
	}
	return t, true
}

func (v *vocab) size() int { return len(v.ids) }

// MarshalJSON writes the vocabulary as a JSON object in id order, as the
// reference library does.
func (v *vocab) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for id := range v.toks {
		tok, ok := v.token(id)
		if !ok {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, err := marshalNoEscape(tok)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		fmt.Fprintf(&b, ":%d", id)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalNoEscape is json.Marshal without the escaping of <, > and &.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
