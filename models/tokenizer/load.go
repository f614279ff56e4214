package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the name of a tokenizer file inside a model directory.
const FileName = "tokenizer.json"

// Load reads a Hugging Face tokenizer.json — the file itself, or a directory
// holding one. Fields graft does not use are ignored; a component of a type
// graft does not implement is an error naming the type and the file.
//
// Supported: models BPE and WordPiece; normalizers BertNormalizer,
// Lowercase, StripAccents, NFC, NFD, NFKC, NFKD, Strip and Sequence;
// pre-tokenizers ByteLevel, BertPreTokenizer, Whitespace, WhitespaceSplit and
// Sequence; post-processors TemplateProcessing, BertProcessing, ByteLevel and
// Sequence; decoders ByteLevel, WordPiece and Sequence.
func Load(path string) (*Tokenizer, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, FileName)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := parse(data, path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return t, nil
}

// Parse reads a tokenizer from the contents of a tokenizer.json; name is used
// in error messages.
func Parse(data []byte, name string) (*Tokenizer, error) {
	t, err := parse(data, name)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	return t, nil
}

// fileJSON is the top level of tokenizer.json.
type fileJSON struct {
	Version       string           `json:"version"`
	Truncation    json.RawMessage  `json:"truncation"`
	Padding       json.RawMessage  `json:"padding"`
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
	Model         json.RawMessage  `json:"model"`
}

// jsonError describes a decoding error with its byte offset in the file.
func jsonError(what string, err error, base int64) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%s: invalid JSON at byte offset %d: %v", what, base+se.Offset, err)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "value"
		}
		return fmt.Errorf("%s: field %q holds a JSON %s, want %s (near byte offset %d)", what, field, te.Value, te.Type, base+te.Offset)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isNull reports whether a raw value is absent or null.
func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// typeOf returns the "type" field of a component.
func typeOf(raw json.RawMessage) (string, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", err
	}
	return head.Type, nil
}

func parse(data []byte, name string) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, jsonError("tokenizer file", err, 0)
	}
	if isNull(f.Model) {
		return nil, fmt.Errorf(`required field "model" is missing`)
	}
	m, err := parseModel(f.Model)
	if err != nil {
		return nil, err
	}
	var n normalizer
	if !isNull(f.Normalizer) {
		if n, err = parseNormalizer(f.Normalizer); err != nil {
			return nil, err
		}
	}
	var p preTokenizer
	if !isNull(f.PreTokenizer) {
		if p, err = parsePreTokenizer(f.PreTokenizer); err != nil {
			return nil, err
		}
	}
	var post postProcessor
	if !isNull(f.PostProcessor) {
		if post, err = parsePost(f.PostProcessor); err != nil {
			return nil, err
		}
	}
	var d decoder
	if !isNull(f.Decoder) {
		if d, err = parseDecoder(f.Decoder); err != nil {
			return nil, err
		}
	}
	added := make([]AddedToken, len(f.AddedTokens))
	for i, a := range f.AddedTokens {
		added[i] = AddedToken{ID: a.ID, Content: a.Content, SingleWord: a.SingleWord, LStrip: a.LStrip,
			RStrip: a.RStrip, Normalized: a.Normalized, Special: a.Special}
	}
	t, err := newTokenizer(n, p, m, post, d, added, name)
	if err != nil {
		return nil, fmt.Errorf("added_tokens: %w", err)
	}
	if !isNull(f.Truncation) {
		var tr truncationJSON
		if err := json.Unmarshal(f.Truncation, &tr); err != nil {
			return nil, jsonError("truncation", err, 0)
		}
		if err := t.SetTruncation(tr.toTruncation()); err != nil {
			return nil, fmt.Errorf("truncation: %w", err)
		}
	}
	if !isNull(f.Padding) {
		var pj paddingJSON
		if err := json.Unmarshal(f.Padding, &pj); err != nil {
			return nil, jsonError("padding", err, 0)
		}
		pad, err := pj.toPadding()
		if err != nil {
			return nil, fmt.Errorf("padding: %w", err)
		}
		if err := t.SetPadding(pad); err != nil {
			return nil, fmt.Errorf("padding: %w", err)
		}
	}
	return t, nil
}

// unsupported is the error for a component type graft does not implement.
func unsupported(kind, typ string, supported ...string) error {
	if typ == "" {
		return fmt.Errorf("%s has no \"type\" (supported: %s)", kind, strings.Join(supported, ", "))
	}
	return fmt.Errorf("%s type %q is not supported (supported: %s)", kind, typ, strings.Join(supported, ", "))
}

