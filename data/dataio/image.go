package dataio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers the JPEG decoder with image.Decode
	"image/png"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/image/draw"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/tensor"
)

// ImageOptions says how images become tensors.
type ImageOptions struct {
	// Width and Height, when not 0, resize every image to that many
	// columns and rows (bilinear, smoothing when shrinking). A 0 keeps the
	// images' own size in that direction; in a folder all images must then
	// agree on it.
	Width, Height int
	// Gray makes one channel of luma (0.299 R + 0.587 G + 0.114 B, ITU-R
	// 601, as PIL's convert("L") but not rounded to 8 bits) instead of three
	// channels R, G, B.
	Gray bool
}

// maxImagePixels bounds the size an image header may declare, so that a
// hostile header cannot force a huge allocation.
const maxImagePixels = 1 << 26

// imageExts are the file name extensions ReadImageFolder reads.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

// ReadImage reads the PNG or JPEG image at path (the format is found from
// the contents) into a (C, H, W) tensor with values in [0, 1]: C is 3 (R,
// G, B) or 1 with opt.Gray. Grey images give three equal channels unless
// Gray; transparency is dropped, keeping each pixel's colour.
func ReadImage(path string, opt ImageOptions) (*tensor.Tensor, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeImage(f, path, opt)
}

// DecodeImage reads one PNG or JPEG image from r, as ReadImage does from a
// file; name identifies r in error messages.
func DecodeImage(r io.Reader, name string, opt ImageOptions) (*tensor.Tensor, error) {
	img, err := decodeImage(r, name)
	if err != nil {
		return nil, err
	}
	if opt.Width < 0 || opt.Height < 0 {
		return nil, fmt.Errorf("dataio: %s: image size %d×%d is negative", name, opt.Width, opt.Height)
	}
	img = resize(img, opt)
	b := img.Bounds()
	c := 3
	if opt.Gray {
		c = 1
	}
	t := tensor.Zeros(c, b.Dy(), b.Dx())
	pixels(img, opt.Gray, t.Data())
	return t, nil
}

// decodeImage checks the declared size and decodes the image. Errors name
// the file and the byte where decoding stopped.
func decodeImage(r io.Reader, name string) (image.Image, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("dataio: %s: %w", name, err)
	}
	var format string
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		format = "PNG"
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8}):
		format = "JPEG"
	default:
		return nil, errAt(name, 0, "not a PNG or JPEG image: it starts with bytes % X", b[:min(len(b), 8)])
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, imageError(name, format, b, err)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxImagePixels {
		return nil, errAt(name, 0, "%s header declares %d×%d pixels, over the %d this reader accepts", format, cfg.Width, cfg.Height, maxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, imageError(name, format, b, err)
	}
	return img, nil
}

// imageError reports a decoder's complaint; a file that ends early is
// reported as truncated at its last byte.
func imageError(name, format string, b []byte, err error) error {
	// The PNG decoder reports a short file as a format error whose text
	// says "unexpected EOF" rather than wrapping io.ErrUnexpectedEOF.
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || strings.Contains(err.Error(), "unexpected EOF") {
		return &FormatError{File: name, Offset: int64(len(b)), Msg: fmt.Sprintf("truncated at byte %d: the %s image data ends early", len(b), format)}
	}
	return fmt.Errorf("dataio: %s: bad %s image (file of %d bytes): %w", name, format, len(b), err)
}

// resize scales img to the size opt asks for (a 0 keeps that dimension).
func resize(img image.Image, opt ImageOptions) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if opt.Width > 0 {
		w = opt.Width
	}
	if opt.Height > 0 {
		h = opt.Height
	}
	if w == b.Dx() && h == b.Dy() {
		return img
	}
	// Work on non-premultiplied colour so that resizing a transparent
	// image keeps the colours pixels are read with.
	src := image.NewNRGBA64(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			c.A = 0xffff
			src.SetNRGBA64(x, y, c)
		}
	}
	dst := image.NewNRGBA64(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst
}

