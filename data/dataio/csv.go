package dataio

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/tensor"
)

// CSVOptions says how to read a CSV table into a dataset.
type CSVOptions struct {
	// Header says the first row names the columns.
	Header bool
	// LabelColumn picks the column of class labels: a column name from the
	// header, or a 0-based column index ("-1" is the last column). Empty:
	// no labels; every column is a feature.
	LabelColumn string
	// Delimiter separates fields; 0 means ','.
	Delimiter rune
	// Comment, when not 0, marks lines to skip (e.g. '#').
	Comment rune
	// Classes, when set, lists the class names in label order: each label
	// field must be one of them and gets its index. WriteCSV's files read
	// back exactly with Classes set to the dataset's.
	Classes []string
	// LabelsInOrderSeen numbers string labels in the order they first
	// appear instead of the default sorted order (numeric order when every
	// label is a number, else byte order, as scikit-learn's LabelEncoder).
	LabelsInOrderSeen bool
	// MissingAsNaN reads empty fields and the markers NA, N/A and ? in
	// feature columns as NaN instead of reporting an error.
	MissingAsNaN bool
	// Name is the dataset's name; empty means the file name without its
	// extension.
	Name string
}

// ReadCSV reads the CSV table at path into a dataset: the feature columns
// (every column but the label column) become an (N, F) tensor, the label
// column class labels. Labels that are all non-negative integers are used as
// they are (Classes stays nil); other labels are class names, numbered in
// sorted order (or first-seen order, see CSVOptions.LabelsInOrderSeen) and
// listed in the dataset's Classes. A field that is not a number is an error
// naming the file, line, column and value.
func ReadCSV(path string, opt CSVOptions) (*data.Dataset, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if opt.Name == "" {
		opt.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return DecodeCSV(f, path, opt)
}

// DecodeCSV reads a CSV table from r into a dataset, as ReadCSV does from a
// file; name identifies r in error messages (and names the dataset when
// opt.Name is empty).
func DecodeCSV(r io.Reader, name string, opt CSVOptions) (*data.Dataset, error) {
	if opt.Name == "" {
		opt.Name = name
	}
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	if opt.Delimiter != 0 {
		cr.Comma = opt.Delimiter
	}
	cr.Comment = opt.Comment

	var header []string
	labelCol := -1
	var vals []float32
	var rawLabels []string
	var labelPos [][2]int // line and column of each label, for messages
	rows, width := 0, -1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("dataio: %s: line %d, column %d: %v", name, pe.Line, pe.Column, pe.Err)
			}
			return nil, fmt.Errorf("dataio: %s: %w", name, err)
		}
		if width < 0 {
			width = len(rec)
			if len(rec) > 0 {
				rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
			}
			if opt.Header {
				header = make([]string, len(rec))
				for i, h := range rec {
					header[i] = strings.TrimSpace(h)
				}
			}
			if labelCol, err = resolveLabelColumn(name, opt, header, width); err != nil {
				return nil, err
			}
			if opt.Header {
				continue
			}
		}
		for i, field := range rec {
			field = strings.TrimSpace(field)
			if i == labelCol {
				line, col := cr.FieldPos(i)
				rawLabels = append(rawLabels, field)
				labelPos = append(labelPos, [2]int{line, col})
				continue
			}
			v, ok := parseCSVNumber(field, opt.MissingAsNaN)
			if !ok {
				line, _ := cr.FieldPos(i)
				return nil, fmt.Errorf("dataio: %s: line %d, column %d%s: %q is not a number", name, line, i+1, columnName(header, i), field)
			}
			vals = append(vals, v)
		}
		rows++
	}
	if width < 0 {
		return nil, fmt.Errorf("dataio: %s: no rows", name)
	}
	features := width
	if labelCol >= 0 {
		features--
	}
	x := tensor.Wrap(vals, rows, features)
	if labelCol < 0 {
		return data.New(opt.Name, x, nil, nil)
	}
	labels, classes, i, err := csvLabels(rawLabels, opt)
	if err != nil {
		return nil, fmt.Errorf("dataio: %s: line %d, column %d%s: %w", name, labelPos[i][0], labelCol+1, columnName(header, labelCol), err)
	}
	return data.New(opt.Name, x, labels, classes)
}

// columnName returns ` ("name")` for a column with a header name.
func columnName(header []string, i int) string {
	if i < len(header) && header[i] != "" {
		return fmt.Sprintf(" (%q)", header[i])
	}
	return ""
}

