package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestSplitGPT2(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"Hello world", []string{"Hello", " world"}},
		{"I'm they'll've 'S", []string{"I", "'m", " they", "'ll", "'ve", " '", "S"}},
		{"a  b", []string{"a", " ", " b"}},
		{"a\n\nb", []string{"a", "\n", "\n", "b"}},
		{"x  ", []string{"x", "  "}},
		{"3.14 123abc", []string{"3", ".", "14", " 123", "abc"}},
		{"hi!!! ?", []string{"hi", "!!!", " ?"}},
		{"e\u0301t\u00e9", []string{"e", "\u0301", "t\u00e9"}},
		{" \t x", []string{" \t", " x"}},
		{"٣ ٤", []string{"٣", " ٤"}}, // Arabic-Indic digits are \p{N}
	} {
		rs := []rune(tc.text)
		var got []string
		for _, r := range splitGPT2(rs) {
			got = append(got, string(rs[r[0]:r[1]]))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitGPT2(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestByteTable(t *testing.T) {
	for b, want := range map[byte]rune{' ': 'Ġ', '\n': 'Ċ', 'A': 'A', '!': '!', 0: 0x100, 0x7F: 0x121, 0xA0: 0x142, 0xAD: 0x143, 0xFF: 0xFF} {
		if got := byteToRune[b]; got != want {
			t.Errorf("byteToRune[%#x] = %U, want %U", b, got, want)
		}
	}
	if len(runeToByte) != 256 {
		t.Errorf("%d distinct characters for 256 bytes", len(runeToByte))
	}
	for b := 0; b < 256; b++ {
		if runeToByte[byteToRune[b]] != byte(b) {
			t.Errorf("byte %#x does not come back", b)
		}
	}
}

func TestLossyUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"ok é":           "ok é",
		"\xe2\x82":       "\uFFFD",       // a cut 3-byte sequence: one replacement
		"a\xf0\x9f\x98b": "a\uFFFDb",     // a cut 4-byte sequence
		"\xff\xfe":       "\uFFFD\uFFFD", // bytes that never start a sequence
		"\xed\xa0\x80":   "\uFFFD\uFFFD\uFFFD",
		"\xc0\xaf":       "\uFFFD\uFFFD",
		"\xe2\x82x":      "\uFFFDx",
	} {
		if got := lossyUTF8([]byte(in)); got != want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", in, got, want)
		}
	}
}

