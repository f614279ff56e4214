package cell

import (
	"fmt"
	"testing"
)

func TestScratch(t *testing.T) {
	s := newSession(t)
	for _, src := range []string{
		`m := map[string]int{"x": 5}`,
		`xs := []int{1, 3, 5}`,
		`func One[T any](t T) func() T { return func() T { return t } }`,
		`func Id[T any](t T) T { return t }`,
		`a1 := Id(3); a1`,
		`a2 := Id[int](3); a2`,
		`a3 := One(3); a3()`,
		`func t1() int { v := One[int](4); return v() }`,
		`t1()`,
		`func t2() []int { v := slicesʹCollect[int](mapsʹValues(m)); return v }`,
		`t2()`,
		`var x6 []int; x6 = slicesʹCollect[int](mapsʹValues(m)); x6`,
		`var x7 []int = slicesʹCollect[int](mapsʹValues(m)); x7`,
		`var x8 func() int; x8 = One[int](5); x8()`,
		`var i3 int; var ok3 bool; i3, ok3 = slicesʹBinarySearch[int](xs, 3); i3`,
		`func() { q := One[int](6); fmt.Println(q()) }()`,
		`import "fmt"`,
		`func() { q := One[int](6); fmt.Println(q()) }()`,
		`func() { q := slicesʹCollect[int](mapsʹValues(m)); fmt.Println(q) }()`,
		`x9 := []int{}; x9 = slicesʹCollect[int](mapsʹValues(m)); x9`,
	} {
		v, err := s.eval(src)
		if err != nil {
			fmt.Printf("%q => ERR %v\n", src, err)
		} else if v.IsValid() {
			fmt.Printf("%q => %v\n", src, v)
		}
	}
}
