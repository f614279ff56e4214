package ot

import (
	"strings"
	"testing"

	"github.com/graftml/graft/display"
)

func TestCOOTResultShowsItself(t *testing.T) {
	X, _ := FromRows([][]float64{{0, 1, 2}, {3, 4, 5}})
	Y, _ := FromRows([][]float64{{5, 4, 3}, {2, 1, 0}}) // X with rows and columns reversed
	r, err := COOT(X, Y, COOTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := r.String()
	if !strings.HasPrefix(s, "ot.COOTResult value 0,") || !strings.Contains(s, "sample plan 2×2, feature plan 3×3") {
		t.Errorf("String: %q", s)
	}
	b := r.Display()
	if b.Data[display.MIMEText] != s {
		t.Errorf("text/plain %q, want %q", b.Data[display.MIMEText], s)
	}
	if png, ok := b.Data["image/png"].([]byte); !ok || len(png) < 100 {
		t.Errorf("no PNG in the bundle (MIME types %d)", len(b.Data))
	}
	if _, err := (&COOTResult{}).Plot(); err == nil || !strings.Contains(err.Error(), "no plans") {
		t.Errorf("empty result: %v", err)
	}
}