// pixels writes img's channels, in [0, 1], into out (C×H×W, row-major).
func pixels(img image.Image, gray bool, out []float32) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	if g, ok := img.(*image.Gray); ok {
		for y := range h {
			off := g.PixOffset(b.Min.X, b.Min.Y+y)
			row := g.Pix[off : off+w]
			for x, v := range row {
				f := float32(v) / 255
				out[y*w+x] = f
				if !gray {
					out[plane+y*w+x] = f
					out[2*plane+y*w+x] = f
				}
			}
		}
		return
	}
	for y := range h {
		for x := range w {
			r, g, bl := nonPremultiplied(img.At(b.Min.X+x, b.Min.Y+y))
			i := y*w + x
			if gray {
				out[i] = float32(0.299*r + 0.587*g + 0.114*bl)
				continue
			}
			out[i], out[plane+i], out[2*plane+i] = float32(r), float32(g), float32(bl)
		}
	}
}

// nonPremultiplied returns a colour's red, green and blue in [0, 1],
// ignoring its alpha.
func nonPremultiplied(c color.Color) (r, g, b float64) {
	switch c := c.(type) {
	case color.Gray:
		v := float64(c.Y) / 255
		return v, v, v
	case color.Gray16:
		v := float64(c.Y) / 65535
		return v, v, v
	case color.NRGBA:
		return float64(c.R) / 255, float64(c.G) / 255, float64(c.B) / 255
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return float64(n.R) / 65535, float64(n.G) / 65535, float64(n.B) / 65535
}

// ReadImageFolder reads a folder of images laid out as torchvision's
// ImageFolder expects — dir/<class>/<image>.png|.jpg|.jpeg, images possibly
// in nested folders — into a dataset: X is (N, C, H, W) in [0, 1] (see
// ReadImage for C), labels index the classes, which are the sorted names of
// dir's subdirectories. Images come class by class, each class's in file
// name order. Names starting with '.' and files with other extensions are
// skipped; a class folder without images stays a class. Without Width and
// Height set, all images must have the same size.
func ReadImageFolder(dir string, opt ImageOptions) (*data.Dataset, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataio: %w", err)
	}
	var classes []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			classes = append(classes, e.Name())
		}
	}
	sort.Strings(classes)
	if len(classes) == 0 {
		return nil, fmt.Errorf("dataio: %s: no class subdirectories (want %s/<class>/<image>.png)", dir, dir)
	}
	var files []string
	var labels []int
	for label, class := range classes {
		err := filepath.WalkDir(filepath.Join(dir, class), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && imageExts[strings.ToLower(filepath.Ext(p))] {
				files = append(files, p)
				labels = append(labels, label)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dataio: %w", err)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("dataio: %s: no .png, .jpg or .jpeg images in the class folders %s", dir, strings.Join(classes, ", "))
	}
	var x *tensor.Tensor
	var size int
	for i, p := range files {
		img, err := ReadImage(p, opt)
		if err != nil {
			return nil, err
		}
		if x == nil {
			shape := append([]int{len(files)}, img.Shape()...)
			x = tensor.Zeros(shape...)
			size = img.Len()
		} else if !slices.Equal(img.Shape(), x.Shape()[1:]) {
			return nil, fmt.Errorf("dataio: %s: image is %d×%d but %s is %d×%d; set ImageOptions Width and Height to resize", p, img.Dim(2), img.Dim(1), files[0], x.Dim(3), x.Dim(2))
		}
		copy(x.Data()[i*size:(i+1)*size], img.Data())
	}
	return data.New(filepath.Base(filepath.Clean(dir)), x, labels, classes)
}

// WriteImage writes t, a (C, H, W) tensor with C 1 (grey) or 3 (R, G, B)
// and values in [0, 1] (clamped, then rounded to 8 bits), to path as a PNG.
func WriteImage(path string, t *tensor.Tensor) error {
	if t.Dims() != 3 || (t.Dim(0) != 1 && t.Dim(0) != 3) {
		return fmt.Errorf("dataio: %s: an image must be (C,H,W) with 1 or 3 channels, got %s", path, tensor.FormatShape(t.Shape()))
	}
	img := toImage(t.Data(), t.Dim(0), t.Dim(1), t.Dim(2))
	return writeFile(path, func(w io.Writer) error {
		if err := png.Encode(w, img); err != nil {
			return fmt.Errorf("dataio: %s: %w", path, err)
		}
		return nil
	})
}

// toImage converts C×H×W values in [0, 1] to an 8-bit image.
func toImage(v []float32, c, h, w int) image.Image {
	q := func(f float32) uint8 {
		if !(f > 0) { // also NaN
			return 0
		}
		if f >= 1 {
			return 255
		}
		return uint8(math.Round(float64(f) * 255))
	}
	plane := h * w
	if c == 1 {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i := range plane {
			img.Pix[i] = q(v[i])
		}
		return img
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range plane {
		img.Pix[4*i] = q(v[i])
		img.Pix[4*i+1] = q(v[plane+i])
		img.Pix[4*i+2] = q(v[2*plane+i])
		img.Pix[4*i+3] = 255
	}
	return img
}

// WriteImageFolder writes ds, whose X is (N, C, H, W) with C 1 or 3 and
// values in [0, 1], as PNG files in the layout ReadImageFolder reads:
// dir/<class>/<index>.png, with one folder per class (the class names, or
// zero-padded label numbers when ds.Classes is nil) even for classes without
// examples. ReadImageFolder numbers classes in sorted order, so labels keep
// their numbers when the class names are sorted (as the zero-padded numbers
// are). Files are named by the example's index, zero-padded, so each class
// keeps its order. dir must be empty or not exist yet.
func WriteImageFolder(dir string, ds *data.Dataset) error {
	if ds == nil || ds.X == nil || ds.X.Dims() != 4 || (ds.X.Dim(1) != 1 && ds.X.Dim(1) != 3) {
		shape := "no tensor"
		if ds != nil && ds.X != nil {
			shape = tensor.FormatShape(ds.X.Shape())
		}
		return fmt.Errorf("dataio: %s: images must be (N,C,H,W) with 1 or 3 channels, got %s", dir, shape)
	}
	if ds.Labels == nil {
		return fmt.Errorf("dataio: %s: dataset %q has no labels; an image folder stores each image under its class", dir, ds.Name)
	}
	names := ds.Classes
	if names == nil {
		top := 0
		for _, l := range ds.Labels {
			top = max(top, l)
		}
		width := len(strconv.Itoa(top))
		for l := 0; l <= top; l++ {
			names = append(names, fmt.Sprintf("%0*d", width, l))
		}
	}
	for _, n := range names {
		if n == "" || n == "." || n == ".." || strings.HasPrefix(n, ".") || strings.ContainsAny(n, `/\`) {
			return fmt.Errorf("dataio: %s: class name %q cannot be a folder name that ReadImageFolder reads back", dir, n)
		}
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("dataio: %s: folder is not empty; images already there would be read back with the new ones", dir)
	}
	for _, n := range names {
		if err := os.MkdirAll(filepath.Join(dir, n), 0o755); err != nil {
			return fmt.Errorf("dataio: %w", err)
		}
	}
	n, c, h, w := ds.X.Dim(0), ds.X.Dim(1), ds.X.Dim(2), ds.X.Dim(3)
	digits := len(strconv.Itoa(max(n-1, 0)))
	vals := ds.X.Data()
	for i := range n {
		p := filepath.Join(dir, names[ds.Labels[i]], fmt.Sprintf("%0*d.png", digits, i))
		img := toImage(vals[i*c*h*w:(i+1)*c*h*w], c, h, w)
		err := writeFile(p, func(wr io.Writer) error {
			if err := png.Encode(wr, img); err != nil {
				return fmt.Errorf("dataio: %s: %w", p, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