func loadTiny(t *testing.T) *Tokenizer {
	t.Helper()
	tk, err := Load(filepath.Join("testdata", "tiny-bpe.json"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTinyBPE(t *testing.T) {
	tk := loadTiny(t)
	for _, tc := range []struct {
		text   string
		tokens []string
		ids    []int
		spans  []string
	}{
		// a b c: (a b) ranks before (b c), then (ab c) makes abc.
		{"abc", []string{"abc"}, []int{7}, []string{"abc"}},
		{"bc", []string{"bc"}, []int{6}, []string{"bc"}},
		// Equal ranks: the leftmost pair merges first.
		{"aaa", []string{"aa", "a"}, []int{4, 1}, []string{"aa", "a"}},
		{"ABC", []string{"abc"}, []int{7}, []string{"ABC"}},
		// Unknown characters, fused into one <unk>.
		{"zzab", []string{"<unk>", "ab"}, []int{0, 5}, []string{"zz", "ab"}},
		// <mask> is matched in the raw text and takes the space on its left.
		{"ab <mask> c", []string{"ab", "<mask>", "c"}, []int{5, 9, 3}, []string{"ab", " <mask>", "c"}},
		// XY is matched after lowercasing, only as a word of its own.
		{"xy aXY Xy", []string{"XY", "a", "xy", "XY"}, []int{12, 1, 10, 12}, []string{"xy", "a", "XY", "Xy"}},
	} {
		e := tk.Encode(tc.text)
		var spans []string
		for _, off := range e.Offsets {
			spans = append(spans, tc.text[off[0]:off[1]])
		}
		if !reflect.DeepEqual(e.Tokens, tc.tokens) || !reflect.DeepEqual(e.IDs, tc.ids) || !reflect.DeepEqual(spans, tc.spans) {
			t.Errorf("Encode(%q) = %q %v covering %q, want %q %v covering %q", tc.text, e.Tokens, e.IDs, spans, tc.tokens, tc.ids, tc.spans)
		}
	}
	if n := tk.VocabSize(); n != 13 {
		t.Errorf("VocabSize = %d, want 12 model tokens + 1 added", n)
	}
	if id, ok := tk.TokenToID("XY"); !ok || id != 12 {
		t.Errorf("TokenToID(XY) = %d %v", id, ok)
	}
	if s, ok := tk.IDToToken(12); !ok || s != "XY" {
		t.Errorf("IDToToken(12) = %q %v", s, ok)
	}
	if _, ok := tk.IDToToken(13); ok {
		t.Errorf("IDToToken(13) found a token")
	}
	// No decoder: tokens joined by spaces; special tokens skipped on request.
	if got := tk.Decode([]int{7, 9, 12, 99}, false); got != "abc <mask> XY" {
		t.Errorf("Decode = %q", got)
	}
	if got := tk.Decode([]int{7, 9, 12}, true); got != "abc XY" {
		t.Errorf("Decode skipping special = %q", got)
	}
}

func TestFuseUnkOff(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "tiny-bpe.json"))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := Parse([]byte(strings.Replace(string(data), `"fuse_unk": true`, `"fuse_unk": false`, 1)), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if e := tk.Encode("zzab"); !reflect.DeepEqual(e.IDs, []int{0, 0, 5}) {
		t.Errorf("without fuse_unk: %v, want [0 0 5]", e.IDs)
	}
	tk, err = Parse([]byte(strings.Replace(string(data), `"unk_token": "<unk>"`, `"unk_token": null`, 1)), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if e := tk.Encode("zzab"); !reflect.DeepEqual(e.IDs, []int{5}) {
		t.Errorf("without unk_token: %v, want [5] (unknown characters dropped)", e.IDs)
	}
}

func tinyBert(t *testing.T, lowercase bool) *Tokenizer {
	t.Helper()
	vocab, err := ReadVocabTxt(filepath.Join("testdata", "tiny-wordpiece.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := NewWordPiece(vocab, lowercase)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTinyWordPiece(t *testing.T) {
	tk := tinyBert(t, true)
	for _, tc := range []struct {
		text   string
		tokens []string
	}{
		{"Hello, World!", []string{"[CLS]", "hello", ",", "world", "!", "[SEP]"}},
		{"unaffable", []string{"[CLS]", "un", "##aff", "##able", "[SEP]"}},
		{"unaffables CAFÉ", []string{"[CLS]", "un", "##aff", "##able", "##s", "cafe", "[SEP]"}},
		{"unknownword", []string{"[CLS]", "[UNK]", "[SEP]"}},
		{"中中", []string{"[CLS]", "中", "中", "[SEP]"}},
		{"don't\x00\u200b", []string{"[CLS]", "don", "'", "t", "[SEP]"}},
		{"  \t\n ", []string{"[CLS]", "[SEP]"}},
		{"[MASK]hello", []string{"[CLS]", "[MASK]", "hello", "[SEP]"}},
	} {
		if e := tk.Encode(tc.text); !reflect.DeepEqual(e.Tokens, tc.tokens) {
			t.Errorf("Encode(%q) = %q, want %q", tc.text, e.Tokens, tc.tokens)
		}
	}
	cased := tinyBert(t, false)
	if e := cased.Encode("café Café"); !reflect.DeepEqual(e.Tokens, []string{"[CLS]", "café", "[UNK]", "[SEP]"}) {
		t.Errorf("cased: %q, want café kept and Café unknown", e.Tokens)
	}
	// A word over max_input_chars_per_word (100) is unknown as a whole.
	if e := tk.Encode(strings.Repeat("hello", 21)); !reflect.DeepEqual(e.Tokens, []string{"[CLS]", "[UNK]", "[SEP]"}) {
		t.Errorf("a 105-character word: %q", e.Tokens)
	}
	// Pieces with ## glue to the one before; the decoder's cleanup works on
	// one token at a time, so it drops the space before punctuation but
	// cannot join "don ' t".
	e := tk.Encode("Hello , world ! don ' t unaffable")
	if got := tk.Decode(e.IDs, true); got != "hello, world! don ' t unaffable" {
		t.Errorf("Decode = %q", got)
	}
	if got := tk.Decode(e.IDs, false); got != "[CLS] hello, world! don ' t unaffable [SEP]" {
		t.Errorf("Decode keeping special tokens = %q", got)
	}
	if e := tk.EncodeOptions("hello", "", false); !reflect.DeepEqual(e.Tokens, []string{"hello"}) {
		t.Errorf("without special tokens: %q", e.Tokens)
	}
	if e := tk.EncodeOptions("hello", "world", false); !reflect.DeepEqual(e.Tokens, []string{"hello", "world"}) || !reflect.DeepEqual(e.TypeIDs, []int{0, 1}) {
		t.Errorf("pair without special tokens: %q %v", e.Tokens, e.TypeIDs)
	}
}

func TestBertNormalizerSpans(t *testing.T) {
	text := "Héllo\tWORLD\x00 中!\u200b"
	n := newBertNormalizer(true).normalize(newNText(text, 0))
	if got, want := n.String(), "hello world  中 !"; got != want {
		t.Fatalf("normalized %q, want %q", got, want)
	}
	var src []string
	for _, sp := range n.spans {
		src = append(src, text[sp[0]:sp[1]])
	}
	want := []string{"H", "é", "l", "l", "o", "\t", "W", "O", "R", "L", "D", " ", "中", "中", "中", "!"}
	if !reflect.DeepEqual(src, want) {
		t.Errorf("normalized runes come from %q, want %q", src, want)
	}
	// İ lowercases to i and a combining dot, which accent stripping removes.
	if got := newBertNormalizer(true).normalize(newNText("İŞ", 0)).String(); got != "is" {
		t.Errorf("İŞ normalizes to %q, want is", got)
	}
}

func TestUnicodeForms(t *testing.T) {
	d := nfd(newNText("é", 0), norm.NFD)
	if d.String() != "e\u0301" || d.spans[0] != (span{0, 2}) || d.spans[1] != (span{0, 2}) {
		t.Errorf("NFD(é) = %q %v", d.String(), d.spans)
	}
	// Canonical order: the dot below (class 220) goes before the acute (230).
	d = nfd(newNText("e\u0301\u0323", 0), norm.NFD)
	if d.String() != "e\u0323\u0301" || d.spans[1] != (span{3, 5}) {
		t.Errorf("NFD reorders marks as %q %v", d.String(), d.spans)
	}
	c := nfc(newNText("xe\u0301y", 0), norm.NFC)
	if c.String() != "xéy" || !reflect.DeepEqual(c.spans, []span{{0, 1}, {1, 4}, {4, 5}}) {
		t.Errorf("NFC = %q %v", c.String(), c.spans)
	}
}

func TestTruncationAndPadding(t *testing.T) {
	tk := tinyBert(t, true)
	if err := tk.SetTruncation(&Truncation{MaxLength: 5}); err != nil {
		t.Fatal(err)
	}
	if e := tk.Encode("hello world hello world"); !reflect.DeepEqual(e.Tokens, []string{"[CLS]", "hello", "world", "hello", "[SEP]"}) {
		t.Errorf("truncated right: %q", e.Tokens)
	}
	_ = tk.SetTruncation(&Truncation{MaxLength: 5, Direction: "Left"})
	if e := tk.Encode("hello world hello world"); !reflect.DeepEqual(e.Tokens, []string{"[CLS]", "world", "hello", "world", "[SEP]"}) {
		t.Errorf("truncated left: %q", e.Tokens)
	}
	// A pair: 9 tokens of text and 3 special for a budget of 8 → 5 of text;
	// the longer loses tokens first.
	_ = tk.SetTruncation(&Truncation{MaxLength: 8})
	e := tk.EncodePair("hello hello hello hello hello hello", "world world world")
	if want := []string{"[CLS]", "hello", "hello", "hello", "[SEP]", "world", "world", "[SEP]"}; !reflect.DeepEqual(e.Tokens, want) {
		t.Errorf("pair longest-first: %q, want %q", e.Tokens, want)
	}
	_ = tk.SetTruncation(&Truncation{MaxLength: 8, Strategy: "OnlySecond"})
	e = tk.EncodePair("hello hello", "world world world world world")
	if want := []string{"[CLS]", "hello", "hello", "[SEP]", "world", "world", "world", "[SEP]"}; !reflect.DeepEqual(e.Tokens, want) {
		t.Errorf("pair only-second: %q, want %q", e.Tokens, want)
	}
	_ = tk.SetTruncation(nil)
	if err := tk.SetPadding(&Padding{Length: 6, PadID: 0, PadToken: "[PAD]"}); err != nil {
		t.Fatal(err)
	}
	e = tk.Encode("hello world")
	if !reflect.DeepEqual(e.IDs, []int{2, 5, 6, 3, 0, 0}) || !reflect.DeepEqual(e.AttentionMask, []int{1, 1, 1, 1, 0, 0}) {
		t.Errorf("fixed padding: %v mask %v", e.IDs, e.AttentionMask)
	}
	_ = tk.SetPadding(&Padding{MultipleOf: 4, Direction: "Left", PadID: 0, PadToken: "[PAD]"})
	b := tk.EncodeBatch([]string{"hello", "hello world hello"}, true)
	// Longest is 5 tokens, rounded up to 8; padding on the left.
	if want := [][]int{{0, 0, 0, 0, 0, 2, 5, 3}, {0, 0, 0, 2, 5, 6, 5, 3}}; !reflect.DeepEqual(b.IDs, want) {
		t.Errorf("left padding to a multiple of 4: %v, want %v", b.IDs, want)
	}
	if !reflect.DeepEqual(b.Lengths(), []int{3, 5}) || !reflect.DeepEqual(b.AttentionMask[0], []int{0, 0, 0, 0, 0, 1, 1, 1}) {
		t.Errorf("lengths %v, mask %v", b.Lengths(), b.AttentionMask[0])
	}
	for _, bad := range []struct {
		tr *Truncation
		p  *Padding
	}{{tr: &Truncation{MaxLength: -1}}, {tr: &Truncation{Strategy: "Longest"}}, {p: &Padding{Direction: "up"}}} {
		var err error
		if bad.tr != nil {
			err = tk.SetTruncation(bad.tr)
		} else {
			err = tk.SetPadding(bad.p)
		}
		if err == nil {
			t.Errorf("%+v %+v accepted", bad.tr, bad.p)
		}
	}
}

func TestEncodeBatchTensors(t *testing.T) {
	tk := tinyBert(t, true)
	texts := []string{"hello", "hello world !", "world"}
	b := tk.EncodeBatch(texts, true)
	for i, text := range texts {
		if one := tk.Encode(text); !reflect.DeepEqual(b.Encodings[i].IDs[:one.Len()], one.IDs) {
			t.Errorf("batch row %d = %v, Encode gives %v", i, b.IDs[i], one.IDs)
		}
	}
	ids, err := b.IDsTensor()
	if err != nil {
		t.Fatal(err)
	}
	mask, _ := b.MaskTensor()
	if s := ids.Shape(); !reflect.DeepEqual(s, []int{3, 5}) {
		t.Errorf("ids tensor shape %v, want [3 5]", s)
	}
	if got := mask.Data(); !reflect.DeepEqual(got, []float32{1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}) {
		t.Errorf("mask %v", got)
	}
	if got := ids.Data()[:5]; !reflect.DeepEqual(got, []float32{2, 5, 3, 0, 0}) {
		t.Errorf("ids row 0 %v", got)
	}
	if _, err := tk.EncodeBatch(texts, false).IDsTensor(); err == nil || !strings.Contains(err.Error(), "pad") {
		t.Errorf("ragged batch to tensor: %v, want an error saying to pad", err)
	}
}

func TestAddTokens(t *testing.T) {
	tk := tinyBert(t, true)
	ids, err := tk.AddTokens([]string{"<new>", "hello", "<new>"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, []int{22, 5, 22}) {
		t.Errorf("AddTokens ids %v, want [22 5 22]", ids)
	}
	e := tk.Encode("hello<new>world")
	if !reflect.DeepEqual(e.IDs, []int{2, 5, 22, 6, 3}) {
		t.Errorf("encode with the new token: %v %q", e.IDs, e.Tokens)
	}
	if tk.VocabSize() != 23 {
		t.Errorf("VocabSize %d, want 23", tk.VocabSize())
	}
	dir := t.TempDir()
	if err := tk.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e2 := back.Encode("hello<new>world"); !reflect.DeepEqual(e2.IDs, e.IDs) {
		t.Errorf("after Save/Load: %v", e2.IDs)
	}
	if _, err := tk.AddTokens([]string{""}, false); err == nil {
		t.Errorf("an empty token was accepted")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	model := `{"type":"WordPiece","unk_token":"[UNK]","vocab":{"[UNK]":0,"a":1}}`
	base := func(field, value string) string {
		parts := map[string]string{"normalizer": "null", "pre_tokenizer": "null", "post_processor": "null", "decoder": "null", "model": model}
		parts[field] = value
		return fmt.Sprintf(`{"added_tokens":[],"normalizer":%s,"pre_tokenizer":%s,"post_processor":%s,"decoder":%s,"model":%s}`,
			parts["normalizer"], parts["pre_tokenizer"], parts["post_processor"], parts["decoder"], parts["model"])
	}
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		{"unigram.json", base("model", `{"type":"Unigram","vocab":[["a",0.0]]}`), []string{"unigram.json", `model type "Unigram" is not supported`, "BPE, WordPiece"}},
		{"precompiled.json", base("normalizer", `{"type":"Precompiled","precompiled_charsmap":""}`), []string{"precompiled.json", `normalizer type "Precompiled"`}},
		{"metaspace.json", base("pre_tokenizer", `{"type":"Metaspace"}`), []string{`pre_tokenizer type "Metaspace"`}},
		{"roberta.json", base("post_processor", `{"type":"RobertaProcessing"}`), []string{`post_processor type "RobertaProcessing"`}},
		{"ctc.json", base("decoder", `{"type":"CTC"}`), []string{`decoder type "CTC"`}},
		{"syntax.json", `{"model": {"type": "BPE",}}`, []string{"syntax.json", "invalid JSON at byte offset 26"}},
		{"types.json", `{"model": {"type": "BPE", "vocab": [1, 2]}}`, []string{"types.json", "model.vocab", "near byte offset"}},
		{"nomodel.json", `{"added_tokens": []}`, []string{`required field "model" is missing`}},
		{"nounk.json", base("model", `{"type":"WordPiece","unk_token":"[UNK]","vocab":{"a":0}}`), []string{`unk_token "[UNK]" is not in the vocabulary`}},
		{"badmerge.json", base("model", `{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]}`), []string{`merge 0 ("a" "b")`, `"ab" is not in the vocabulary`}},
		{"dropout.json", base("model", `{"type":"BPE","dropout":0.1,"vocab":{"a":0},"merges":[]}`), []string{"dropout 0.1 is not supported"}},
		{"dupid.json", base("model", `{"type":"WordPiece","vocab":{"[UNK]":0,"a":0}}`), []string{"share id 0"}},
	} {
		_, err := Load(write(tc.name, tc.content))
		if err == nil {
			t.Errorf("%s: loaded", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
	if _, err := Load(filepath.Join(dir, "absent.json")); err == nil || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("missing file: %v", err)
	}
	// A directory holding tokenizer.json; unknown fields at every level ignored.
	sub := filepath.Join(dir, "model")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	content := strings.Replace(base("normalizer", `{"type":"Lowercase","extra":true}`), `{"added_tokens"`, `{"future":{"x":1},"added_tokens"`, 1)
	if err := os.WriteFile(filepath.Join(sub, FileName), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	if e := tk.Encode("A"); !reflect.DeepEqual(e.IDs, []int{1}) {
		t.Errorf("minimal tokenizer: %v", e.IDs)
	}
}

func TestClassicFileErrors(t *testing.T) {
	dir := t.TempDir()
	enc := filepath.Join(dir, "encoder.json")
	bpeFile := filepath.Join(dir, "vocab.bpe")
	_ = os.WriteFile(enc, []byte(`{"a":0,"b":1,"ab":2}`), 0o644)
	_ = os.WriteFile(bpeFile, []byte("#version: 0.2\na b\nab\n"), 0o644)
	if _, err := NewGPT2(enc, bpeFile); err == nil || !strings.Contains(err.Error(), "vocab.bpe: line 3 (byte offset 18)") {
		t.Errorf("malformed merges: %v", err)
	}
	_ = os.WriteFile(bpeFile, []byte("#version: 0.2\na b\n"), 0o644)
	tk, err := NewGPT2(enc, bpeFile)
	if err != nil {
		t.Fatal(err)
	}
	if e := tk.Encode("ab"); !reflect.DeepEqual(e.IDs, []int{2}) {
		t.Errorf("two-token GPT-2: %v", e.IDs)
	}
	if _, err := NewWordPiece([]string{"[UNK]", "a", "a"}, true); err == nil || !strings.Contains(err.Error(), `"a" appears twice`) {
		t.Errorf("repeated token: %v", err)
	}
	if _, err := NewWordPiece([]string{"a"}, true); err == nil || !strings.Contains(err.Error(), "[UNK]") {
		t.Errorf("no [UNK]: %v", err)
	}
	m, err := NewWordPieceFromMap(map[string]int{"[UNK]": 0, "hi": 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	if e := m.Encode("Hi yo"); !reflect.DeepEqual(e.IDs, []int{1, 0}) {
		t.Errorf("map vocabulary without [CLS]/[SEP]: %v", e.IDs)
	}
}

func TestDisplay(t *testing.T) {
	tk := tinyBert(t, true)
	e := tk.Encode("hello <world>")
	if got := e.String(); got != "[CLS](2) hello(5) [UNK](1) world(6) [UNK](1) [SEP](3)" {
		t.Errorf("String = %q", got)
	}
	b := e.Display()
	if txt := b.Text(); !strings.Contains(txt, "Encoding (6 tokens)") || !strings.Contains(txt, `"hello"`) || !strings.Contains(txt, "[6, 7)") {
		t.Errorf("text/plain:\n%s", txt)
	}
	h, _ := b.Data["text/html"].(string)
	if !strings.Contains(h, "<td><code>[UNK]</code></td><td>1</td><td>[6, 7)</td>") {
		t.Errorf("text/html: %s", h)
	}
	if got := tk.Display().Text(); !strings.Contains(got, "WordPiece") || !strings.Contains(got, "22 ids") {
		t.Errorf("tokenizer display %q", got)
	}
}

func TestAppendNFD(t *testing.T) {
	for _, tc := range []struct {
		in   rune
		form norm.Form
		want string
	}{
		{'a', norm.NFD, "a"},
		{'é', norm.NFD, "e\u0301"},
		{'ǖ', norm.NFD, "u\u0308\u0304"}, // decomposed fully, not one level
		{'한', norm.NFD, "\u1112\u1161\u11ab"},
		{'가', norm.NFD, "\u1100\u1161"},
		{'\uF900', norm.NFD, "\u8C48"}, // a CJK compatibility ideograph
		{'ﬁ', norm.NFD, "ﬁ"},
		{'ﬁ', norm.NFKD, "fi"},
		{'²', norm.NFKD, "2"},
	} {
		if got := string(appendNFD(nil, tc.in, tc.form)); got != tc.want {
			t.Errorf("appendNFD(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if want := tc.form.String(string(tc.in)); string(appendNFD(nil, tc.in, tc.form)) != want {
			t.Errorf("appendNFD(%q) differs from the norm package's %q", tc.in, want)
		}
	}
}