// resolveLabelColumn turns CSVOptions.LabelColumn into a column index (-1:
// none).
func resolveLabelColumn(name string, opt CSVOptions, header []string, width int) (int, error) {
	lc := strings.TrimSpace(opt.LabelColumn)
	if lc == "" {
		return -1, nil
	}
	for i, h := range header {
		if h == lc {
			return i, nil
		}
	}
	i, err := strconv.Atoi(lc)
	if err != nil {
		if !opt.Header {
			return -1, fmt.Errorf("dataio: %s: label column %q is a name but the file is read without a header (set Header)", name, lc)
		}
		return -1, fmt.Errorf("dataio: %s: no column %q in the header %s", name, lc, strings.Join(header, ","))
	}
	if i < 0 {
		i += width
	}
	if i < 0 || i >= width {
		return -1, fmt.Errorf("dataio: %s: label column %s is outside the %d columns", name, lc, width)
	}
	return i, nil
}

// parseCSVNumber parses a feature field.
func parseCSVNumber(s string, missingAsNaN bool) (float32, bool) {
	v, err := strconv.ParseFloat(s, 32)
	if err == nil {
		return float32(v), true
	}
	var ne *strconv.NumError
	if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
		return float32(v), true // ±Inf or a value that underflows to 0
	}
	if missingAsNaN {
		switch s {
		case "", "NA", "N/A", "?":
			return float32(math.NaN()), true
		}
	}
	return 0, false
}

// csvLabels numbers the label fields; on error, bad is the index of the
// field at fault.
func csvLabels(raw []string, opt CSVOptions) (labels []int, classes []string, bad int, err error) {
	labels = make([]int, len(raw))
	if opt.Classes != nil {
		index := make(map[string]int, len(opt.Classes))
		for i, c := range opt.Classes {
			index[c] = i
		}
		for i, s := range raw {
			l, ok := index[s]
			if !ok {
				return nil, nil, i, fmt.Errorf("label %q is not one of the classes %s", s, strings.Join(opt.Classes, ", "))
			}
			labels[i] = l
		}
		return labels, opt.Classes, -1, nil
	}
	allInts := true
	for i, s := range raw {
		l, err := strconv.Atoi(s)
		if err != nil || l < 0 {
			allInts = false
			break
		}
		labels[i] = l
	}
	if allInts {
		return labels, nil, -1, nil
	}
	index := map[string]int{}
	for _, s := range raw {
		if _, ok := index[s]; !ok {
			index[s] = len(classes)
			classes = append(classes, s)
		}
	}
	if !opt.LabelsInOrderSeen {
		sortClasses(classes)
		for i, c := range classes {
			index[c] = i
		}
	}
	for i, s := range raw {
		labels[i] = index[s]
	}
	return labels, classes, -1, nil
}

// sortClasses sorts class names numerically when all are numbers, else by
// bytes.
func sortClasses(classes []string) {
	nums := make(map[string]float64, len(classes))
	for _, c := range classes {
		v, err := strconv.ParseFloat(c, 64)
		if err != nil || math.IsNaN(v) {
			sort.Strings(classes)
			return
		}
		nums[c] = v
	}
	sort.Slice(classes, func(i, j int) bool { return nums[classes[i]] < nums[classes[j]] })
}

// WriteCSV writes ds to path as a CSV table: one row per example with its
// features (the example flattened, formatted so float32 values read back
// exactly) and, when the dataset is labelled, a last column "label" holding
// the class name (if ds.Classes is set) or the label number. With header,
// the first row names the columns x0, x1, … and label. ReadCSV with Header,
// LabelColumn "label" and Classes ds.Classes reads the file back as ds.
func WriteCSV(path string, ds *data.Dataset, header bool) error {
	if ds == nil || ds.X == nil || ds.X.Dims() == 0 {
		return fmt.Errorf("dataio: %s: no dataset to write", path)
	}
	n := ds.X.Dim(0)
	f := 1
	if n > 0 {
		f = ds.X.Len() / n
	} else {
		for _, d := range ds.X.Shape()[1:] {
			f *= d
		}
	}
	return writeFile(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		rec := make([]string, 0, f+1)
		if header {
			for j := range f {
				rec = append(rec, "x"+strconv.Itoa(j))
			}
			if ds.Labels != nil {
				rec = append(rec, "label")
			}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("dataio: %s: %w", path, err)
			}
		}
		vals := ds.X.Data()
		for i := range n {
			rec = rec[:0]
			for _, v := range vals[i*f : (i+1)*f] {
				rec = append(rec, strconv.FormatFloat(float64(v), 'g', -1, 32))
			}
			if ds.Labels != nil {
				l := ds.Labels[i]
				if ds.Classes != nil && l >= 0 && l < len(ds.Classes) {
					rec = append(rec, ds.Classes[l])
				} else {
					rec = append(rec, strconv.Itoa(l))
				}
			}
			if err := cw.Write(rec); err != nil {
				return fmt.Errorf("dataio: %s: %w", path, err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("dataio: %s: %w", path, err)
		}
		return nil
	})
}
