package digits

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/tensor"
)

// uciCSV is the UCI optical digits test set as scikit-learn ships it: one
// digit a line, 64 pixel counts (0..16, row-major 8×8) then the label.
// Provenance and licences: digits.csv.gz.LICENSE.
//
//go:embed digits.csv.gz
var uciCSV []byte

// uciFile names the embedded file in error messages.
const uciFile = "digits.csv.gz (embedded)"

// UCISize is the number of images in the UCI optical digits set.
const UCISize = 1797

// MaxCount is the largest value of an 8×8 UCI-style cell: the number of
// pixels of a 4×4 block. Datasets of this package scale counts by 1/MaxCount.
const MaxCount = 16

// DigitClasses names the ten digit classes: DigitClasses[k] is "k".
var DigitClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// UCI returns the UCI "Optical Recognition of Handwritten Digits" test set
// (1,797 images from 13 writers, the set scikit-learn's load_digits returns)
// as a dataset named "uci" of shape (1797, 1, 8, 8) with labels 0..9. Each
// pixel is the count of ink pixels in a 4×4 block of a 32×32 bitmap divided
// by MaxCount, so values lie in [0, 1] (multiples of 1/16); UCICounts keeps
// the raw counts.
func UCI() (*data.Dataset, error) {
	return uci(1.0 / MaxCount)
}

// UCICounts is UCI with the raw counts 0..16 as the pixel values.
func UCICounts() (*data.Dataset, error) {
	return uci(1)
}

func uci(scale float32) (*data.Dataset, error) {
	counts, labels, err := parseUCI(uciCSV, uciFile)
	if err != nil {
		return nil, err
	}
	x := make([]float32, len(counts))
	for i, c := range counts {
		x[i] = float32(c) * scale
	}
	return data.New("uci", tensor.Wrap(x, len(labels), 1, 8, 8), labels, DigitClasses)
}

// parseUCI reads the gzipped CSV: 65 integers a line, the first 64 pixel
// counts in [0, 16] and the last a label in [0, 9]. Errors name the file, the
// line and the field.
func parseUCI(gz []byte, name string) (counts []uint8, labels []int, err error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, nil, fmt.Errorf("digits: %s: %v", name, err)
	}
	defer zr.Close()
	sc := bufio.NewScanner(zr)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if len(fields) != 65 {
			return nil, nil, fmt.Errorf("digits: %s: line %d has %d fields, want 65 (64 pixels and a label)", name, line, len(fields))
		}
		for j, f := range fields {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			hi := MaxCount
			if j == 64 {
				hi = 9
			}
			if err != nil || v < 0 || v > hi {
				return nil, nil, fmt.Errorf("digits: %s: line %d field %d is %q, want an integer in [0, %d]", name, line, j+1, f, hi)
			}
			if j == 64 {
				labels = append(labels, v)
			} else {
				counts = append(counts, uint8(v))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("digits: %s: after line %d: %v", name, line, err)
	}
	if len(labels) == 0 {
		return nil, nil, fmt.Errorf("digits: %s: no digits", name)
	}
	return counts, labels, nil
}
