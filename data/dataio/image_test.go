package dataio

import (
	"bytes"
	"cmp"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/graftml/graft/data"
	"github.com/graftml/graft/internal/testenv"
	"github.com/graftml/graft/tensor"
)

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Pixel values of hand-made images in each colour model.
func TestReadImageValues(t *testing.T) {
	rgb := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	rgb.SetNRGBA(0, 0, color.NRGBA{255, 128, 0, 255})
	rgb.SetNRGBA(1, 0, color.NRGBA{200, 100, 50, 0}) // fully transparent: colour kept
	gray := image.NewGray(image.Rect(0, 0, 1, 2))
	gray.SetGray(0, 0, color.Gray{51})
	gray.SetGray(0, 1, color.Gray{255})
	g16 := image.NewGray16(image.Rect(0, 0, 1, 1))
	g16.SetGray16(0, 0, color.Gray16{Y: 1000})
	pal := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.NRGBA{0, 0, 0, 255}, color.NRGBA{10, 20, 30, 255}})
	pal.SetColorIndex(0, 0, 1)

	cases := []struct {
		name  string
		img   image.Image
		gray  bool
		shape []int
		want  []float32
	}{
		{"rgb", rgb, false, []int{3, 1, 2}, []float32{1, 200.0 / 255, 128.0 / 255, 100.0 / 255, 0, 50.0 / 255}},
		{"rgb as gray", rgb, true, []int{1, 1, 2}, []float32{float32(0.299 + 0.587*128.0/255), float32((0.299*200 + 0.587*100 + 0.114*50) / 255)}},
		{"gray", gray, true, []int{1, 2, 1}, []float32{0.2, 1}},
		{"gray as rgb", gray, false, []int{3, 2, 1}, []float32{0.2, 1, 0.2, 1, 0.2, 1}},
		{"gray16", g16, true, []int{1, 1, 1}, []float32{1000.0 / 65535}},
		{"paletted", pal, false, []int{3, 1, 1}, []float32{10.0 / 255, 20.0 / 255, 30.0 / 255}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, err := ReadImage(writeBytes(t, "img.png", encodePNG(t, c.img)), ImageOptions{Gray: c.gray})
			if err != nil {
				t.Fatal(err)
			}
			checkTensor(t, x, c.shape, c.want)
		})
	}
}

