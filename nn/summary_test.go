package nn

import (
	"reflect"
	"strings"
	"testing"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/tensor"
)

func sp(n int) string { return strings.Repeat(" ", n) }

type summaryNet struct {
	FC   *Linear
	Head *Linear
}

// newSummaryNet has fc (4→3 with bias: 12+3 trainable) and head (3→2 with
// bias: 6+2 frozen): 23 values, 15 trainable.
func newSummaryNet() *summaryNet {
	r := tensor.NewRNG(1)
	n := &summaryNet{FC: NewLinear(4, 3, true, r), Head: NewLinear(3, 2, true, r)}
	Freeze(n.Head)
	return n
}

func TestSummaryCountsAndOutput(t *testing.T) {
	s := Summary(newSummaryNet())
	want := []ParamInfo{
		{"fc.weight", "fc", []int{3, 4}, 12, true, ""},
		{"fc.bias", "fc", []int{3}, 3, true, ""},
		{"head.weight", "head", []int{2, 3}, 6, false, ""},
		{"head.bias", "head", []int{2}, 2, false, ""},
	}
	if !reflect.DeepEqual(s.Params, want) {
		t.Errorf("params:\n%+v\nwant\n%+v", s.Params, want)
	}
	if s.Total != 23 || s.Trainable != 15 {
		t.Errorf("total %d trainable %d, want 23 15", s.Total, s.Trainable)
	}
	if p := s.TrainablePercent(); p < 65.21739 || p > 65.21740 { // 15/23
		t.Errorf("percent %v", p)
	}
	wantText := strings.Join([]string{
		"trainable params: 15 || all params: 23 || trainable%: 65.2174",
		"name         shape  params  trainable",
		"-----------  -----  ------  ---------",
		"fc.weight    (3,4)      12  yes",
		"fc.bias      (3)         3  yes",
		"head.weight  (2,3)       6  no",
		"head.bias    (2)         2  no",
		"-----------  -----  ------  ---------",
		"total" + sp(19) + "23" + sp(9) + "15",
	}, "\n")
	if got := s.String(); got != wantText {
		t.Errorf("text:\n%s\nwant:\n%s", got, wantText)
	}
	left := func(s string) string { return `<td style="text-align:left">` + s + "</td>" }
	right := func(s string) string { return `<td style="text-align:right">` + s + "</td>" }
	wantHTML := `<table style="font-variant-numeric:tabular-nums">
<caption style="text-align:left;white-space:nowrap">trainable params: 15 || all params: 23 || trainable%: 65.2174</caption>
<thead><tr><th style="text-align:left">name</th><th style="text-align:left">shape</th><th style="text-align:right">params</th><th style="text-align:left">trainable</th></tr></thead>
<tbody>
<tr>` + left("fc.weight") + left("(3,4)") + right("12") + left("yes") + `</tr>
<tr>` + left("fc.bias") + left("(3)") + right("3") + left("yes") + `</tr>
<tr>` + left("head.weight") + left("(2,3)") + right("6") + left("no") + `</tr>
<tr>` + left("head.bias") + left("(2)") + right("2") + left("no") + `</tr>
</tbody>
<tfoot><tr style="font-weight:bold">` + left("total") + left("") + right("23") + right("15") + `</tr></tfoot>
</table>`
	b := display.Render(s)
	if got := b.Data[display.MIMEHTML]; got != wantHTML {
		t.Errorf("html:\n%s\nwant:\n%s", got, wantHTML)
	}
	if b.Text() != wantText {
		t.Errorf("bundle text differs from String")
	}
}

func TestSummaryGroupsDigitsInTheCaption(t *testing.T) {
	s := Summary(NewLinear(1000, 1000, true, tensor.NewRNG(1)))
	if want := "trainable params: 1,001,000 || all params: 1,001,000 || trainable%: 100.0000"; s.Table().Caption != want {
		t.Errorf("caption %q, want %q", s.Table().Caption, want)
	}
	if !strings.Contains(s.String(), "weight  (1000,1000)  1,000,000  yes") {
		t.Errorf("text:\n%s", s.String())
	}
	if got := Summary(&summaryNet{}); got.Total != 0 || got.TrainablePercent() != 0 || len(got.Params) != 0 {
		t.Errorf("empty model: %+v", got)
	}
}

// testLoRA wraps a base layer: its own matrices are the adapter's, the base's
// are not. It records the relative names Summary asks about.
type testLoRA struct {
	Base  *Linear
	A     *tensor.Tensor `nn:"lora_a"`
	B     *tensor.Tensor `nn:"lora_b"`
	asked []string
}

func (l *testLoRA) AdapterName(param string) string {
	l.asked = append(l.asked, param)
	if strings.HasPrefix(param, "base.") {
		return ""
	}
	return "lora"
}

type testGate struct{ Scale *tensor.Tensor }

func (*testGate) AdapterName(string) string { return "gate" }

type testBottleneck struct {
	Down, Up *Linear
	Gate     *testGate
}

func (*testBottleneck) AdapterName(string) string { return "houlsby" }

type adaptedNet struct {
	Temp     *tensor.Tensor
	Enc      *testLoRA
	Adapters map[string]*testBottleneck
	Head     *Linear
	Stats    *tensor.Tensor `nn:",buffer"`
}

