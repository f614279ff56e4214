package peft

import (
	"fmt"
	"testing"

	"github.com/graftml/graft/models/bert"
	"github.com/graftml/graft/models/gpt2"
	"github.com/graftml/graft/nn"
)

// TestStandardCounts checks the trainable-parameter lines PEFT prints for
// the standard set-ups, with the adapter sizes worked out by formula:
// a rank-r LoRA on an (in → out) layer adds r·(in + out) parameters.
func TestStandardCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds GPT-2 small and BERT-base")
	}
	const r = 8
	line := func(trainable, all int) string {
		return fmt.Sprintf("trainable params: %s || all params: %s || trainable%%: %.4f",
			group(trainable), group(all), 100*float64(trainable)/float64(all))
	}

	g, err := gpt2.New(gpt2.Small(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const gpt2Params = 124_439_808 // GPT2Model / GPT2LMHeadModel (tied head)
	if total, _ := nn.CountParameters(g); total != gpt2Params {
		t.Fatalf("GPT-2 small has %d parameters, want %d", total, gpt2Params)
	}
	m, err := Inject(g, "", NewLoraConfig(r, 16, "c_attn"))
	if err != nil {
		t.Fatal(err)
	}
	lora := 12 * r * (768 + 2304) // c_attn: 768 in, 2,304 out, 12 layers = 294,912
	if got, want := m.TrainableLine(), line(lora, gpt2Params+lora); got != want {
		t.Errorf("GPT-2 c_attn r=8:\n got %s\nwant %s", got, want)
	}
	t.Log("GPT-2 small, LoRA r=8 on c_attn: ", m.TrainableLine())

	b, err := bert.New(bert.Base(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const bertParams = 109_482_240 // BertModel with pooler
	if total, _ := nn.CountParameters(b); total != bertParams {
		t.Fatalf("BERT-base has %d parameters, want %d", total, bertParams)
	}
	m, err = Inject(b, "", NewLoraConfig(r, 16, "query", "value"))
	if err != nil {
		t.Fatal(err)
	}
	lora = 12 * 2 * r * (768 + 768) // 294,912
	if got, want := m.TrainableLine(), line(lora, bertParams+lora); got != want {
		t.Errorf("BERT query,value r=8:\n got %s\nwant %s", got, want)
	}
	t.Log("BERT-base, LoRA r=8 on query, value: ", m.TrainableLine())

	c, err := bert.NewClassifier(bert.Base(), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	head := 768*2 + 2
	cfg := NewLoraConfig(r, 16, "query", "value")
	cfg.ModulesToSave = []string{"classifier"}
	m, err = Inject(c, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	// PEFT counts the frozen original head and its trained copy.
	if got, want := m.TrainableLine(), line(lora+head, bertParams+head+lora+head); got != want {
		t.Errorf("BERT classifier:\n got %s\nwant %s", got, want)
	}
	t.Log("BERT-base classifier, LoRA r=8 on query, value + classifier: ", m.TrainableLine())
}

// group writes n with thousands separators, independently of the code under test.
func group(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
