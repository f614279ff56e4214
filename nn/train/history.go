package train

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/viz"
)

// History is the record of a training run: every step's loss, metrics and
// learning rate, every evaluation, and per-epoch means. It survives
// checkpoints, so a resumed run's history continues the interrupted one's.
// It marshals to JSON (non-finite values as the strings "NaN", "+Inf", "-Inf").
type History struct {
	// Records holds one entry per step (optimiser update), in order.
	Records []StepRecord `json:"steps"`
	// Epochs holds one entry per completed epoch.
	Epochs []EpochRecord `json:"epochs"`
	// Evals holds one entry per evaluation.
	Evals []EvalRecord `json:"evals"`
	// Skipped counts steps skipped because the loss was not finite
	// (Config.ContinueOnNonFinite).
	Skipped int `json:"skipped"`
}

// StepRecord is one step: its 1-based number and epoch, the mean loss over
// its batches, the first group's learning rate and the step's metrics
// ("grad_norm" when gradients are clipped). A skipped step has a NaN or
// infinite loss and Skipped set.
type StepRecord struct {
	Step    int
	Epoch   int
	Loss    float64
	LR      float64
	Metrics map[string]float64
	Skipped bool
}

// EpochRecord is one completed epoch: its 1-based number, the step that ended
// it, the mean of its steps' loss and metrics (skipped steps left out), and
// the evaluation metrics if an evaluation ran at its end.
type EpochRecord struct {
	Epoch int
	Step  int
	Train map[string]float64
	Eval  map[string]float64
}

// EvalRecord is one evaluation: the step after which it ran, that step's
// epoch and the metrics averaged over the evaluation set.
type EvalRecord struct {
	Step    int
	Epoch   int
	Metrics map[string]float64
}

// Display shows the history in a notebook as a figure — a panel per metric
// with the smoothed train curve and the evaluation curve (see viz.History) —
// with String's table as the text form.
func (h *History) Display() display.Bundle {
	return viz.HistoryBundle(h, viz.HistoryOptions{}, h.String())
}

// Plot draws the history with the given options: other metrics, per-epoch
// means, a log scale, a size.
func (h *History) Plot(opt viz.HistoryOptions) (*viz.Figure, error) {
	return viz.History(h, opt)
}

// Len returns the number of steps recorded.
func (h *History) Len() int { return len(h.Records) }

// Steps returns the step numbers of the records, for plotting against Series.
func (h *History) Steps() []int {
	out := make([]int, len(h.Records))
	for i, r := range h.Records {
		out[i] = r.Step
	}
	return out
}

// Series returns one value per step of "loss", "lr" or a step metric such as
// "grad_norm" or one the Step function returned; NaN where a step lacks it.
func (h *History) Series(name string) []float64 {
	out := make([]float64, len(h.Records))
	for i, r := range h.Records {
		out[i] = r.value(name)
	}
	return out
}

func (r StepRecord) value(name string) float64 {
	switch name {
	case "loss":
		return r.Loss
	case "lr":
		return r.LR
	}
	if v, ok := r.Metrics[name]; ok {
		return v
	}
	return math.NaN()
}

// EvalSteps returns the steps after which evaluations ran.
func (h *History) EvalSteps() []int {
	out := make([]int, len(h.Evals))
	for i, e := range h.Evals {
		out[i] = e.Step
	}
	return out
}

// EvalSeries returns one value per evaluation of the named metric; NaN where
// an evaluation lacks it.
func (h *History) EvalSeries(name string) []float64 {
	out := make([]float64, len(h.Evals))
	for i, e := range h.Evals {
		out[i] = lookup(e.Metrics, name)
	}
	return out
}

// EpochSeries returns one value per completed epoch of the named mean train
// metric ("loss" included), or of an evaluation metric when the name starts
// with "eval_" (e.g. "eval_accuracy"); NaN where an epoch lacks it.
func (h *History) EpochSeries(name string) []float64 {
	out := make([]float64, len(h.Epochs))
	for i, e := range h.Epochs {
		if v, ok := e.Train[name]; ok {
			out[i] = v
		} else if rest, ok := strings.CutPrefix(name, "eval_"); ok {
			out[i] = lookup(e.Eval, rest)
		} else {
			out[i] = math.NaN()
		}
	}
	return out
}

