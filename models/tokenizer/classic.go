package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// NewGPT2 builds GPT-2's tokenizer from the two files OpenAI released with
// the model — encoder.json (token → id) and vocab.bpe (the merges, best
// first) — configured as the Hugging Face tokenizer.json of gpt2 is: byte-level
// pre-tokenization without a prefix space, <|endoftext|> as a special added
// token, byte-level decoding.
func NewGPT2(encoderJSONPath, vocabBPEPath string) (*Tokenizer, error) {
	data, err := os.ReadFile(encoderJSONPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: NewGPT2: %w", err)
	}
	var vm map[string]int
	if err := json.Unmarshal(data, &vm); err != nil {
		return nil, fmt.Errorf("tokenizer: NewGPT2: %s: %w", encoderJSONPath, jsonError("encoder", err, 0))
	}
	v, err := newVocab(vm)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: NewGPT2: %s: %w", encoderJSONPath, err)
	}
	merges, err := readMerges(vocabBPEPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: NewGPT2: %w", err)
	}
	m, err := newBPE(v, merges, bpeOptions{})
	if err != nil {
		return nil, fmt.Errorf("tokenizer: NewGPT2: %s and %s: %w", encoderJSONPath, vocabBPEPath, err)
	}
	post := &byteLevelPost{*newByteLevel(true)}
	post.TrimOffsets = false
	dec := &byteLevelDecoder{*newByteLevel(true)}
	var added []AddedToken
	if id, ok := v.id("<|endoftext|>"); ok {
		added = append(added, AddedToken{ID: id, Content: "<|endoftext|>", Normalized: true, Special: true})
	}
	return newTokenizer(nil, newByteLevel(false), m, post, dec, added, encoderJSONPath)
}

// readMerges reads a merges file (vocab.bpe, merges.txt): an optional
// "#version" first line, then one "left right" pair per line, best first.
func readMerges(path string) ([][2]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	offset := 0
	for i, line := range strings.Split(string(data), "\n") {
		start := offset
		offset += len(line) + 1
		line = strings.TrimRight(line, "\r")
		if line == "" || i == 0 && strings.HasPrefix(line, "#version") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s: line %d (byte offset %d): %q is not two tokens separated by a space", path, i+1, start, line)
		}
		out = append(out, [2]string{f[0], f[1]})
	}
	return out, nil
}

// ReadVocabTxt reads a vocab.txt as BERT ships it: one token per line, the
// token on line i (from 0) having id i.
func ReadVocabTxt(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: ReadVocabTxt: %w", err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for sc.Scan() {
		out = append(out, strings.TrimRight(sc.Text(), " \t\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: ReadVocabTxt: %s: %w", path, err)
	}
	return out, nil
}

// bertSpecials are the special tokens of BERT's vocabulary.
var bertSpecials = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}

// NewWordPiece builds a BERT tokenizer from a vocabulary given as the lines
// of a vocab.txt (token i has id i; see ReadVocabTxt), configured as the
// Hugging Face tokenizer.json of bert-base-uncased (lowercase true) or
// bert-base-cased (false) is: BERT's normaliser and pre-tokenizer, WordPiece
// with "##" and [UNK], [CLS] … [SEP] around each text (pairs get type id 1),
// and [PAD], [UNK], [CLS], [SEP], [MASK] as special added tokens where the
// vocabulary has them. The vocabulary must hold [UNK].
func NewWordPiece(vocab []string, lowercase bool) (*Tokenizer, error) {
	v, err := vocabFromList(vocab)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: NewWordPiece: %w", err)
	}
	return newBert(v, lowercase)
}

// NewWordPieceFromMap is NewWordPiece for a vocabulary given as token → id.
func NewWordPieceFromMap(vocab map[string]int, lowercase bool) (*Tokenizer, error) {
	v, err := newVocab(vocab)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: NewWordPieceFromMap: %w", err)
	}
	return newBert(v, lowercase)
}

func newBert(v *vocab, lowercase bool) (*Tokenizer, error) {
	m, err := newWordPiece(v, "[UNK]", "##", 100)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: NewWordPiece: %w", err)
	}
	var added []AddedToken
	for _, s := range bertSpecials {
		if id, ok := v.id(s); ok {
			added = append(added, AddedToken{ID: id, Content: s, Special: true})
		}
	}
	var post postProcessor
	cls, okC := v.id("[CLS]")
	sep, okS := v.id("[SEP]")
	if okC && okS {
		post = bertTemplate("[CLS]", cls, "[SEP]", sep)
	}
	dec := &wordPieceDecoder{Type: "WordPiece", Prefix: "##", Cleanup: true}
	return newTokenizer(newBertNormalizer(lowercase), &bertPreTokenizer{Type: "BertPreTokenizer"}, m, post, dec, added, "")
}
