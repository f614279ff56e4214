package tokenizer

import (
	"strings"
	"testing"
)

// benchText is the corpus joined into one text of about 2 KB, mostly
// English with code, numbers and other scripts.
func benchText(b *testing.B) string {
	return strings.Join(loadCorpus(b).Texts, "\n")
}

// BenchmarkEncodeGPT2 measures GPT-2 encoding throughput with the model's
// cache of pieces warm (the steady state of encoding a dataset).
func BenchmarkEncodeGPT2(b *testing.B) {
	tk, text := gpt2(b), benchText(b)
	tk.Encode(text)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tk.Encode(text)
	}
}

// BenchmarkEncodeGPT2Cold empties the cache before each encoding, so every
// piece goes through the merges.
func BenchmarkEncodeGPT2Cold(b *testing.B) {
	tk, text := gpt2(b), benchText(b)
	m := tk.model.(*bpe)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.mu.Lock()
		clear(m.cache)
		m.mu.Unlock()
		tk.Encode(text)
	}
}

// BenchmarkEncodeBERT measures BERT (WordPiece) encoding throughput.
func BenchmarkEncodeBERT(b *testing.B) {
	tk, text := bert(b), benchText(b)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tk.Encode(text)
	}
}

// BenchmarkEncodeBatchGPT2 encodes the corpus texts as one padded batch, in
// parallel.
func BenchmarkEncodeBatchGPT2(b *testing.B) {
	tk := gpt2(b)
	texts := loadCorpus(b).Texts
	n := 0
	for _, s := range texts {
		n += len(s)
	}
	tk.EncodeBatch(texts, true)
	b.SetBytes(int64(n))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tk.EncodeBatch(texts, true)
	}
}