func lookup(m map[string]float64, name string) float64 {
	if v, ok := m[name]; ok {
		return v
	}
	return math.NaN()
}

// Names returns the names Series accepts for this history: "loss", "lr" and
// every step metric seen, sorted after those two.
func (h *History) Names() []string {
	seen := map[string]bool{}
	for _, r := range h.Records {
		for k := range r.Metrics {
			seen[k] = true
		}
	}
	return append([]string{"loss", "lr"}, sortedKeys(seen)...)
}

// EvalNames returns the names EvalSeries accepts: every metric seen in an
// evaluation, sorted with "loss" first.
func (h *History) EvalNames() []string {
	seen := map[string]bool{}
	for _, e := range h.Evals {
		for k := range e.Metrics {
			seen[k] = true
		}
	}
	return lossFirst(seen)
}

// EpochNumbers returns the numbers of the completed epochs, for plotting
// against EpochSeries.
func (h *History) EpochNumbers() []int {
	out := make([]int, len(h.Epochs))
	for i, e := range h.Epochs {
		out[i] = e.Epoch
	}
	return out
}

// Last returns the latest values in one map: "step", "epoch", "loss", "lr" and
// metrics of the last step, and the metrics of the last evaluation prefixed
// with "eval_". It is empty before the first step.
func (h *History) Last() map[string]float64 {
	out := map[string]float64{}
	if len(h.Records) > 0 {
		r := h.Records[len(h.Records)-1]
		for k, v := range r.Metrics {
			out[k] = v
		}
		out["step"], out["epoch"], out["loss"], out["lr"] = float64(r.Step), float64(r.Epoch), r.Loss, r.LR
	}
	if len(h.Evals) > 0 {
		for k, v := range h.Evals[len(h.Evals)-1].Metrics {
			out["eval_"+k] = v
		}
	}
	return out
}

// String renders a compact table: one row per completed epoch with its mean
// train metrics and evaluation metrics, or the last steps when no epoch has
// completed, and a summary line.
func (h *History) String() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	if len(h.Epochs) > 0 {
		trainKeys, evalKeys := map[string]bool{}, map[string]bool{}
		for _, e := range h.Epochs {
			for k := range e.Train {
				trainKeys[k] = true
			}
			for k := range e.Eval {
				evalKeys[k] = true
			}
		}
		tk, ek := lossFirst(trainKeys), lossFirst(evalKeys)
		fmt.Fprint(tw, "epoch\tstep")
		for _, k := range tk {
			fmt.Fprint(tw, "\t"+k)
		}
		for _, k := range ek {
			fmt.Fprint(tw, "\teval_"+k)
		}
		fmt.Fprintln(tw)
		for _, e := range h.Epochs {
			fmt.Fprintf(tw, "%d\t%d", e.Epoch, e.Step)
			for _, k := range tk {
				fmt.Fprint(tw, "\t"+formatMetric(e.Train, k))
			}
			for _, k := range ek {
				fmt.Fprint(tw, "\t"+formatMetric(e.Eval, k))
			}
			fmt.Fprintln(tw)
		}
	} else if len(h.Records) > 0 {
		keys := map[string]bool{}
		for _, r := range h.Records {
			for k := range r.Metrics {
				keys[k] = true
			}
		}
		mk := sortedKeys(keys)
		fmt.Fprint(tw, "step\tepoch\tloss\tlr")
		for _, k := range mk {
			fmt.Fprint(tw, "\t"+k)
		}
		fmt.Fprintln(tw)
		const show = 10
		recs := h.Records
		if len(recs) > show {
			recs = recs[len(recs)-show:]
			fmt.Fprintln(tw, "…")
		}
		for _, r := range recs {
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s", r.Step, r.Epoch, formatFloat(r.Loss), formatFloat(r.LR))
			for _, k := range mk {
				fmt.Fprint(tw, "\t"+formatMetric(r.Metrics, k))
			}
			fmt.Fprintln(tw)
		}
	}
	tw.Flush()
	fmt.Fprintf(&b, "%d steps, %d epochs, %d evaluations", len(h.Records), len(h.Epochs), len(h.Evals))
	if h.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped (non-finite loss)", h.Skipped)
	}
	if len(h.Records) > 0 {
		fmt.Fprintf(&b, "; last loss %s", formatFloat(h.Records[len(h.Records)-1].Loss))
	}
	return b.String()
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// lossFirst returns the keys sorted with "loss" first.
func lossFirst(m map[string]bool) []string {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return keys[i] == "loss" && keys[j] != "loss" })
	return keys
}

