// Package dataio reads and writes the file formats datasets come in: IDX
// (the MNIST family, optionally gzipped), NumPy's NPY and NPZ, CSV tables,
// and folders of PNG/JPEG images laid out one subdirectory per class. Readers
// return float32 tensors, integer label slices or *data.Dataset values;
// writers produce files the reference tools (NumPy, torchvision) read back.
//
// Every reader treats its input as untrusted: a truncated file, a file of
// another format or a header that promises more data than the file holds is
// reported as an error naming the file and the byte offset where reading
// failed, and no allocation is made for data a file does not actually
// contain.
package dataio
