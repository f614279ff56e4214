package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Save writes the tokenizer as a tokenizer.json in the format of the Hugging
// Face tokenizers library (the tests check that its JavaScript port reads it
// and encodes alike). A path that is a directory gets tokenizer.json inside
// it.
func (t *Tokenizer) Save(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, FileName)
	}
	data, err := t.MarshalJSON()
	if err != nil {
		return fmt.Errorf("tokenizer: Save %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("tokenizer: Save: %w", err)
	}
	return nil
}

// MarshalJSON returns the tokenizer.json contents (indented, keys in the
// reference library's order).
func (t *Tokenizer) MarshalJSON() ([]byte, error) {
	val := func(c interface{ jsonValue() any }, isNil bool) any {
		if isNil {
			return nil
		}
		return c.jsonValue()
	}
	added := make([]addedTokenJSON, 0, len(t.added))
	for _, a := range t.AddedTokens() {
		added = append(added, addedTokenJSON{ID: a.ID, Content: a.Content, SingleWord: a.SingleWord,
			LStrip: a.LStrip, RStrip: a.RStrip, Normalized: a.Normalized, Special: a.Special})
	}
	f := struct {
		Version       string           `json:"version"`
		Truncation    any              `json:"truncation"`
		Padding       any              `json:"padding"`
		AddedTokens   []addedTokenJSON `json:"added_tokens"`
		Normalizer    any              `json:"normalizer"`
		PreTokenizer  any              `json:"pre_tokenizer"`
		PostProcessor any              `json:"post_processor"`
		Decoder       any              `json:"decoder"`
		Model         any              `json:"model"`
	}{
		Version:       "1.0",
		AddedTokens:   added,
		Normalizer:    val(t.normalizer, t.normalizer == nil),
		PreTokenizer:  val(t.preTok, t.preTok == nil),
		PostProcessor: val(t.post, t.post == nil),
		Decoder:       val(t.decoder, t.decoder == nil),
		Model:         t.model.jsonValue(),
	}
	if t.truncation != nil {
		f.Truncation = truncationToJSON(t.truncation)
	}
	if t.padding != nil {
		f.Padding = paddingToJSON(t.padding)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