func formatMetric(m map[string]float64, k string) string {
	v, ok := m[k]
	if !ok {
		return "-"
	}
	return formatFloat(v)
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', 5, 64) }

// jsonFloat is a float64 whose JSON form may be a non-finite value, written
// as the string "NaN", "+Inf" or "-Inf".
type jsonFloat float64

// MarshalJSON writes finite values as numbers, others as strings.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte(strconv.Quote(strconv.FormatFloat(v, 'g', -1, 64))), nil
	}
	return []byte(strconv.FormatFloat(v, 'g', -1, 64)), nil
}

// UnmarshalJSON reads a number or one of the strings MarshalJSON writes.
func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		s, err := strconv.Unquote(string(b))
		if err != nil {
			return err
		}
		switch s {
		case "NaN", "+Inf", "-Inf":
			v, _ := strconv.ParseFloat(s, 64)
			*f = jsonFloat(v)
			return nil
		}
		return fmt.Errorf("train: %q is not a number", s)
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("train: %s is not a number", b)
	}
	*f = jsonFloat(v)
	return nil
}

func toJSONMap(m map[string]float64) map[string]jsonFloat {
	if m == nil {
		return nil
	}
	out := make(map[string]jsonFloat, len(m))
	for k, v := range m {
		out[k] = jsonFloat(v)
	}
	return out
}

func fromJSONMap(m map[string]jsonFloat) map[string]float64 {
	if m == nil {
		return nil
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = float64(v)
	}
	return out
}

type stepRecordJSON struct {
	Step    int                  `json:"step"`
	Epoch   int                  `json:"epoch"`
	Loss    jsonFloat            `json:"loss"`
	LR      jsonFloat            `json:"lr"`
	Metrics map[string]jsonFloat `json:"metrics,omitempty"`
	Skipped bool                 `json:"skipped,omitempty"`
}

// MarshalJSON encodes the record with non-finite values as strings.
func (r StepRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(stepRecordJSON{r.Step, r.Epoch, jsonFloat(r.Loss), jsonFloat(r.LR), toJSONMap(r.Metrics), r.Skipped})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (r *StepRecord) UnmarshalJSON(b []byte) error {
	var j stepRecordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = StepRecord{j.Step, j.Epoch, float64(j.Loss), float64(j.LR), fromJSONMap(j.Metrics), j.Skipped}
	return nil
}

type epochRecordJSON struct {
	Epoch int                  `json:"epoch"`
	Step  int                  `json:"step"`
	Train map[string]jsonFloat `json:"train"`
	Eval  map[string]jsonFloat `json:"eval,omitempty"`
}

// MarshalJSON encodes the record with non-finite values as strings.
func (e EpochRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(epochRecordJSON{e.Epoch, e.Step, toJSONMap(e.Train), toJSONMap(e.Eval)})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (e *EpochRecord) UnmarshalJSON(b []byte) error {
	var j epochRecordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = EpochRecord{j.Epoch, j.Step, fromJSONMap(j.Train), fromJSONMap(j.Eval)}
	return nil
}

type evalRecordJSON struct {
	Step    int                  `json:"step"`
	Epoch   int                  `json:"epoch"`
	Metrics map[string]jsonFloat `json:"metrics"`
}

// MarshalJSON encodes the record with non-finite values as strings.
func (e EvalRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(evalRecordJSON{e.Step, e.Epoch, toJSONMap(e.Metrics)})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (e *EvalRecord) UnmarshalJSON(b []byte) error {
	var j evalRecordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = EvalRecord{j.Step, j.Epoch, fromJSONMap(j.Metrics)}
	return nil
}
