package install

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// Logo colours: Go's blue behind a white G.
var (
	logoBackground = color.NRGBA{0x00, 0xad, 0xd8, 0xff}
	logoForeground = color.NRGBA{0xff, 0xff, 0xff, 0xff}
)

// Logo returns graft's kernel logo as a size×size PNG: a white G on a
// rounded Go-blue square, anti-aliased. Jupyter frontends show
// logo-32x32.png and logo-64x64.png from the kernelspec directory.
func Logo(size int) []byte {
	img := logoImage(size)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic("install: encoding the logo: " + err.Error()) // cannot fail on an in-memory image
	}
	return buf.Bytes()
}

// logoSamples is the supersampling grid per pixel side.
const logoSamples = 4

func logoImage(size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			var bg, fg int
			for sy := range logoSamples {
				for sx := range logoSamples {
					// The sample's position in the unit square.
					u := (float64(x) + (float64(sx)+0.5)/logoSamples) / float64(size)
					v := (float64(y) + (float64(sy)+0.5)/logoSamples) / float64(size)
					if !inRoundedSquare(u, v) {
						continue
					}
					bg++
					if inG(u, v) {
						fg++
					}
				}
			}
			n := logoSamples * logoSamples
			if bg == 0 {
				continue
			}
			// Blend the white over the blue by the G's coverage; the alpha is
			// the square's coverage.
			mix := func(b, f uint8) uint8 {
				return uint8((int(b)*(bg-fg) + int(f)*fg + bg/2) / bg)
			}
			img.SetNRGBA(x, y, color.NRGBA{
				R: mix(logoBackground.R, logoForeground.R),
				G: mix(logoBackground.G, logoForeground.G),
				B: mix(logoBackground.B, logoForeground.B),
				A: uint8((255*bg + n/2) / n),
			})
		}
	}
	return img
}

// inRoundedSquare reports whether (u, v) lies in the unit square with
// corners rounded to radius 0.2.
func inRoundedSquare(u, v float64) bool {
	const r = 0.2
	cx := math.Min(math.Max(u, r), 1-r)
	cy := math.Min(math.Max(v, r), 1-r)
	return math.Hypot(u-cx, v-cy) <= r
}

// The G: a thick ring open at the upper right, with a bar from the centre to
// the right edge just below the centre line.
const (
	gOuter = 0.34
	gInner = 0.20
)

func inG(u, v float64) bool {
	dx, dy := u-0.5, 0.5-v // y up
	r := math.Hypot(dx, dy)
	angle := math.Atan2(dy, dx) * 180 / math.Pi // 0 at the right, counter-clockwise
	inRing := r >= gInner && r <= gOuter && !(angle > 0 && angle < 50)
	inBar := dx >= 0 && dx <= gOuter && dy <= 0 && dy >= -(gOuter-gInner)
	return inRing || inBar
}