func parseModel(raw json.RawMessage) (model, error) {
	var j struct {
		Type                    string          `json:"type"`
		Dropout                 *float64        `json:"dropout"`
		UnkToken                *string         `json:"unk_token"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
		FuseUnk                 bool            `json:"fuse_unk"`
		ByteFallback            bool            `json:"byte_fallback"`
		IgnoreMerges            bool            `json:"ignore_merges"`
		MaxInputCharsPerWord    *int            `json:"max_input_chars_per_word"`
		Vocab                   json.RawMessage `json:"vocab"`
		Merges                  json.RawMessage `json:"merges"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, jsonError("model", err, 0)
	}
	typ := j.Type
	if typ == "" { // files from early versions have no type: tell by the fields
		switch {
		case !isNull(j.Merges):
			typ = "BPE"
		case j.MaxInputCharsPerWord != nil || j.ContinuingSubwordPrefix != nil:
			typ = "WordPiece"
		}
	}
	if typ != "BPE" && typ != "WordPiece" {
		return nil, unsupported("model", typ, "BPE", "WordPiece")
	}
	var vm map[string]int
	if isNull(j.Vocab) {
		return nil, fmt.Errorf(`model: required field "vocab" is missing`)
	}
	if err := json.Unmarshal(j.Vocab, &vm); err != nil {
		return nil, jsonError("model.vocab", err, 0)
	}
	v, err := newVocab(vm)
	if err != nil {
		return nil, fmt.Errorf("model.vocab: %w", err)
	}
	if typ == "WordPiece" {
		unk, prefix, maxChars := "[UNK]", "##", 100
		if j.UnkToken != nil {
			unk = *j.UnkToken
		}
		if j.ContinuingSubwordPrefix != nil {
			prefix = *j.ContinuingSubwordPrefix
		}
		if j.MaxInputCharsPerWord != nil {
			maxChars = *j.MaxInputCharsPerWord
		}
		wp, err := newWordPiece(v, unk, prefix, maxChars)
		if err != nil {
			return nil, fmt.Errorf("model (WordPiece): %w", err)
		}
		return wp, nil
	}
	if j.Dropout != nil && *j.Dropout != 0 {
		return nil, fmt.Errorf("model (BPE): dropout %g is not supported (it makes encoding random); set it to null", *j.Dropout)
	}
	if isNull(j.Merges) {
		return nil, fmt.Errorf(`model (BPE): required field "merges" is missing`)
	}
	merges, err := parseMerges(j.Merges)
	if err != nil {
		return nil, fmt.Errorf("model (BPE): %w", err)
	}
	opt := bpeOptions{unk: j.UnkToken, fuseUnk: j.FuseUnk, byteFallback: j.ByteFallback, ignoreMerges: j.IgnoreMerges}
	if j.ContinuingSubwordPrefix != nil {
		opt.contPrefix = *j.ContinuingSubwordPrefix
	}
	if j.EndOfWordSuffix != nil {
		opt.eowSuffix = *j.EndOfWordSuffix
	}
	b, err := newBPE(v, merges, opt)
	if err != nil {
		return nil, fmt.Errorf("model (BPE): %w", err)
	}
	return b, nil
}

// parseMerges reads merges written as "a b" strings or as [a, b] pairs.
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	var strs []string
	if err := json.Unmarshal(raw, &strs); err == nil {
		out := make([][2]string, len(strs))
		for i, s := range strs {
			a, b, ok := strings.Cut(s, " ")
			if !ok || a == "" || b == "" || strings.Contains(b, " ") {
				return nil, fmt.Errorf("merge %d is %q, want two tokens separated by one space", i, s)
			}
			out[i] = [2]string{a, b}
		}
		return out, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, jsonError("merges (want a list of \"a b\" strings or of [a, b] pairs)", err, 0)
	}
	out := make([][2]string, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("merge %d has %d parts, want 2", i, len(p))
		}
		out[i] = [2]string{p[0], p[1]}
	}
	return out, nil
}