func TestReadImageResize(t *testing.T) {
	// A uniform image stays uniform at any size.
	img := image.NewNRGBA(image.Rect(0, 0, 6, 4))
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []uint8{51, 102, 204, 255})
	}
	p := writeBytes(t, "u.png", encodePNG(t, img))
	for _, opt := range []ImageOptions{{Width: 3, Height: 2}, {Width: 9, Height: 7}, {Width: 3}, {Height: 5}} {
		x, err := ReadImage(p, opt)
		if err != nil {
			t.Fatal(err)
		}
		w, h := cmp.Or(opt.Width, 6), cmp.Or(opt.Height, 4)
		if !slices.Equal(x.Shape(), []int{3, h, w}) {
			t.Fatalf("%+v: shape %v, want [3 %d %d]", opt, x.Shape(), h, w)
		}
		for i, v := range x.Data() {
			want := []float32{0.2, 0.4, 0.8}[i/(h*w)]
			if math.Abs(float64(v-want)) > 1e-4 {
				t.Fatalf("%+v: value %d = %v, want %v", opt, i, v, want)
			}
		}
	}
	// Halving a horizontal ramp keeps its mean and its order.
	ramp := image.NewGray(image.Rect(0, 0, 8, 1))
	for x := range 8 {
		ramp.Pix[x] = uint8(30 * x)
	}
	x, err := ReadImage(writeBytes(t, "r.png", encodePNG(t, ramp)), ImageOptions{Width: 4, Height: 1, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	d := x.Data()
	mean := (d[0] + d[1] + d[2] + d[3]) / 4
	if math.Abs(float64(mean)-105.0/255) > 0.01 || !(d[0] < d[1] && d[1] < d[2] && d[2] < d[3]) {
		t.Fatalf("halved ramp %v: mean %v, want about %v and increasing", d, mean, 105.0/255)
	}
}

func TestReadImageBadInput(t *testing.T) {
	good := encodePNG(t, image.NewGray(image.Rect(0, 0, 50, 50)))
	// A PNG header declaring 100000×100000 pixels (checksum fixed up).
	huge := bytes.Clone(good[:33])
	copy(huge[16:24], []byte{0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0})
	crc := crc32.ChecksumIEEE(huge[12:29])
	copy(huge[29:33], []byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	huge = append(huge, good[33:]...)

	cases := []struct {
		name   string
		file   []byte
		offset int64
		parts  []string
	}{
		{"text", []byte("hello, world"), 0, []string{"not a PNG or JPEG image", "68 65 6C 6C"}},
		{"truncated png", good[:len(good)-20], int64(len(good) - 20), []string{fmt.Sprintf("truncated at byte %d", len(good)-20), "PNG image data ends early"}},
		{"huge png", huge, 0, []string{"100000×100000 pixels"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeBytes(t, "bad.png", c.file)
			_, err := ReadImage(p, ImageOptions{})
			checkFormatError(t, err, c.offset, append(c.parts, p)...)
		})
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	p := writeBytes(t, "cut.jpg", jb.Bytes()[:jb.Len()/2])
	_, err := ReadImage(p, ImageOptions{})
	checkErrorContains(t, err, p, "JPEG")
}

// makeImages returns n RGB images of h×w whose channel c at (y, x) in image
// i is (i*31 + c*7 + y*5 + x*3) % 256 / 255, as an (n, 3, h, w) tensor.
func makeImages(n, h, w int) *tensor.Tensor {
	x := tensor.Zeros(n, 3, h, w)
	d := x.Data()
	for i := range n {
		for c := range 3 {
			for y := range h {
				for xx := range w {
					d[((i*3+c)*h+y)*w+xx] = float32((i*31+c*7+y*5+xx*3)%256) / 255
				}
			}
		}
	}
	return x
}

func TestImageFolderRoundTrip(t *testing.T) {
	x := makeImages(5, 3, 4)
	ds, err := data.New("pets", x, []int{1, 0, 1, 1, 0}, []string{"dog", "cat", "emu"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pets")
	if err := WriteImageFolder(dir, ds); err != nil {
		t.Fatal(err)
	}
	// Clutter the reader must skip.
	for _, f := range []string{"cat/.DS_Store", "cat/notes.txt", "readme.md"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, ".cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := ReadImageFolder(dir, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Classes sorted (the empty "emu" folder kept); examples class by class.
	// Labels were 1 0 1 1 0 with 1 = "cat": cat's examples 0, 2, 3 come first.
	if !slices.Equal(got.Classes, []string{"cat", "dog", "emu"}) || !slices.Equal(got.Labels, []int{0, 0, 0, 1, 1}) || got.Name != "pets" {
		t.Fatalf("classes %v labels %v name %q", got.Classes, got.Labels, got.Name)
	}
	want := ds.Subset([]int{0, 2, 3, 1, 4}).X
	checkTensor(t, got.X, []int{5, 3, 3, 4}, want.Data())

	// Grey, no class names: numbered folders, zero-padded so they sort.
	gray := x.IndexSelect(1, []int{0})
	labels := []int{10, 2, 0, 10, 2}
	ds, _ = data.New("g", gray, labels, nil)
	dir = filepath.Join(t.TempDir(), "g")
	if err := WriteImageFolder(dir, ds); err != nil {
		t.Fatal(err)
	}
	got, err = ReadImageFolder(dir, ImageOptions{Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Classes) != 11 || got.Classes[2] != "02" || got.Classes[10] != "10" || !slices.Equal(got.Labels, []int{0, 2, 2, 10, 10}) {
		t.Fatalf("classes %v labels %v", got.Classes, got.Labels)
	}
	checkTensor(t, got.X, []int{5, 1, 3, 4}, gray.IndexSelect(0, []int{2, 1, 4, 0, 3}).Data())

	// Writing refuses what cannot be read back.
	checkErrorContains(t, WriteImageFolder(dir, ds), "not empty")
	bad, _ := data.New("b", gray, labels[:5], slices.Repeat([]string{"a/b"}, 11))
	checkErrorContains(t, WriteImageFolder(filepath.Join(t.TempDir(), "b"), bad), `"a/b"`)
	flat, _ := data.New("f", tensor.Zeros(2, 5), []int{0, 1}, nil)
	checkErrorContains(t, WriteImageFolder(filepath.Join(t.TempDir(), "f"), flat), "(N,C,H,W)", "(2,5)")
	unl, _ := data.New("u", gray, nil, nil)
	checkErrorContains(t, WriteImageFolder(filepath.Join(t.TempDir(), "u"), unl), "no labels")
}

func TestReadImageFolderErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadImageFolder(dir, ImageOptions{})
	checkErrorContains(t, err, dir, "no class subdirectories")
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	os.MkdirAll(filepath.Join(dir, "b", "nested"), 0o755)
	_, err = ReadImageFolder(dir, ImageOptions{})
	checkErrorContains(t, err, "no .png, .jpg or .jpeg images", "a, b")

	os.WriteFile(filepath.Join(dir, "a", "1.png"), encodePNG(t, image.NewGray(image.Rect(0, 0, 28, 28))), 0o644)
	os.WriteFile(filepath.Join(dir, "b", "nested", "2.PNG"), encodePNG(t, image.NewGray(image.Rect(0, 0, 30, 20))), 0o644)
	_, err = ReadImageFolder(dir, ImageOptions{})
	checkErrorContains(t, err, filepath.Join("b", "nested", "2.PNG"), "30×20", "1.png is 28×28", "Width and Height")
	ds, err := ReadImageFolder(dir, ImageOptions{Width: 14, Height: 14, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.X.Shape(), []int{2, 1, 14, 14}) || !slices.Equal(ds.Labels, []int{0, 1}) {
		t.Fatalf("resized: shape %v labels %v", ds.X.Shape(), ds.Labels)
	}
	os.WriteFile(filepath.Join(dir, "b", "3.jpg"), []byte("not a jpeg"), 0o644)
	_, err = ReadImageFolder(dir, ImageOptions{Width: 14, Height: 14})
	checkErrorContains(t, err, filepath.Join("b", "3.jpg"), "not a PNG or JPEG")
}

// Images written and decoded by PIL, read by Go; a folder written by Go,
// read by PIL.
func TestImagesAgainstPIL(t *testing.T) {
	python := testenv.RequirePython(t, "numpy", "PIL")
	dir := t.TempDir()
	if out, err := exec.Command(python, filepath.Join("testdata", "image_ref.py"), "write", dir).CombinedOutput(); err != nil {
		t.Fatalf("image_ref.py write: %v\n%s", err, out)
	}
	for _, name := range []string{"rgb.png", "l.png", "p.png", "rgba.png", "i16.png", "smooth.jpg", "gray.jpg"} {
		for _, gray := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s gray=%v", name, gray), func(t *testing.T) {
				x, err := ReadImage(filepath.Join(dir, name), ImageOptions{Gray: gray})
				if err != nil {
					t.Fatal(err)
				}
				ref := "rgb"
				if gray {
					ref = "l"
				}
				want, err := ReadNPY(filepath.Join(dir, name+"."+ref+".npy"))
				if err != nil {
					t.Fatal(err)
				}
				if !gray {
					want = want.Permute(2, 0, 1) // (H,W,3) → (3,H,W)
				} else {
					want = want.Reshape(append([]int{1}, want.Shape()...)...)
				}
				if name == "i16.png" {
					// PIL clips 16-bit values to 8 bits; graft scales them.
					want = tensor.Arange(0, 20, 1).Scale(3000.0/65535).Reshape(1, 4, 5)
					if !gray {
						want = tensor.Concat(0, want, want, want)
					}
				}
				// PNG: exact colour; PIL rounds luma to 8 bits. JPEG: two
				// decoders, a little apart.
				tol, meanTol := 1e-6, 1e-6
				if gray {
					tol, meanTol = 0.5/255+1e-6, 0.5/255
				}
				if strings.HasSuffix(name, ".jpg") {
					tol, meanTol = 3.0/255, 1.0/255
				}
				maxDiff, meanDiff := compareTensors(t, x, want)
				t.Logf("max |Go-PIL| = %.2f/255, mean %.3f/255", maxDiff*255, meanDiff*255)
				if maxDiff > tol || meanDiff > meanTol {
					t.Fatalf("max difference %v (tolerance %v), mean %v (tolerance %v)", maxDiff, tol, meanDiff, meanTol)
				}
			})
		}
	}
	t.Run("folder", func(t *testing.T) {
		ds, err := ReadImageFolder(filepath.Join(dir, "folder"), ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := ReadNPZ(filepath.Join(dir, "folder.npz"))
		if err != nil {
			t.Fatal(err)
		}
		checkTensor(t, ds.X, ref["x"].Shape(), ref["x"].Data())
		if !slices.Equal(ds.Labels, []int{0, 1, 1, 2, 2, 2}) || !slices.Equal(ds.Classes, []string{"ant", "bee", "cat"}) {
			t.Fatalf("labels %v classes %v", ds.Labels, ds.Classes)
		}
	})
	t.Run("Go folder read by PIL", func(t *testing.T) {
		ds, _ := data.New("go", makeImages(5, 6, 7), []int{1, 0, 1, 1, 0}, []string{"dog", "cat"})
		if err := WriteImageFolder(filepath.Join(dir, "go"), ds); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(python, filepath.Join("testdata", "image_ref.py"), "check", dir).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Fatalf("PIL disagrees: %v\n%s", err, out)
		}
	})
}

// compareTensors returns the largest and the mean absolute difference of
// two tensors of the same shape.
func compareTensors(t *testing.T, a, b *tensor.Tensor) (maxDiff, meanDiff float64) {
	t.Helper()
	if !slices.Equal(a.Shape(), b.Shape()) {
		t.Fatalf("shape %v, want %v", a.Shape(), b.Shape())
	}
	ad, bd := a.Data(), b.Data()
	for i := range ad {
		d := math.Abs(float64(ad[i] - bd[i]))
		maxDiff = max(maxDiff, d)
		meanDiff += d
	}
	return maxDiff, meanDiff / float64(len(ad))
}

func TestWriteImage(t *testing.T) {
	dir := t.TempDir()
	// Values outside [0, 1] (and NaN) are clamped; the rest round to 8 bits.
	rgb := tensor.New([]float32{0, 0.5, 1, -3, 7, float32(math.NaN()), 0.2, 0.4, 0.6, 0.8, 1.0 / 255, 254.4 / 255}, 3, 2, 2)
	p := filepath.Join(dir, "rgb.png")
	if err := WriteImage(p, rgb); err != nil {
		t.Fatal(err)
	}
	got, err := ReadImage(p, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, got, []int{3, 2, 2}, []float32{0, 128.0 / 255, 1, 0, 1, 0, 51.0 / 255, 102.0 / 255, 153.0 / 255, 204.0 / 255, 1.0 / 255, 254.0 / 255})
	gray := tensor.New([]float32{0.2, 0.6, 1}, 1, 1, 3)
	p = filepath.Join(dir, "g.png")
	if err := WriteImage(p, gray); err != nil {
		t.Fatal(err)
	}
	got, err = ReadImage(p, ImageOptions{Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	checkTensor(t, got, []int{1, 1, 3}, []float32{0.2, 0.6, 1})
	checkErrorContains(t, WriteImage(filepath.Join(dir, "x.png"), tensor.Zeros(2, 4, 4)), "x.png", "1 or 3 channels", "(2,4,4)")
}