const evil = "<script>alert(1)</script>"

// newAdaptedNet: temp 1; enc.base 12+3 frozen; lora_a (2,4) 8 and lora_b
// (3,2) 6; adapters.<evil>: down 3, up 3, gate 1; head 6. Total 43, frozen 15.
func newAdaptedNet() *adaptedNet {
	r := tensor.NewRNG(2)
	n := &adaptedNet{
		Temp: tensor.Ones(1).SetRequiresGrad(true),
		Enc: &testLoRA{Base: NewLinear(4, 3, true, r),
			A: tensor.Zeros(2, 4).SetRequiresGrad(true), B: tensor.Zeros(3, 2).SetRequiresGrad(true)},
		Adapters: map[string]*testBottleneck{evil: {Down: NewLinear(3, 1, false, r), Up: NewLinear(1, 3, false, r),
			Gate: &testGate{Scale: tensor.Ones(1).SetRequiresGrad(true)}}},
		Head:  NewLinear(3, 2, false, r),
		Stats: tensor.Zeros(3),
	}
	Freeze(n.Enc.Base)
	return n
}

func TestSummaryAdapters(t *testing.T) {
	n := newAdaptedNet()
	s := Summary(n)
	ad := "adapters." + evil
	want := []ParamInfo{
		{"temp", "", []int{1}, 1, true, ""},
		{"enc.base.weight", "enc.base", []int{3, 4}, 12, false, ""},
		{"enc.base.bias", "enc.base", []int{3}, 3, false, ""},
		{"enc.lora_a", "enc", []int{2, 4}, 8, true, "lora"},
		{"enc.lora_b", "enc", []int{3, 2}, 6, true, "lora"},
		{ad + ".down.weight", ad + ".down", []int{1, 3}, 3, true, "houlsby"},
		{ad + ".up.weight", ad + ".up", []int{3, 1}, 3, true, "houlsby"},
		{ad + ".gate.scale", ad + ".gate", []int{1}, 1, true, "gate"}, // the nearest adapter wins
		{"head.weight", "head", []int{2, 3}, 6, true, ""},
	}
	if !reflect.DeepEqual(s.Params, want) {
		t.Errorf("params:\n%+v\nwant\n%+v", s.Params, want)
	}
	if got := strings.Join(n.Enc.asked, " "); got != "base.weight base.bias lora_a lora_b" {
		t.Errorf("names passed to AdapterName: %s", got)
	}
	if s.Total != 43 || s.Trainable != 28 {
		t.Errorf("total %d trainable %d, want 43 28", s.Total, s.Trainable)
	}
	tb := s.Table()
	if got := tb.Columns(); !reflect.DeepEqual(got, []string{"name", "shape", "params", "trainable", "adapter"}) {
		t.Errorf("columns %v", got)
	}
	if !strings.Contains(s.String(), "enc.lora_a") || !strings.Contains(s.String(), "(2,4)       8  yes        lora") {
		t.Errorf("text:\n%s", s.String())
	}
	html := tb.HTML()
	if strings.Contains(html, "<script>") ||
		!strings.Contains(html, `<td style="text-align:left">adapters.&lt;script&gt;alert(1)&lt;/script&gt;.down.weight</td>`) {
		t.Errorf("module name not escaped:\n%s", html)
	}
}

func TestSummaryModules(t *testing.T) {
	s := Summary(newAdaptedNet())
	ad := "adapters." + evil
	cases := []struct {
		depth int
		want  []ModuleCount
	}{
		{1, []ModuleCount{{"", 1, 1}, {"enc", 29, 14}, {"adapters", 7, 7}, {"head", 6, 6}}},
		{2, []ModuleCount{{"", 1, 1}, {"enc.base", 15, 0}, {"enc", 14, 14}, {ad, 7, 7}, {"head", 6, 6}}},
		{0, []ModuleCount{{"", 1, 1}, {"enc.base", 15, 0}, {"enc", 14, 14}, {ad + ".down", 3, 3}, {ad + ".up", 3, 3}, {ad + ".gate", 1, 1}, {"head", 6, 6}}},
	}
	for _, c := range cases {
		if got := s.Modules(c.depth); !reflect.DeepEqual(got, c.want) {
			t.Errorf("depth %d:\n%+v\nwant\n%+v", c.depth, got, c.want)
		}
	}
	wantText := strings.Join([]string{
		"trainable params: 28 || all params: 43 || trainable%: 65.1163",
		"module    params  trainable  frozen",
		"--------  ------  ---------  ------",
		"(root)" + sp(9) + "1" + sp(10) + "1" + sp(7) + "0",
		"enc" + sp(11) + "29" + sp(9) + "14" + sp(6) + "15",
		"adapters" + sp(7) + "7" + sp(10) + "7" + sp(7) + "0",
		"head" + sp(11) + "6" + sp(10) + "6" + sp(7) + "0",
		"--------  ------  ---------  ------",
		"total" + sp(9) + "43" + sp(9) + "28" + sp(6) + "15",
	}, "\n")
	if got := s.ModuleTable(1).String(); got != wantText {
		t.Errorf("module table:\n%s\nwant:\n%s", got, wantText)
	}
}
