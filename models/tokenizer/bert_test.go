package tokenizer

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestBERTKnownEncodings checks encodings of bert-base-uncased's vocabulary
// (ids as the model card and BERT's README give them) with offsets into the
// original text.
func TestBERTKnownEncodings(t *testing.T) {
	tk := bert(t)
	if n := tk.VocabSize(); n != 30522 {
		t.Errorf("VocabSize = %d, want 30522", n)
	}
	for _, tc := range []struct {
		text   string
		ids    []int
		tokens []string
	}{
		{"hello world", []int{101, 7592, 2088, 102}, []string{"[CLS]", "hello", "world", "[SEP]"}},
		{"Hello, World!", []int{101, 7592, 1010, 2088, 999, 102}, []string{"[CLS]", "hello", ",", "world", "!", "[SEP]"}},
		{"i like strawberries", []int{101, 1045, 2066, 13137, 20968, 102}, []string{"[CLS]", "i", "like", "straw", "##berries", "[SEP]"}},
		{"Hello, my dog is cute", []int{101, 7592, 1010, 2026, 3899, 2003, 10140, 102}, []string{"[CLS]", "hello", ",", "my", "dog", "is", "cute", "[SEP]"}},
		// Greedy longest match from the left: "una" is a token, so "un" is not tried.
		{"unaffable", []int{101, 14477, 20961, 3468, 102}, []string{"[CLS]", "una", "##ffa", "##ble", "[SEP]"}},
		{"Café", []int{101, 7668, 102}, []string{"[CLS]", "cafe", "[SEP]"}},
		{"🤖", []int{101, 100, 102}, []string{"[CLS]", "[UNK]", "[SEP]"}},
		{"[MASK] it", []int{101, 103, 2009, 102}, []string{"[CLS]", "[MASK]", "it", "[SEP]"}},
	} {
		e := tk.Encode(tc.text)
		if !reflect.DeepEqual(e.IDs, tc.ids) || !reflect.DeepEqual(e.Tokens, tc.tokens) {
			t.Errorf("Encode(%q) = %v %q, want %v %q", tc.text, e.IDs, e.Tokens, tc.ids, tc.tokens)
		}
	}
	// Offsets point into the text as given, through lowercasing, accents
	// and the spaces put around CJK characters.
	text := "Héllo, 世界 unaffable"
	e := tk.Encode(text)
	var spans []string
	for _, off := range e.Offsets {
		spans = append(spans, text[off[0]:off[1]])
	}
	if want := []string{"", "Héllo", ",", "世", "界", "una", "ffa", "ble", ""}; !reflect.DeepEqual(spans, want) {
		t.Errorf("Encode(%q): tokens %q cover %q, want %q", text, e.Tokens, spans, want)
	}
	p := tk.EncodePair("How old are you?", "I am 6.")
	if want := []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1}; !reflect.DeepEqual(p.TypeIDs, want) {
		t.Errorf("pair type ids %v (tokens %q), want %v", p.TypeIDs, p.Tokens, want)
	}
	if got := tk.Decode(p.IDs, true); got != "how old are you? i am 6." {
		t.Errorf("Decode(pair, skip special) = %q", got)
	}
	if got := tk.Decode(p.IDs, false); got != "[CLS] how old are you? [SEP] i am 6. [SEP]" {
		t.Errorf("Decode(pair) = %q", got)
	}
}

// TestBERTMatchesReference encodes the corpus, texts with special tokens and
// pairs with graft and with @huggingface/tokenizers loading the
// tokenizer.json graft saved for bert-base-uncased's vocabulary.
func TestBERTMatchesReference(t *testing.T) {
	tk := bert(t)
	node := requireNode(t)
	hf := requirePackage(t, pkgHF)
	c := loadCorpus(t)
	file := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := tk.Save(file); err != nil {
		t.Fatal(err)
	}
	texts := append(append([]string(nil), c.Texts...), c.Special["bert"]...)
	res := runReference(t, node, refRequest{HF: hf, Tokenizer: file, Texts: texts, Pairs: c.Pairs})
	if len(res.HF) != len(texts) || len(res.HFPairs) != len(c.Pairs) {
		t.Fatalf("reference returned %d and %d results for %d texts and %d pairs", len(res.HF), len(res.HFPairs), len(texts), len(c.Pairs))
	}
	tokens, unknown := 0, 0
	check := func(what string, e *Encoding, ref refEncoding) {
		t.Helper()
		tokens += e.Len()
		for _, id := range e.IDs {
			if id == 100 {
				unknown++
			}
		}
		compareWithHF(t, tk, what, e, ref)
	}
	for i, text := range texts {
		check(strings.ReplaceAll(text, "\n", `\n`), tk.Encode(text), res.HF[i])
	}
	for i, p := range c.Pairs {
		check(p[0]+" | "+p[1], tk.EncodePair(p[0], p[1]), res.HFPairs[i])
	}
	if unknown == 0 {
		t.Errorf("no [UNK] in the corpus: the unknown-word path went untested")
	}
	t.Logf("%d texts and %d pairs, %d tokens (%d [UNK]): graft and @huggingface/tokenizers agree", len(texts), len(c.Pairs), tokens, unknown)
}

// TestBERTSaveLoadRoundTrip checks that a saved BERT tokenizer loads back
// to the same encodings and the same file.
func TestBERTSaveLoadRoundTrip(t *testing.T) {
	tk := bert(t)
	file := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := tk.Save(file); err != nil {
		t.Fatal(err)
	}
	back, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range loadCorpus(t).Texts {
		if a, b := tk.Encode(text), back.Encode(text); !reflect.DeepEqual(a, b) {
			t.Errorf("%q: before saving %v, after loading %v", text, a.IDs, b.IDs)
		}
	}
	j1, _ := tk.MarshalJSON()
	j2, _ := back.MarshalJSON()
	if string(j1) != string(j2) {
		t.Errorf("the loaded tokenizer saves a different file")
	}
}
