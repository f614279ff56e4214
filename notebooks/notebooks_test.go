package notebooks

import (
	"regexp"
	"strconv"
	"testing"
)

// TestNotebooks executes every tutorial notebook end to end and checks the
// figures each one promises.
func TestNotebooks(t *testing.T) {
	t.Run("engine-basics", func(t *testing.T) {
		out := runNotebook(t, "engine-basics.ipynb")
		t.Log("\n" + out)
		m := regexp.MustCompile(`training accuracy ([0-9.]+) after (\d+) steps`).FindStringSubmatch(out)
		if m == nil {
			t.Fatal("the notebook did not report its training accuracy")
		}
		if acc, _ := strconv.ParseFloat(m[1], 64); acc < 0.97 {
			t.Errorf("two-moons training accuracy %v, want ≥ 0.97", acc)
		}
		if steps, _ := strconv.Atoi(m[2]); steps != 30*13 {
			t.Errorf("%d steps, want 30 epochs × 13 batches", steps)
		}
		for _, want := range []string{"softsign gradient check: <nil>", "[-1, 2, -3]", "step 300/390"} {
			if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(out) {
				t.Errorf("output lacks %q", want)
			}
		}
	})
}
