package dataio

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/tensor"
)

const irisLike = "\uFEFFsepal_length, sepal_width ,species\n" +
	"5.1,3.5,setosa\n" +
	"7.0,3.2,versicolor\n" +
	"6.3,3.3,virginica\n" +
	"4.9,3.0,setosa\n" +
	"6.4,3.2,versicolor\n"

func TestReadCSVStringLabels(t *testing.T) {
	p := writeBytes(t, "iris.csv", []byte(irisLike))
	ds, err := ReadCSV(p, CSVOptions{Header: true, LabelColumn: "species"})
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, ds.X, []int{5, 2}, []float32{5.1, 3.5, 7.0, 3.2, 6.3, 3.3, 4.9, 3.0, 6.4, 3.2})
	if !slices.Equal(ds.Labels, []int{0, 1, 2, 0, 1}) || !slices.Equal(ds.Classes, []string{"setosa", "versicolor", "virginica"}) {
		t.Fatalf("labels %v classes %v", ds.Labels, ds.Classes)
	}
	if ds.Name != "iris" {
		t.Errorf("name %q, want iris", ds.Name)
	}

	// Rows in another order: sorted classes stay the same, first-seen follow the rows.
	rows := strings.Split(strings.TrimSpace(irisLike), "\n")
	shuffled := strings.Join([]string{"a,b,species", rows[3], rows[5], rows[1], rows[2]}, "\n")
	p = writeBytes(t, "s.csv", []byte(shuffled))
	ds, err = ReadCSV(p, CSVOptions{Header: true, LabelColumn: "species"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Labels, []int{2, 1, 0, 1}) || !slices.Equal(ds.Classes, []string{"setosa", "versicolor", "virginica"}) {
		t.Fatalf("sorted: labels %v classes %v", ds.Labels, ds.Classes)
	}
	ds, err = ReadCSV(p, CSVOptions{Header: true, LabelColumn: "2", LabelsInOrderSeen: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Labels, []int{0, 1, 2, 1}) || !slices.Equal(ds.Classes, []string{"virginica", "versicolor", "setosa"}) {
		t.Fatalf("first seen: labels %v classes %v", ds.Labels, ds.Classes)
	}
	// Given classes fix the numbering.
	ds, err = ReadCSV(p, CSVOptions{Header: true, LabelColumn: "-1", Classes: []string{"virginica", "setosa", "versicolor"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Labels, []int{0, 2, 1, 2}) {
		t.Fatalf("given classes: labels %v, want [0 2 1 2]", ds.Labels)
	}
}

func TestReadCSVNumericLabelsAndOptions(t *testing.T) {
	cases := []struct {
		name, file string
		opt        CSVOptions
		shape      []int
		x          []float32
		labels     []int
		classes    []string
	}{
		{"int labels first, no header", "3,0.5,1e3\n0,-2,.25\n7,1,2\n", CSVOptions{LabelColumn: "0"},
			[]int{3, 2}, []float32{0.5, 1000, -2, 0.25, 1, 2}, []int{3, 0, 7}, nil},
		{"negative labels sort numerically", "1,-1\n2,10\n3,9\n4,-1\n", CSVOptions{LabelColumn: "-1"},
			[]int{4, 1}, []float32{1, 2, 3, 4}, []int{0, 2, 1, 0}, []string{"-1", "9", "10"}},
		{"no labels", "1,2\n3,4\n", CSVOptions{}, []int{2, 2}, []float32{1, 2, 3, 4}, nil, nil},
		{"semicolons, comments, spaces", "# a comment\nf;g;y\n 1.5 ; 2 ; b \n# another\n3;4;a\n", CSVOptions{Header: true, LabelColumn: "y", Delimiter: ';', Comment: '#'},
			[]int{2, 2}, []float32{1.5, 2, 3, 4}, []int{1, 0}, []string{"a", "b"}},
		{"tabs and specials", "x\ty\nNaN\t1\n-Inf\t0\n1e-50\t1\n", CSVOptions{Header: true, LabelColumn: "y", Delimiter: '\t'},
			[]int{3, 1}, []float32{float32(math.NaN()), float32(math.Inf(-1)), 0}, []int{1, 0, 1}, nil},
		{"missing as NaN", "a,b,c\n1,,x\nNA,?,y\n", CSVOptions{Header: true, LabelColumn: "c", MissingAsNaN: true},
			[]int{2, 2}, []float32{1, float32(math.NaN()), float32(math.NaN()), float32(math.NaN())}, []int{0, 1}, []string{"x", "y"}},
		{"header only", "a,b\n", CSVOptions{Header: true}, []int{0, 2}, []float32{}, nil, nil},
		{"quoted label with comma", "1,\"big, red\"\n2,small\n", CSVOptions{LabelColumn: "1"},
			[]int{2, 1}, []float32{1, 2}, []int{0, 1}, []string{"big, red", "small"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, err := ReadCSV(writeBytes(t, "t.csv", []byte(c.file)), c.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkTensor(t, ds.X, c.shape, c.x)
			if !slices.Equal(ds.Labels, c.labels) || !slices.Equal(ds.Classes, c.classes) {
				t.Fatalf("labels %v classes %q, want %v %q", ds.Labels, ds.Classes, c.labels, c.classes)
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	cases := []struct {
		name, file string
		opt        CSVOptions
		parts      []string
	}{
		{"bad number", "a,b,label\n1,2,x\n3,abc,y\n", CSVOptions{Header: true, LabelColumn: "label"},
			[]string{"line 3, column 2", `("b")`, `"abc" is not a number`}},
		{"bad number no header", "1,2\n3,4x\n", CSVOptions{}, []string{"line 2, column 2:", `"4x" is not a number`}},
		{"missing value", "a,b\n1,\n", CSVOptions{Header: true}, []string{"line 2, column 2", `"" is not a number`}},
		{"ragged row", "1,2,3\n4,5\n", CSVOptions{}, []string{"line 2", "wrong number of fields"}},
		{"bad quote", "1,\"2\n", CSVOptions{}, []string{"line 1", "quote"}},
		{"unknown class", "v,c\n1,cat\n2,cow\n", CSVOptions{Header: true, LabelColumn: "c", Classes: []string{"cat", "dog"}},
			[]string{"line 3, column 2", `("c")`, `label "cow" is not one of the classes cat, dog`}},
		{"no such column", "a,b\n1,2\n", CSVOptions{Header: true, LabelColumn: "label"}, []string{`no column "label" in the header a,b`}},
		{"name without header", "1,2\n", CSVOptions{LabelColumn: "label"}, []string{`"label" is a name`, "set Header"}},
		{"index out of range", "1,2\n", CSVOptions{LabelColumn: "2"}, []string{"label column 2 is outside the 2 columns"}},
		{"empty file", "", CSVOptions{}, []string{"no rows"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeBytes(t, "bad.csv", []byte(c.file))
			_, err := ReadCSV(p, c.opt)
			checkErrorContains(t, err, append(c.parts, p)...)
		})
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	x := tensor.New([]float32{0.1, -1e-7, 3.4028235e38, 1.0 / 3, 5, -0, 2.5, 1e10}, 4, 2)
	withClasses, err := data.New("d", x, []int{2, 0, 1, 2}, []string{"zebra", "ant, small", "mole"})
	if err != nil {
		t.Fatal(err)
	}
	noClasses, _ := data.New("d", x, []int{5, 0, 1, 5}, nil)
	unlabelled, _ := data.New("d", x.Reshape(4, 1, 2), nil, nil)
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		ds     *data.Dataset
		header bool
		opt    CSVOptions
	}{
		{"classes", withClasses, true, CSVOptions{Header: true, LabelColumn: "label", Classes: withClasses.Classes}},
		{"numbers", noClasses, false, CSVOptions{LabelColumn: "-1"}},
		{"unlabelled", unlabelled, true, CSVOptions{Header: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name+".csv")
			if err := WriteCSV(p, c.ds, c.header); err != nil {
				t.Fatal(err)
			}
			got, err := ReadCSV(p, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkTensor(t, got.X, []int{4, 2}, x.Data())
			if !slices.Equal(got.Labels, c.ds.Labels) || !slices.Equal(got.Classes, c.ds.Classes) {
				t.Fatalf("labels %v classes %q, want %v %q", got.Labels, got.Classes, c.ds.Labels, c.ds.Classes)
			}
		})
	}
	b, err := os.ReadFile(filepath.Join(dir, "classes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := "x0,x1,label\n0.1,-1e-07,mole\n3.4028235e+38,0.33333334,zebra\n5,0,\"ant, small\"\n2.5,1e+10,mole\n"
	if string(b) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", b, want)
	}
}
