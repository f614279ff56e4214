package digits_test

import (
	"fmt"

	"github.com/graftml/graft/data/digits"
)

func ExampleUCICounts() {
	d, err := digits.UCICounts()
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Name, d.X.Shape(), d.Labels[:10])
	fmt.Println("first row of the first digit:", d.X.Data()[:8])
	// Output:
	// uci [1797 1 8 8] [0 1 2 3 4 5 6 7 8 9]
	// first row of the first digit: [0 0 5 13 9 1 0 0]
}