func parseNormalizer(raw json.RawMessage) (normalizer, error) {
	typ, err := typeOf(raw)
	if err != nil {
		return nil, jsonError("normalizer", err, 0)
	}
	switch typ {
	case "BertNormalizer":
		n := newBertNormalizer(true)
		if err := json.Unmarshal(raw, n); err != nil {
			return nil, jsonError("normalizer (BertNormalizer)", err, 0)
		}
		return n, nil
	case "Lowercase", "StripAccents", "NFD", "NFKD", "NFC", "NFKC":
		return &simpleNormalizer{Type: typ}, nil
	case "Strip":
		n := &stripNormalizer{Type: typ, StripLeft: true, StripRight: true}
		if err := json.Unmarshal(raw, n); err != nil {
			return nil, jsonError("normalizer (Strip)", err, 0)
		}
		return n, nil
	case "Sequence":
		var j struct {
			Normalizers []json.RawMessage `json:"normalizers"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, jsonError("normalizer (Sequence)", err, 0)
		}
		seq := &sequenceNormalizer{}
		for _, r := range j.Normalizers {
			n, err := parseNormalizer(r)
			if err != nil {
				return nil, err
			}
			seq.list = append(seq.list, n)
		}
		return seq, nil
	}
	return nil, unsupported("normalizer", typ, "BertNormalizer", "Lowercase", "StripAccents", "NFC", "NFD", "NFKC", "NFKD", "Strip", "Sequence")
}

func parseByteLevel(raw json.RawMessage, what string) (byteLevel, error) {
	b := byteLevel{Type: "ByteLevel", AddPrefixSpace: true, TrimOffsets: true, UseRegex: true}
	if err := json.Unmarshal(raw, &b); err != nil {
		return b, jsonError(what+" (ByteLevel)", err, 0)
	}
	return b, nil
}

func parsePreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	typ, err := typeOf(raw)
	if err != nil {
		return nil, jsonError("pre_tokenizer", err, 0)
	}
	switch typ {
	case "ByteLevel":
		b, err := parseByteLevel(raw, "pre_tokenizer")
		if err != nil {
			return nil, err
		}
		return &b, nil
	case "BertPreTokenizer":
		return &bertPreTokenizer{Type: typ}, nil
	case "Whitespace", "WhitespaceSplit":
		return &whitespacePreTokenizer{Type: typ}, nil
	case "Sequence":
		var j struct {
			PreTokenizers []json.RawMessage `json:"pretokenizers"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, jsonError("pre_tokenizer (Sequence)", err, 0)
		}
		seq := &sequencePreTokenizer{}
		for _, r := range j.PreTokenizers {
			p, err := parsePreTokenizer(r)
			if err != nil {
				return nil, err
			}
			seq.list = append(seq.list, p)
		}
		return seq, nil
	}
	return nil, unsupported("pre_tokenizer", typ, "ByteLevel", "BertPreTokenizer", "Whitespace", "WhitespaceSplit", "Sequence")
}

func parsePost(raw json.RawMessage) (postProcessor, error) {
	typ, err := typeOf(raw)
	if err != nil {
		return nil, jsonError("post_processor", err, 0)
	}
	switch typ {
	case "ByteLevel":
		b, err := parseByteLevel(raw, "post_processor")
		if err != nil {
			return nil, err
		}
		return &byteLevelPost{b}, nil
	case "TemplateProcessing":
		var j struct {
			Single        []templateItemJSON         `json:"single"`
			Pair          []templateItemJSON         `json:"pair"`
			SpecialTokens map[string]templateSpecial `json:"special_tokens"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, jsonError("post_processor (TemplateProcessing; templates must be lists)", err, 0)
		}
		single, err := templateFromJSON(j.Single)
		if err != nil {
			return nil, fmt.Errorf("post_processor (TemplateProcessing) single: %w", err)
		}
		pair, err := templateFromJSON(j.Pair)
		if err != nil {
			return nil, fmt.Errorf("post_processor (TemplateProcessing) pair: %w", err)
		}
		specials := orderedKeys(raw, j.SpecialTokens)
		p, err := newTemplate(single, pair, specials)
		if err != nil {
			return nil, fmt.Errorf("post_processor (TemplateProcessing): %w", err)
		}
		return p, nil
	case "BertProcessing":
		var j struct {
			Sep [2]json.RawMessage `json:"sep"`
			Cls [2]json.RawMessage `json:"cls"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, jsonError("post_processor (BertProcessing)", err, 0)
		}
		var sep, cls string
		var sepID, clsID int
		for _, f := range []struct {
			raw json.RawMessage
			dst any
		}{{j.Sep[0], &sep}, {j.Sep[1], &sepID}, {j.Cls[0], &cls}, {j.Cls[1], &clsID}} {
			if err := json.Unmarshal(f.raw, f.dst); err != nil {
				return nil, fmt.Errorf("post_processor (BertProcessing): sep and cls must be [token, id]: %v", err)
			}
		}
		return &bertProcessing{templateProcessing: bertTemplate(cls, clsID, sep, sepID),
			sep: [2]any{sep, sepID}, cls: [2]any{cls, clsID}}, nil
	case "Sequence":
		var j struct {
			Processors []json.RawMessage `json:"processors"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, jsonError("post_processor (Sequence)", err, 0)
		}
		seq := &sequencePost{}
		for _, r := range j.Processors {
			p, err := parsePost(r)
			if err != nil {
				return nil, err
			}
			seq.list = append(seq.list, p)
		}
		return seq, nil
	}
	return nil, unsupported("post_processor", typ, "TemplateProcessing", "BertProcessing", "ByteLevel", "Sequence")
}

// orderedKeys returns the special tokens in the order the file lists them.
func orderedKeys(raw json.RawMessage, m map[string]templateSpecial) []templateSpecial {
	var j struct {
		SpecialTokens json.RawMessage `json:"special_tokens"`
	}
	_ = json.Unmarshal(raw, &j)
	dec := json.NewDecoder(bytes.NewReader(j.SpecialTokens))
	var out []templateSpecial
	seen := map[string]bool{}
	if tok, err := dec.Token(); err == nil && tok == json.Delim('{') {
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				break
			}
			key, _ := k.(string)
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				break
			}
			if s, ok := m[key]; ok && !seen[key] {
				if s.ID == "" {
					s.ID = key
				}
				out = append(out, s)
				seen[key] = true
			}
		}
	}
	return out
}

func parseDecoder(raw json.RawMessage) (decoder, error) {
	typ, err := typeOf(raw)
	if err != nil {
		return nil, jsonError("decoder", err, 0)
	}
	switch typ {
	case "ByteLevel":
		b, err := parseByteLevel(raw, "decoder")
		if err != nil {
			return nil, err
		}
		return &byteLevelDecoder{b}, nil
	case "WordPiece":
		d := &wordPieceDecoder{Type: typ, Prefix: "##", Cleanup: true}
		if err := json.Unmarshal(raw, d); err != nil {
			return nil, jsonError("decoder (WordPiece)", err, 0)
		}
		return d, nil
	case "Sequence":
		var j struct {
			Decoders []json.RawMessage `json:"decoders"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, jsonError("decoder (Sequence)", err, 0)
		}
		seq := &sequenceDecoder{}
		for _, r := range j.Decoders {
			d, err := parseDecoder(r)
			if err != nil {
				return nil, err
			}
			seq.list = append(seq.list, d)
		}
		return seq, nil
	}
	return nil, unsupported("decoder", typ, "ByteLevel", "WordPiece", "Sequence")
}

