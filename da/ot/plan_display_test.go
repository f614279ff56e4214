package ot

import (
	"strings"
	"testing"

	"github.com/graftml/graft/display"
	"github.com/graftml/graft/viz"
)

func TestPlanDisplay(t *testing.T) {
	M, _ := FromRows([][]float64{{1, 4}, {4, 1}})
	p, _ := EMD(nil, nil, M, EMDOptions{})
	s := p.String()
	for _, want := range []string{"emd (network simplex) 2×2: cost 1,", "converged, marginal error 0", "0.5"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q lacks %q", s, want)
		}
	}
	b := p.Display()
	if b.Data[display.MIMEText] != s {
		t.Errorf("text form %q", b.Data[display.MIMEText])
	}
	if _, ok := b.Data["image/png"]; !ok {
		t.Errorf("no PNG in the bundle: %v", keys(b))
	}
	f, err := p.Plot(viz.HeatmapOptions{Values: true})
	if err != nil || !strings.Contains(f.String(), "cost 1") {
		t.Errorf("plot: %v %v", f, err)
	}
	limited, _ := EMD(nil, nil, M, EMDOptions{MaxIter: 1})
	if !strings.Contains(limited.String(), "NOT converged") {
		t.Errorf("limited: %q", limited.String())
	}
	empty := &Plan{Method: "none"}
	if got := empty.Display().Data[display.MIMEText]; !strings.Contains(got.(string), "no plan") {
		t.Errorf("empty plan: %q", got)
	}
}

func keys(b display.Bundle) []string {
	var k []string
	for m := range b.Data {
		k = append(k, m)
	}
	return k
}

func TestMappingDisplay(t *testing.T) {
	xs, xt, _, _, _ := mappingProblem()
	mp, err := FitMapping(xs, xt, MappingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := mp.Display()
	if s := b.Data[display.MIMEText].(string); !strings.Contains(s, "ot.Mapping 30 source → 24 target samples (2 features); plan: emd") {
		t.Errorf("text form %q", s)
	}
	if _, ok := b.Data["image/png"]; !ok {
		t.Errorf("no PNG in the bundle: %v", keys(b))
	}
	f, _ := mp.Plot(viz.ScatterOptions{})
	if f.Marks() != 30+24+30 {
		t.Errorf("%d marks, want 84", f.Marks())
	}
}