// truncationJSON is the truncation field of tokenizer.json.
type truncationJSON struct {
	Direction string `json:"direction"`
	MaxLength int    `json:"max_length"`
	Strategy  string `json:"strategy"`
	Stride    int    `json:"stride"`
}

func (j truncationJSON) toTruncation() *Truncation {
	return &Truncation{MaxLength: j.MaxLength, Strategy: j.Strategy, Direction: j.Direction, Stride: j.Stride}
}

func truncationToJSON(t *Truncation) truncationJSON {
	j := truncationJSON{Direction: t.Direction, MaxLength: t.MaxLength, Strategy: t.Strategy, Stride: t.Stride}
	if j.Direction == "" {
		j.Direction = "Right"
	}
	if j.Strategy == "" {
		j.Strategy = "LongestFirst"
	}
	return j
}

// paddingJSON is the padding field of tokenizer.json; strategy is
// "BatchLongest" or {"Fixed": n}.
type paddingJSON struct {
	Strategy        json.RawMessage `json:"strategy"`
	Direction       string          `json:"direction"`
	PadToMultipleOf *int            `json:"pad_to_multiple_of"`
	PadID           int             `json:"pad_id"`
	PadTypeID       int             `json:"pad_type_id"`
	PadToken        string          `json:"pad_token"`
}

func (j paddingJSON) toPadding() (*Padding, error) {
	p := &Padding{Direction: j.Direction, PadID: j.PadID, PadTypeID: j.PadTypeID, PadToken: j.PadToken}
	if j.PadToMultipleOf != nil {
		p.MultipleOf = *j.PadToMultipleOf
	}
	var s string
	if err := json.Unmarshal(j.Strategy, &s); err == nil {
		if s != "BatchLongest" {
			return nil, fmt.Errorf("strategy %q, want \"BatchLongest\" or {\"Fixed\": n}", s)
		}
		return p, nil
	}
	var fixed struct {
		Fixed *int `json:"Fixed"`
	}
	if err := json.Unmarshal(j.Strategy, &fixed); err != nil || fixed.Fixed == nil {
		return nil, fmt.Errorf("strategy %s, want \"BatchLongest\" or {\"Fixed\": n}", string(j.Strategy))
	}
	p.Length = *fixed.Fixed
	return p, nil
}

func paddingToJSON(p *Padding) paddingJSON {
	j := paddingJSON{Direction: p.Direction, PadID: p.PadID, PadTypeID: p.PadTypeID, PadToken: p.PadToken}
	if j.Direction == "" {
		j.Direction = "Right"
	}
	if p.Length > 0 {
		j.Strategy = json.RawMessage(fmt.Sprintf(`{"Fixed":%d}`, p.Length))
	} else {
		j.Strategy = json.RawMessage(`"BatchLongest"`)
	}
	if p.MultipleOf > 0 {
		m := p.MultipleOf
		j.PadToMultipleOf = &m
	}
	return j
}
